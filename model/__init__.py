"""The BPF ring buffer protocol as an explicit-state transition system.

Public entry points: ``Config`` (what to model), ``RingBufModel`` (initial
states, successors, apply, is_terminal), ``State`` and ``Action``; ``build_model``
gives the model of a configuration's map type (``model.userring`` for the user ring).
"""

from model.actions import Action, parse_action
from model.config import Config, ConfigError
from model.ringbuf import RingBufModel, build_model
from model.state import State
from model.steps import STEPS

__all__ = ["Action", "Config", "ConfigError", "RingBufModel", "STEPS", "State", "build_model", "parse_action"]

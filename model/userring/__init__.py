"""The user ring buffer (BPF_MAP_TYPE_USER_RINGBUF) as an explicit-state transition system.

User space produces (``model.userring.producer``: libbpf; ``model.userring.hostile``:
anything), BPF programs drain (``model.userring.drain``); ``UserRingModel`` is the
engines' interface and ``UserRingOperations`` the sequential API. See docs/user-ringbuf.md.
"""

from model.userring.model import UserRingModel
from model.userring.state import UserState

STEP_PREFIXES = ("user.", "drain.")
"""Every step the user ring registers in ``model.steps.STEPS`` starts with one of these."""


def is_user_ring_step(name: str) -> bool:
    """True for a step of the user ring model (its accesses are checked by tests/model/userring)."""
    return name.startswith(STEP_PREFIXES)


__all__ = ["STEP_PREFIXES", "UserRingModel", "UserState", "is_user_ring_step"]

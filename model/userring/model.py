"""The user ring buffer model: the same interface as ``model.ringbuf.RingBufModel``.

``UserRingModel`` offers the initial state, the successors of a state,
``apply`` for one named action, and when a state is terminal, so every
engine (BFS, DFS, simulation, trace replay, conformance) runs it unchanged.
Actors: ``user`` (libbpf's producer, or hostile user space) and the drains
``d0`` (and ``d1`` with ``Config.drains=2``).
"""

from __future__ import annotations

from typing import Callable

from model.actions import Action
from model.config import Config
from model.userring.drain import PEEK_CHECKS, Check, drain_actor, drain_steps
from model.userring.hostile import hostile_done, hostile_step, hostile_steps
from model.userring.producer import USER_ACTOR, user_done, user_steps
from model.userring.state import D_IDLE, UserState, initial_user_state


class UserRingModel:
    """docs/protocol.md#5 (docs/user-ringbuf.md) for one configuration (``Config.map == "user"``)."""

    weak = None
    """The user ring model is sequentially consistent (``Config`` refuses weak memory for it)."""
    bound_hit = False
    memory_bound = None

    def __init__(self, config: Config, start: int = 0, checks: tuple[Check, ...] = PEEK_CHECKS) -> None:
        if config.map != "user":
            raise ValueError(f"UserRingModel models map user, not {config.map}; use model.ringbuf.build_model")
        self.config = config
        self.start = start
        """Initial value of both positions (0 per docs/protocol.md#8; nonzero to exercise wrap-around)."""
        self.checks = checks
        """The drain's per-sample checks (``model.userring.drain.PEEK_CHECKS``; tests delete one)."""
        self.actor_names = [USER_ACTOR] + [drain_actor(d) for d in range(config.drains)]

    def initial_states(self) -> list[UserState]:
        """The one initial state: empty ring, busy word clear, every actor at its first step."""
        c = self.config
        return [initial_user_state(c.ring_size, 0 if c.hostile else c.records, c.drains, self.start)]

    def steps(self, s: UserState) -> list[tuple[Action, Callable, tuple]]:
        """Every step enabled in ``s``: (action, step function, its arguments after ``cfg, s``)."""
        cfg = self.config
        out = hostile_steps(cfg, s) if cfg.hostile else user_steps(cfg, s)
        for d in range(cfg.drains):
            out.extend(drain_steps(cfg, s, d, self.checks))
        return out

    def successors(self, s: UserState) -> list[tuple[Action, UserState]]:
        """Every (action, next state) pair enabled in ``s``: the user producer, then the drains."""
        cfg = self.config
        return [(a, fn(cfg, s, *args)) for a, fn, args in self.steps(s)]

    def step_names(self) -> list[str]:
        """The steps this configuration is made of (STEPS order): the drain's, and the
        producer's (libbpf's or hostile user space's), for coverage reports."""
        from model.steps import STEPS
        producer = "model.userring.hostile" if self.config.hostile else "model.userring.producer"
        return [n for n, info in STEPS.items() if info.module in ("model.userring.drain", producer)]

    def actions(self, s: UserState) -> list[Action]:
        """The actions enabled in ``s``."""
        return [a for a, _, _ in self.steps(s)]

    def apply(self, s: UserState, action: Action) -> UserState | None:
        """The state after ``action``, or None if it is not enabled in ``s``."""
        cfg = self.config
        if action.actor == USER_ACTOR and cfg.hostile:                  # one write, not the list of them all
            found = hostile_step(cfg, s, action)
            return None if found is None else found[0](cfg, s, *found[1])
        if action.actor == USER_ACTOR:
            candidates = user_steps(cfg, s)
        elif action.actor in self.actor_names:
            candidates = drain_steps(cfg, s, self.actor_names.index(action.actor) - 1, self.checks)
        else:
            return None
        for a, fn, args in candidates:
            if a == action:
                return fn(self.config, s, *args)
        return None

    def producers_done(self, s: UserState) -> bool:
        """The user producer has finished: libbpf's has committed every attempt, the adversary written all."""
        return hostile_done(self.config, s) if self.config.hostile else user_done(self.config, s.producer)

    def is_terminal(self, s: UserState) -> bool:
        """Nothing more will come: the producer is done, every drain idle, and (libbpf) nothing left to drain.

        Drains may always start another call; in a terminal state such a call
        changes nothing: with libbpf's producer, the drain's own test for data
        (``consumer_pos < producer_pos``, unsigned) fails. That is
        ``consumer_pos == producer_pos`` on every run that does not cross
        2**64; on one that does, a ring whose producer_pos wrapped to a small
        value is drained no further, and the delivery properties' terminal
        clauses judge it so (docs/user-ringbuf.md, the 64-bit wrap).
        """
        if not self.producers_done(s) or any(dr.pc != D_IDLE for dr in s.drains):
            return False
        return self.config.hostile or not s.consumer_pos < s.producer_pos

    def effects(self, s: UserState, action: Action) -> None:
        """Memory effects for traces: none to add under sequential consistency."""
        return None

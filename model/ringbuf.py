"""The ring buffer model: the one interface every engine talks to.

``RingBufModel`` offers what Stateright's ``Model`` trait offers: the initial
states, the successors of a state (action and next state), ``apply`` for one
named action (used when replaying traces and scenarios), and when a state is
terminal. Engines (BFS, DFS, simulation, SMT cross-check, conformance) never
reach into the step modules directly.
"""

from __future__ import annotations

from model.actions import Action, producer_index
from model.adversary import adversary_successors
from model.config import Config
from model.consumer import consumer_successors
from model.producer import producer_done, producer_successors
from model.state import C_SLEEP, State, initial_state


class RingBufModel:
    """The protocol of docs/protocol.md#3 and #4 for one configuration."""

    def __init__(self, config: Config, start: int = 0) -> None:
        self.config = config
        self.start = start
        """Initial value of every position (0 per docs/protocol.md#8; nonzero to exercise wrap-around)."""

    def initial_states(self) -> list[State]:
        """The one initial state: empty ring, every actor at its first step."""
        c = self.config
        return [initial_state(c.ring_size, c.producers, c.records, c.honest, self.start)]

    def successors(self, s: State) -> list[tuple[Action, State]]:
        """Every (action, next state) pair enabled in ``s``: producers, then consumer, irq, user."""
        cfg = self.config
        out: list[tuple[Action, State]] = []
        for p in range(cfg.producers):
            out.extend(producer_successors(cfg, s, p))
        if cfg.honest:
            out.extend(consumer_successors(cfg, s))
        else:
            out.extend(adversary_successors(cfg, s))
        return out

    def actions(self, s: State) -> list[Action]:
        """The actions enabled in ``s``."""
        return [a for a, _ in self.successors(s)]

    def apply(self, s: State, action: Action) -> State | None:
        """The state after ``action``, or None if it is not enabled in ``s``."""
        cfg = self.config
        p = producer_index(action.actor)
        if 0 <= p < cfg.producers:
            candidates = producer_successors(cfg, s, p)
        elif cfg.honest:
            candidates = consumer_successors(cfg, s)
        else:
            candidates = adversary_successors(cfg, s)
        for a, nxt in candidates:
            if a == action:
                return nxt
        return None

    def producers_done(self, s: State) -> bool:
        """Every producer has used its attempts and committed what it reserved."""
        return all(producer_done(self.config, pr) for pr in s.producers)

    def is_terminal(self, s: State) -> bool:
        """Nothing more will happen: producers done, consumer asleep (or adversarial), no irq_work queued."""
        if not self.producers_done(s) or s.irq_pending:
            return False
        return not self.config.honest or s.consumer.pc == C_SLEEP

"""The ring buffer model: the one interface every engine talks to.

``RingBufModel`` offers what Stateright's ``Model`` trait offers: the initial
states, the successors of a state (action and next state), ``apply`` for one
named action (used when replaying traces and scenarios), and when a state is
terminal. Engines (BFS, DFS, simulation, SMT cross-check, conformance) never
reach into the step modules directly.
"""

from __future__ import annotations

from model.actions import Action, producer_actor, producer_index
from model.adversary import USER_ACTOR, adversary_successors
from model.config import Config
from model.consumer import CONSUMER_ACTOR, consumer_successors
from model import consumer_overwrite
from model.producer import producer_done, producer_successors
from model.shared import WeakMemory
from model.state import C_SLEEP, State, initial_state
from model.userring.model import UserRingModel


KERNEL_RING_MODULES = ("model.producer", "model.consumer")
"""The modules whose steps every kernel ring configuration is made of (the attacker's are chosen by
power, the overwrite-safe consumer's only with that consumer)."""


class RingBufModel:
    """The protocol of docs/protocol.md#3 and #4 for one configuration."""

    def __init__(self, config: Config, start: int = 0, weak: WeakMemory | None = None) -> None:
        self.config = config
        if not 0 <= start <= config.pos_mask or start % 8:
            from model.config import ConfigError
            raise ConfigError(f"start: {start} must be a multiple of 8 in [0, 2**{config.position_bits})")
        self.start = start
        """Initial value of every position (0 per docs/protocol.md#8; nonzero to exercise wrap-around)."""
        if weak is None and config.weak:
            from model.memory import make
            weak = WeakMemory(config, make(config.memory, buffer=config.buffer, history=config.history), start)
        self.weak = weak
        """None under sc (the State is memory); else how steps reach the memory model (model.shared).
        Tests may pass one under sc too, to run the generic memory interface."""
        self.actor_names = [producer_actor(p) for p in range(config.producers)] + [
            CONSUMER_ACTOR if config.honest else USER_ACTOR, "irq"]
        """Memory actor index to action actor name."""

    @property
    def bound_hit(self) -> bool:
        """True once a store was cut by the memory model's bound: a search may not say "complete"."""
        return self.weak is not None and self.weak.bound_hit

    @property
    def memory_bound(self) -> str | None:
        """The bound's text for a verdict (``buffer=2``, ``history=3``), None under sc."""
        return None if self.weak is None else self.weak.mm.bound

    def initial_states(self) -> list[State]:
        """The one initial state: empty ring, every actor at its first step."""
        c = self.config
        s = initial_state(c.ring_size, c.producers, c.records, c.honest, self.start,
                          overwrite=c.rules.overwrite)
        return [s if self.weak is None else self.weak.initial(s)]

    def successors(self, s: State) -> list[tuple[Action, State]]:
        """Every (action, next state) pair enabled in ``s``: producers, then consumer, irq, user, then flushes."""
        cfg = self.config
        weak = self.weak
        out: list[tuple[Action, State]] = []
        for p in range(cfg.producers):
            out.extend(producer_successors(cfg, s, p, weak))
        if cfg.consumer == "overwrite-safe":
            out.extend(consumer_overwrite.consumer_successors(cfg, s))
        elif cfg.honest:
            out.extend(consumer_successors(cfg, s, weak))
        else:
            out.extend(adversary_successors(cfg, s, weak))
        if weak is not None:
            out.extend(weak.flushes(s, self.actor_names))
        return out

    def step_names(self) -> list[str]:
        """The protocol steps this configuration's model is made of (STEPS order): every
        producer and consumer step, and of the attacker's only those of its powers. Coverage
        reports count these, so a step of another model is never listed as "never fired"."""
        from model.adversary import adversary_step_names
        from model.steps import STEPS
        attacker = set(adversary_step_names(self.config)) if not self.config.honest else set()
        modules = KERNEL_RING_MODULES + (("model.consumer_overwrite",) if self.config.consumer == "overwrite-safe"
                                         else ())
        return [n for n, info in STEPS.items() if info.module in modules or n in attacker]

    def actions(self, s: State) -> list[Action]:
        """The actions enabled in ``s``."""
        return [a for a, _ in self.successors(s)]

    def apply(self, s: State, action: Action) -> State | None:
        """The state after ``action``, or None if it is not enabled in ``s``."""
        cfg = self.config
        weak = self.weak
        p = producer_index(action.actor)
        if weak is not None and action.step == "flush":
            candidates = weak.flushes(s, self.actor_names)
        elif 0 <= p < cfg.producers:
            candidates = producer_successors(cfg, s, p, weak)
        elif cfg.consumer == "overwrite-safe":
            candidates = consumer_overwrite.consumer_successors(cfg, s)
        elif cfg.honest:
            candidates = consumer_successors(cfg, s, weak)
        else:
            candidates = adversary_successors(cfg, s, weak)
        for a, nxt in candidates:
            if a == action:
                return nxt
        return None

    def producers_done(self, s: State) -> bool:
        """Every producer has used its attempts and committed what it reserved."""
        return all(producer_done(self.config, pr) for pr in s.producers)

    def is_terminal(self, s: State) -> bool:
        """Nothing more will happen: producers done, consumer asleep (or adversarial), no irq_work queued,
        and (weak memory) no store still buffered."""
        if not self.producers_done(s) or s.irq_pending:
            return False
        if self.weak is not None and not self.weak.quiescent(s):
            return False
        return not self.config.honest or s.consumer.pc == C_SLEEP

    def effects(self, s: State, action: Action) -> list | None:
        """The memory accesses ``action`` makes from ``s`` (``model.shared.Effect``: kind, location,
        value, ordering, choice, stale), for traces; None under sc and for flushes."""
        weak = self.weak
        if weak is None or action.step == "flush":
            return None
        cfg = self.config
        p = producer_index(action.actor)
        if 0 <= p < cfg.producers:
            from model.producer import producer_steps
            steps, actor = producer_steps(cfg, s, p), p
        elif action.actor == CONSUMER_ACTOR and cfg.honest:
            from model.consumer import consumer_steps
            steps, actor = consumer_steps(cfg, s), cfg.producers
        elif action.actor == "irq" and cfg.honest:
            from model.consumer import IRQ_ACTOR, irq_work
            steps, actor = [(Action(IRQ_ACTOR, "work"), irq_work, ())], cfg.producers + 1
        elif action.actor == USER_ACTOR and not cfg.honest:
            from model.adversary import adversary_steps
            steps, actor = adversary_steps(cfg, s, weak), cfg.producers
        else:
            return None
        for base, fn, args in steps:
            if base.name == action.name:
                found = weak.effects(s, actor, base, action, fn, args)
                if found is not None:
                    return found
        return None


def build_model(config: Config, start: int = 0) -> "RingBufModel | UserRingModel":
    """The model of ``config``'s map type: ``RingBufModel`` (map ringbuf) or ``UserRingModel`` (map user).

    Engines construct their model here, so a new map type is one branch.
    """
    if config.map == "user":
        return UserRingModel(config, start)
    return RingBufModel(config, start)

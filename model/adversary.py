"""The adversarial consumer: untrusted user space writing consumer_pos at will.

The consumer page is mapped read-write into user space, so a hostile process
can store any value there between any two kernel steps. The model bounds the
choice to multiples of 8 within ``reach`` (default 2*S) of producer_pos, on
either side, modulo 2**64: enough to put the consumer ahead of the producer
(the CVE-2024-41009 set-up) or far behind it.
"""

from __future__ import annotations

from model.actions import Action
from model.config import Config
from model.constants import u64
from model.shared import Direct, WeakMemory
from model.state import State
from model.steps import RELEASE, step, store

USER_ACTOR = "user"


@step("store_cons", "user", "user space writing the mmapped consumer page", "4 adversarial",
      (store("consumer_pos", RELEASE),))
def user_store_cons(cfg: Config, s: State, value: int, mem: Direct | None = None) -> State:
    """Store an arbitrary ``value`` into consumer_pos."""
    m = Direct(s) if mem is None else mem
    m.store("consumer_pos", u64(value))
    return m.next()


def adversary_values(cfg: Config, s: State, weak: WeakMemory | None = None) -> list[int]:
    """The consumer_pos values the adversary may store now (the one it would read excluded).

    The bound of the choice, not a memory access of the program: it is taken
    around producer_pos as memory holds it (``value``; under sc the field),
    and the excluded value is the one the adversary itself would read.
    """
    reach = cfg.reach
    if weak is None:
        base, current = s.producer_pos, s.consumer_pos
    else:
        base = weak.mm.value(s.memory, "producer_pos")
        current = weak.mm.readable(s.memory, cfg.producers, "consumer_pos")[0]
    return [v for v in (u64(base + d) for d in range(-reach, reach + 1, 8)) if v != current]


def adversary_steps(cfg: Config, s: State, weak: WeakMemory | None = None) -> list[tuple[Action, object, tuple]]:
    """The adversary's possible steps: (action, step function, extra arguments)."""
    return [(Action(USER_ACTOR, "store_cons", (("value", v),)), user_store_cons, (v,))
            for v in adversary_values(cfg, s, weak)]


def adversary_successors(cfg: Config, s: State, weak: WeakMemory | None = None) -> list[tuple[Action, State]]:
    """One successor per value the adversary may store."""
    if weak is None:
        return [(Action(USER_ACTOR, "store_cons", (("value", v),)), user_store_cons(cfg, s, v))
                for v in adversary_values(cfg, s)]
    out: list[tuple[Action, State]] = []
    for v in adversary_values(cfg, s, weak):
        out.extend(weak.outcomes(s, cfg.producers, Action(USER_ACTOR, "store_cons", (("value", v),)),
                                 user_store_cons, (v,)))
    return out

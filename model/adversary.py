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
from model.state import State, evolve
from model.steps import RELEASE, step, store

USER_ACTOR = "user"


@step("store_cons", "user", "user space writing the mmapped consumer page", "4 adversarial",
      (store("consumer_pos", RELEASE),))
def user_store_cons(cfg: Config, s: State, value: int) -> State:
    """Store an arbitrary ``value`` into consumer_pos."""
    return evolve(s, consumer_pos=u64(value))


def adversary_values(cfg: Config, s: State) -> list[int]:
    """The consumer_pos values the adversary may store now (the current one excluded)."""
    reach = cfg.reach
    base = s.producer_pos
    return [v for v in (u64(base + d) for d in range(-reach, reach + 1, 8)) if v != s.consumer_pos]


def adversary_successors(cfg: Config, s: State) -> list[tuple[Action, State]]:
    """One successor per value the adversary may store."""
    return [(Action(USER_ACTOR, "store_cons", (("value", v),)), user_store_cons(cfg, s, v))
            for v in adversary_values(cfg, s)]

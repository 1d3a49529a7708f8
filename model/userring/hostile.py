"""The adversarial user producer: hostile user space writing the user ring's producer page and data.

The producer page and the data area are mapped writable into user space, so
a hostile process can store any producer_pos and any 8-byte word, at any
moment between two kernel steps (docs/protocol.md#5). The model bounds the
choices, so that a search is exhaustive over them:

* at most ``Config.hostile_writes`` writes in all;
* producer_pos: every multiple of 8 within ``Config.reach`` (default 2S) of
  consumer_pos, on either side but not below 0 (a value "behind" 0 would wrap
  to nearly 2**64 and let the drain consume zero-length samples for 2**61
  steps), and two misaligned values (consumer_pos + 4, below any sample, and + 12, above
  one 8-byte sample: only there does the alignment check change what a drain returns);
* a data word, at any slot: a header len word whose payload size is 0, one of
  ``Config.sizes``, S-8 (a sample exactly as long as the ring) or S-7 (the
  smallest one longer), each with no flag, BUSY, DISCARD or both. The kernel
  reads a word of the data area only as a header len (a payload byte is never
  interpreted), so these words stand for "any payload" too.
"""

from __future__ import annotations

from typing import Callable

from model.actions import Action
from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT, u64
from model.state import header_word
from model.steps import PLAIN, RELEASE, step, store
from model.userring.memory import UserMem
from model.userring.producer import USER_ACTOR
from model.userring.state import HOSTILE, UserState

HOSTILE_FLAGS = (0, BUSY_BIT, DISCARD_BIT, BUSY_BIT | DISCARD_BIT)


@step("user.store_prod", "user", "hostile user space writing producer_pos on the mmapped producer page",
      "5 user.hostile", (store("producer_pos", RELEASE),))
def user_store_prod(cfg: Config, s: UserState, value: int, mem: UserMem | None = None) -> UserState:
    """Store an arbitrary ``value`` into producer_pos."""
    m = UserMem(s) if mem is None else mem
    m.store("producer_pos", u64(value))
    return m.next(producer=s.producer._replace(writes=s.producer.writes + 1))


@step("user.store_word", "user", "hostile user space writing a word of the mmapped data area",
      "5 user.hostile", (store("word", PLAIN),))
def user_store_word(cfg: Config, s: UserState, slot: int, len_word: int, mem: UserMem | None = None) -> UserState:
    """Store a word holding ``len_word`` in its low 32 bits at data-area word ``slot``."""
    m = UserMem(s) if mem is None else mem
    m.store("word", header_word(HOSTILE, len_word), slot)
    return m.next(producer=s.producer._replace(writes=s.producer.writes + 1))


def hostile_lens(cfg: Config) -> list[int]:
    """The payload sizes a hostile header may claim (module docstring)."""
    return sorted({0, *cfg.sizes, cfg.ring_size - 8, cfg.ring_size - 7})


def hostile_prod_values(cfg: Config, s: UserState) -> list[int]:
    """The producer_pos values the adversary may store now (the current one excluded)."""
    reach = cfg.reach
    base = s.consumer_pos
    values = [u64(base + d) for d in range(-reach, reach + 1, 8) if base + d >= 0] + [u64(base + 4), u64(base + 12)]
    return [v for v in values if v != s.producer_pos]


def is_hostile_prod_value(cfg: Config, s: UserState, value: int) -> bool:
    """``value in hostile_prod_values(cfg, s)``, decided without listing the 2 * reach / 8 values."""
    base = s.consumer_pos
    if value == s.producer_pos or not 0 <= value < 1 << 64:
        return False
    if value in (u64(base + 4), u64(base + 12)):
        return True
    for d in (value - base, value - base + (1 << 64)):            # base + d is value, or value past 2**64
        if -cfg.reach <= d <= cfg.reach and d % 8 == 0 and base + d >= 0:
            return True
    return False


def hostile_step(cfg: Config, s: UserState, action: Action) -> tuple[Callable, tuple] | None:
    """The (step function, arguments) ``hostile_steps`` lists for ``action``, None if it lists none.

    Decided from the action's arguments, without listing every write: replaying
    a trace on a ring the search cannot take (S = 2**25 has millions of them)
    needs one step, not all. A test holds it to ``hostile_steps`` on every
    reachable state of small configurations.
    """
    if hostile_done(cfg, s) or action.actor != USER_ACTOR:
        return None
    args = dict(action.args)
    if action.step == "user.store_prod" and set(args) == {"value"}:
        v = args["value"]
        return (user_store_prod, (v,)) if is_hostile_prod_value(cfg, s, v) else None
    if action.step == "user.store_word" and set(args) == {"slot", "len"}:
        slot, len_word = args["slot"], args["len"]
        flags = len_word & (BUSY_BIT | DISCARD_BIT) if isinstance(len_word, int) else -1
        if (isinstance(slot, int) and 0 <= slot < cfg.slots and flags in HOSTILE_FLAGS
                and len_word - flags in hostile_lens(cfg) and s.slots[slot] != header_word(HOSTILE, len_word)):
            return user_store_word, (slot, len_word)
    return None


def hostile_done(cfg: Config, s: UserState) -> bool:
    """The adversary has made all its writes."""
    return s.producer.writes >= cfg.hostile_writes


def hostile_steps(cfg: Config, s: UserState) -> list[tuple[Action, Callable, tuple]]:
    """The adversary's possible writes now: (action, step function, arguments after ``cfg, s``)."""
    if hostile_done(cfg, s):
        return []
    out: list[tuple[Action, Callable, tuple]] = [
        (Action(USER_ACTOR, "user.store_prod", (("value", v),)), user_store_prod, (v,))
        for v in hostile_prod_values(cfg, s)]
    for slot in range(cfg.slots):
        for size in hostile_lens(cfg):
            for flags in HOSTILE_FLAGS:
                word = header_word(HOSTILE, size | flags)
                if s.slots[slot] == word:
                    continue
                out.append((Action(USER_ACTOR, "user.store_word", (("slot", slot), ("len", size | flags))),
                            user_store_word, (slot, size | flags)))
    return out

"""The adversarial consumer: untrusted user space writing shared memory at will.

The consumer page is mapped read-write into user space, so a hostile process
can store any value there between any two kernel steps. The model bounds the
choice to multiples of 8 within ``reach`` (default 2*S) of producer_pos, on
either side, modulo the position width: enough to put the consumer ahead of
the producer (the CVE-2024-41009 set-up) or far behind it.

The kernel maps the producer page and the data pages read-only. To show what
that protects, ``Config.attacker`` may give the attacker more powers than the
consumer_pos store (docs/attacker.md), each a step of its own:

* ``producer_pos``: any value in the same window around producer_pos as
  consumer_pos (multiples of 8 within ``reach`` on either side);
* ``header``: a header word at any 8-byte slot of the data area (a record may
  start at every slot, so every place a producer, the pending scan or the
  consumer may read a header is covered), with its len one of
  ``attacker_lens``: BUSY (the scan and the consumer stop there), DISCARD
  with size 0 (skipped, 8 bytes), each configured payload size (a committed
  record of a length the producers use) and S (the smallest len whose record
  is longer than the ring, so a scan steps past a whole lap);
* ``payload``: a data word (not a header; it reads as len 0) at any slot.

Words the attacker writes carry the ghost owner tag ``ATTACKER_OWNER``, so a
header it writes is never a record's own (its pg_off is the attacker's) and
``header_integrity`` sees the forgery.
"""

from __future__ import annotations

from model.actions import Action
from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT, wrap
from model.shared import Direct, WeakMemory, location
from model.state import State, header_word, payload_word
from model.steps import PLAIN, RELEASE, step, store

USER_ACTOR = "user"

ATTACKER_OWNER = 0xFF
"""Ghost owner tag of the words user space writes into the data area (no record has it:
at most 8 producers x 16 records)."""


@step("store_cons", "user", "user space writing the mmapped consumer page", "4 adversarial",
      (store("consumer_pos", RELEASE),))
def user_store_cons(cfg: Config, s: State, value: int, mem: Direct | None = None) -> State:
    """Store an arbitrary ``value`` into consumer_pos."""
    m = Direct(s) if mem is None else mem
    m.store("consumer_pos", wrap(value, cfg.position_bits))
    return m.next()


@step("store_prod", "user", "user space writing producer_pos (were the producer page writable)",
      "4 attacker", (store("producer_pos", PLAIN),))
def user_store_prod(cfg: Config, s: State, value: int, mem: Direct | None = None) -> State:
    """Store an arbitrary ``value`` into producer_pos (the kernel maps that page read-only)."""
    m = Direct(s) if mem is None else mem
    m.store("producer_pos", wrap(value, cfg.position_bits))
    return m.next()


@step("store_header", "user", "user space writing a header word (were the data pages writable)",
      "4 attacker", (store("header", PLAIN),))
def user_store_header(cfg: Config, s: State, slot: int, len_word: int, mem: Direct | None = None) -> State:
    """Write a header with ``len_word`` (and the attacker's pg_off) at data-area word ``slot``."""
    m = Direct(s) if mem is None else mem
    m.store("header", header_word(ATTACKER_OWNER, len_word), slot)
    return m.next()


@step("store_payload", "user", "user space writing a data word (were the data pages writable)",
      "4 attacker", (store("payload", PLAIN),))
def user_store_payload(cfg: Config, s: State, slot: int, mem: Direct | None = None) -> State:
    """Write a data word of the attacker's at data-area word ``slot`` (it reads as len 0)."""
    m = Direct(s) if mem is None else mem
    m.store("payload", payload_word(ATTACKER_OWNER), slot)
    return m.next()


def attacker_lens(cfg: Config) -> list[int]:
    """The header len words the attacker writes (module docstring: why these)."""
    lens = [BUSY_BIT, DISCARD_BIT] + [size for size in cfg.sizes] + [cfg.ring_size]
    return list(dict.fromkeys(lens))


def _window(cfg: Config, base: int, current: int) -> list[int]:
    """Multiples of 8 within ``reach`` of ``base`` on either side, without ``current``."""
    reach = cfg.reach
    return [v for v in (wrap(base + d, cfg.position_bits) for d in range(-reach, reach + 1, 8)) if v != current]


def adversary_values(cfg: Config, s: State, weak: WeakMemory | None = None) -> list[int]:
    """The consumer_pos values the adversary may store now (the one it would read excluded).

    The bound of the choice, not a memory access of the program: it is taken
    around producer_pos as memory holds it (``value``; under sc the field),
    and the excluded value is the one the adversary itself would read.
    """
    if weak is None:
        base, current = s.producer_pos, s.consumer_pos
    else:
        base = weak.mm.value(s.memory, "producer_pos")
        current = weak.mm.readable(s.memory, cfg.producers, "consumer_pos")[0]
    return _window(cfg, base, current)


def producer_pos_values(cfg: Config, s: State, weak: WeakMemory | None = None) -> list[int]:
    """The producer_pos values the attacker may store now: the same window, the current value excluded."""
    base = s.producer_pos if weak is None else weak.mm.value(s.memory, "producer_pos")
    return _window(cfg, base, base)


def _slot_word(s: State, slot: int, weak: WeakMemory | None) -> int:
    return s.slots[slot] if weak is None else weak.mm.value(s.memory, location("slot", slot))


POWER_STEPS = {"consumer_pos": "store_cons", "producer_pos": "store_prod", "header": "store_header",
               "payload": "store_payload"}
"""The step each attacker power adds (``Config.attacker``)."""


def adversary_step_names(cfg: Config) -> list[str]:
    """The names of the steps this configuration's attacker can take."""
    return [POWER_STEPS[p] for p in cfg.attacker]


def adversary_steps(cfg: Config, s: State, weak: WeakMemory | None = None) -> list[tuple[Action, object, tuple]]:
    """The adversary's possible steps: (action, step function, extra arguments).

    A store that would leave a word as it is is left out (it is the state itself).
    """
    powers = cfg.attacker
    out: list[tuple[Action, object, tuple]] = []
    if "consumer_pos" in powers:
        out += [(Action(USER_ACTOR, "store_cons", (("value", v),)), user_store_cons, (v,))
                for v in adversary_values(cfg, s, weak)]
    if "producer_pos" in powers:
        out += [(Action(USER_ACTOR, "store_prod", (("value", v),)), user_store_prod, (v,))
                for v in producer_pos_values(cfg, s, weak)]
    if "header" in powers:
        for i in range(cfg.slots):
            now = _slot_word(s, i, weak)
            out += [(Action(USER_ACTOR, "store_header", (("slot", i), ("len", n))), user_store_header, (i, n))
                    for n in attacker_lens(cfg) if header_word(ATTACKER_OWNER, n) != now]
    if "payload" in powers:
        word = payload_word(ATTACKER_OWNER)
        out += [(Action(USER_ACTOR, "store_payload", (("slot", i),)), user_store_payload, (i,))
                for i in range(cfg.slots) if _slot_word(s, i, weak) != word]
    return out


def adversary_successors(cfg: Config, s: State, weak: WeakMemory | None = None) -> list[tuple[Action, State]]:
    """One successor per store the adversary may make."""
    if weak is None:
        if cfg.attacker == ("consumer_pos",):
            return [(Action(USER_ACTOR, "store_cons", (("value", v),)), user_store_cons(cfg, s, v))
                    for v in adversary_values(cfg, s)]
        return [(a, fn(cfg, s, *args)) for a, fn, args in adversary_steps(cfg, s)]
    out: list[tuple[Action, State]] = []
    for a, fn, args in adversary_steps(cfg, s, weak):
        out.extend(weak.outcomes(s, cfg.producers, a, fn, args))
    return out

"""Symbolic user ring states: ``model.userring.state.UserState`` with z3 terms in place of values.

``SymUserState`` has the fields of ``UserState``, in its order and nesting,
so an encoding reads line by line against the explicit step or predicate.
The choices are those of ``specs.smt`` for the kernel ring, and for the same
reasons: every integer is a 64-bit bitvector (positions wrap modulo 2**64 by
the bitvector's own arithmetic; ``-1`` is all ones); the data area is a
``specs.smt.Slots`` write history; lists whose length the configuration fixes
(records, drains, the producer's ``held`` list) are tuples of terms; the
ghost ``delivered`` log is a ``specs.smt.SymLog`` of fixed capacity.

Two fields have no counterpart in ``specs.smt``:

* ``held`` of the user producer is ``hold`` entries plus a count, as the
  kernel producer's (entries past the count are -1);
* ``last_advance`` (``Advance`` or None) is a ``SymAdvance`` with a
  ``present`` flag; an absent one has every other field 0, so equal states
  have equal terms.
"""

from __future__ import annotations

from typing import NamedTuple

import z3

from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT
from specs.smt import W, Ring, Slots, SymLog, SymRecord, bv, eq
from specs.user_ring import sample_total_smt

U32 = 0xFFFFFFFF


class SymUserProducer(NamedTuple):
    """``UserProducer`` with terms; ``held`` is ``hold`` entries plus ``held_n``."""

    pc: z3.BitVecRef
    attempts: z3.BitVecRef
    cur: z3.BitVecRef
    size: z3.BitVecRef
    cons: z3.BitVecRef
    held: tuple[z3.BitVecRef, ...]
    """Entries past ``held_n`` are -1."""
    held_n: z3.BitVecRef
    writes: z3.BitVecRef
    """Hostile writes made (producer_pos or a data word)."""


class SymDrain(NamedTuple):
    """``Drain`` (one bpf_user_ringbuf_drain call's locals) with terms."""

    pc: z3.BitVecRef
    flags: z3.BitVecRef
    prod: z3.BitVecRef
    cons: z3.BitVecRef
    len: z3.BitVecRef
    samples: z3.BitVecRef
    discarded: z3.BitVecRef
    stop: z3.BoolRef
    err: z3.BitVecRef
    """A negative errno as a 64-bit pattern (``bv(-22)``), 0 for none."""


class SymAdvance(NamedTuple):
    """``Advance | None``: ``present`` is False for None (then every other field is 0)."""

    present: z3.BoolRef
    at: z3.BitVecRef
    old: z3.BitVecRef
    new: z3.BitVecRef
    len: z3.BitVecRef
    prod: z3.BitVecRef


class SymUserState(NamedTuple):
    """``UserState`` with terms (module docstring)."""

    consumer_pos: z3.BitVecRef
    producer_pos: z3.BitVecRef
    busy: z3.BitVecRef
    slots: Slots
    producer: SymUserProducer
    drains: tuple[SymDrain, ...]
    records: tuple[SymRecord, ...]
    delivered: SymLog
    last_advance: SymAdvance


def record_count(cfg: Config) -> int:
    """Records the state tracks: one per libbpf reservation attempt, none for the hostile producer."""
    return 0 if cfg.hostile else cfg.records


def fresh_user_state(cfg: Config, name: str, log_capacity: int, slots: Slots | None = None) -> SymUserState:
    """A state whose every field is a fresh constant named after ``name`` (``slots`` may be given)."""

    def v(f: str) -> z3.BitVecRef:
        return z3.BitVec(f"{name}.{f}", W)

    def b(f: str) -> z3.BoolRef:
        return z3.Bool(f"{name}.{f}")

    producer = SymUserProducer(v("u.pc"), v("u.attempts"), v("u.cur"), v("u.size"), v("u.cons"),
                               tuple(v(f"u.held{j}") for j in range(cfg.hold)), v("u.held_n"), v("u.writes"))
    drains = tuple(SymDrain(v(f"d{d}.pc"), v(f"d{d}.flags"), v(f"d{d}.prod"), v(f"d{d}.cons"), v(f"d{d}.len"),
                            v(f"d{d}.samples"), v(f"d{d}.discarded"), b(f"d{d}.stop"), v(f"d{d}.err"))
                   for d in range(cfg.drains))
    records = tuple(SymRecord(v(f"r{i}.status"), v(f"r{i}.pos"), v(f"r{i}.size"), v(f"r{i}.seq"))
                    for i in range(record_count(cfg)))
    log = SymLog(v("log.n"), tuple(v(f"log{j}.rec") for j in range(log_capacity)),
                 tuple(b(f"log{j}.intact") for j in range(log_capacity)))
    adv = SymAdvance(b("adv.present"), v("adv.at"), v("adv.old"), v("adv.new"), v("adv.len"), v("adv.prod"))
    return SymUserState(v("consumer_pos"), v("producer_pos"), v("busy"),
                        slots if slots is not None else Slots.array(f"{name}.slots"),
                        producer, drains, records, log, adv)


def user_state_eq(ring: Ring, a: SymUserState, b: SymUserState) -> z3.BoolRef:
    """Two states are equal: every field, and the slots at every index below S/8 (constant S only)."""
    assert ring.concrete is not None, "state equality over slots needs a constant ring size"
    slots = [a.slots[bv(i)] == b.slots[bv(i)] for i in range(ring.concrete // 8)]
    rest = [eq(x, y) for x, y, f in zip(a, b, SymUserState._fields) if f != "slots"]
    return z3.And(slots + rest)


# ---------------------------------------------------------------- model.userring.drain arithmetic


def sample_len(len_word: z3.BitVecRef) -> z3.BitVecRef:
    """``model.userring.drain.sample_len``: the flag bits stripped, 32 bits."""
    return len_word & bv(~(BUSY_BIT | DISCARD_BIT) & U32)


sample_total = sample_total_smt
"""``model.userring.drain.sample_total`` over terms (the one ``specs.user_ring``'s encodings use)."""

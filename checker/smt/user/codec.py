"""Explicit user ring states to symbolic ones and back (``checker.smt.codec`` for ``UserState``).

``encode_user_state`` turns a ``UserState`` into a ``SymUserState`` of
constants; ``decode_user_state`` reads a ``UserState`` out of a z3 model
(``checker.smt.codec.Evaluator``). ``variable_user_state`` and
``flat_user_values`` are the cross-check's fast path (``checker.smt.concrete``):
a state of named constants, slot words included, and an explicit state laid
out as values of those constants in the same order. The round trips are
tested.
"""

from __future__ import annotations

import z3

from checker.smt.codec import CapacityError, Evaluator
from checker.smt.user.state import SymAdvance, SymDrain, SymUserProducer, SymUserState, fresh_user_state
from model.config import Config
from model.constants import U64
from model.state import Record
from model.userring.state import Advance, Drain, UserProducer, UserState
from specs.smt import W, Slots, SymLog, SymRecord, bv


def encode_user_state(cfg: Config, s: UserState, log_capacity: int) -> SymUserState:
    """The explicit state ``s`` as a symbolic state of constants."""
    n = len(s.delivered)
    if n > log_capacity:
        raise CapacityError(f"delivered log of {n} entries exceeds the capacity {log_capacity}")
    pr = s.producer
    producer = SymUserProducer(bv(pr.pc), bv(pr.attempts), bv(pr.cur), bv(pr.size), bv(pr.cons),
                               tuple(bv(pr.held[j]) if j < len(pr.held) else bv(-1) for j in range(cfg.hold)),
                               bv(len(pr.held)), bv(pr.writes))
    drains = tuple(SymDrain(bv(d.pc), bv(d.flags), bv(d.prod), bv(d.cons), bv(d.len), bv(d.samples),
                            bv(d.discarded), z3.BoolVal(bool(d.stop)), bv(d.err)) for d in s.drains)
    records = tuple(SymRecord(bv(r.status), bv(r.pos), bv(r.size), bv(r.seq)) for r in s.records)
    log = SymLog(bv(n), tuple(bv(s.delivered[j][0]) if j < n else bv(-1) for j in range(log_capacity)),
                 tuple(z3.BoolVal(bool(s.delivered[j][1])) if j < n else z3.BoolVal(False)
                       for j in range(log_capacity)))
    return SymUserState(bv(s.consumer_pos), bv(s.producer_pos), bv(s.busy), Slots.constant(s.slots), producer,
                        drains, records, log, encode_advance(s.last_advance))


def encode_advance(a: Advance | None) -> SymAdvance:
    """``last_advance`` as constants (None: not present, every field 0)."""
    if a is None:
        return SymAdvance(z3.BoolVal(False), bv(0), bv(0), bv(0), bv(0), bv(0))
    return SymAdvance(z3.BoolVal(True), bv(a.at), bv(a.old), bv(a.new), bv(a.len), bv(a.prod))


def decode_user_state(cfg: Config, ev: Evaluator, s: SymUserState) -> UserState:
    """The explicit state the symbolic state ``s`` denotes under ``ev``."""
    pr = s.producer
    n = ev.u(pr.held_n)
    if n > len(pr.held):
        raise ValueError(f"held count {n} exceeds hold={len(pr.held)}")
    producer = UserProducer(ev.u(pr.pc), ev.u(pr.attempts), ev.i(pr.cur), ev.u(pr.size), ev.u(pr.cons),
                            tuple(ev.i(pr.held[j]) for j in range(n)), ev.u(pr.writes))
    drains = tuple(Drain(ev.u(d.pc), ev.u(d.flags), ev.u(d.prod), ev.u(d.cons), ev.u(d.len), ev.u(d.samples),
                         ev.u(d.discarded), ev.b(d.stop), ev.i(d.err)) for d in s.drains)
    records = tuple(Record(ev.u(r.status), ev.u(r.pos), ev.u(r.size), ev.i(r.seq)) for r in s.records)
    n = ev.u(s.delivered.n)
    if n > len(s.delivered.recs):
        raise ValueError(f"delivered count {n} exceeds the log capacity {len(s.delivered.recs)}")
    delivered = tuple((ev.i(s.delivered.recs[j]), ev.b(s.delivered.intact[j])) for j in range(n))
    a = s.last_advance
    advance = Advance(ev.u(a.at), ev.u(a.old), ev.u(a.new), ev.u(a.len), ev.u(a.prod)) if ev.b(a.present) else None
    written = s.slots.written(ev.u)
    if written is None:
        slots = tuple(ev.u(s.slots[bv(i)]) for i in range(cfg.slots))
    else:                                           # only the words the history wrote can be nonzero
        words = [0] * cfg.slots
        for i in written:
            if 0 <= i < cfg.slots:
                words[i] = ev.u(s.slots[bv(i)])
        slots = tuple(words)
    return UserState(ev.u(s.consumer_pos), ev.u(s.producer_pos), ev.u(s.busy), slots, producer, drains, records,
                     delivered, advance)


def variable_user_state(cfg: Config, name: str, log_capacity: int) -> tuple[SymUserState, list[z3.ExprRef]]:
    """A symbolic state of named constants, slot words included, and those constants in ``flat_user_values`` order."""
    words = [z3.BitVec(f"{name}.slot{i}", W) for i in range(cfg.slots)]
    slots = Slots.constant(())
    for i, w in enumerate(words):
        slots = slots.store(bv(i), w)
    s = fresh_user_state(cfg, name, log_capacity, slots=slots)
    out: list[z3.ExprRef] = [s.consumer_pos, s.producer_pos, s.busy, *words]
    pr = s.producer
    out += [pr.pc, pr.attempts, pr.cur, pr.size, pr.cons, *pr.held, pr.held_n, pr.writes]
    for d in s.drains:
        out += list(d)
    for r in s.records:
        out += list(r)
    out += [s.delivered.n, *s.delivered.recs, *s.delivered.intact]
    out += list(s.last_advance)
    return s, out


def flat_user_values(cfg: Config, s: UserState, log_capacity: int) -> tuple[int | bool, ...]:
    """``s`` as values of ``variable_user_state``'s constants (integers as u64 patterns, flags as bools)."""
    out: list[int | bool] = [s.consumer_pos, s.producer_pos, s.busy, *s.slots]
    pr = s.producer
    out += [pr.pc, pr.attempts, pr.cur, pr.size, pr.cons, *pr.held, *([-1] * (cfg.hold - len(pr.held))),
            len(pr.held), pr.writes]
    for d in s.drains:
        out += [d.pc, d.flags, d.prod, d.cons, d.len, d.samples, d.discarded, bool(d.stop), d.err]
    for r in s.records:
        out += [r.status, r.pos, r.size, r.seq]
    n = len(s.delivered)
    if n > log_capacity:
        raise CapacityError(f"delivered log of {n} entries exceeds the capacity {log_capacity}")
    out += [n] + [d[0] for d in s.delivered] + [-1] * (log_capacity - n)
    out += [bool(d[1]) for d in s.delivered] + [False] * (log_capacity - n)
    a = s.last_advance
    out += [False, 0, 0, 0, 0, 0] if a is None else [True, a.at, a.old, a.new, a.len, a.prod]
    return tuple(v if isinstance(v, bool) else v & U64 for v in out)

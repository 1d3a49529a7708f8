"""Explicit states to symbolic constants and back.

``encode_state`` turns a ``model.state.State`` into a ``SymState`` of
constants (what the cross-check feeds the SMT formulas); ``decode_state``
reads a ``State`` out of a z3 model (what BMC and successor enumeration hand
back to the explicit model). ``decode_state(encode_state(s)) == s`` for every
state whose delivered log fits the capacity, which the tests check.
"""

from __future__ import annotations

import z3

from model.config import Config
from model.state import Consumer, Producer, Record, State
from specs.smt import (Slots, SymConsumer, SymLog, SymProducer, SymRecord, SymState, bv, flag)


class CapacityError(ValueError):
    """An explicit state does not fit the bounded symbolic lists (one-line message)."""


def encode_state(cfg: Config, s: State, log_capacity: int) -> SymState:
    """The explicit state ``s`` as a symbolic state of constants."""
    if len(s.delivered) > log_capacity:
        raise CapacityError(f"delivered log of {len(s.delivered)} entries exceeds the capacity {log_capacity}")
    slots = Slots.constant(s.slots)
    records = tuple(SymRecord(bv(r.status), bv(r.pos), bv(r.size), bv(r.seq)) for r in s.records)
    producers = tuple(
        SymProducer(bv(p.pc), bv(p.attempts), bv(p.cur), bv(p.size), flag(p.nmi), bv(p.cons), bv(p.prod),
                    bv(p.pend), tuple(bv(p.held[j]) if j < len(p.held) else bv(-1) for j in range(cfg.hold)),
                    bv(len(p.held)), bv(p.flags), *((bv(p.over),) if cfg.rules.overwrite else ()))
        for p in s.producers)
    c = s.consumer
    consumer = SymConsumer(bv(c.pc), bv(c.cons), bv(c.prod), z3.BoolVal(c.got_new), bv(c.len))
    n = len(s.delivered)
    log = SymLog(bv(n), tuple(bv(s.delivered[j][0]) if j < n else bv(-1) for j in range(log_capacity)),
                 tuple(z3.BoolVal(s.delivered[j][1]) if j < n else z3.BoolVal(False)
                       for j in range(log_capacity)))
    return SymState(bv(s.consumer_pos), bv(s.producer_pos), bv(s.pending_pos), bv(s.lock), slots, records,
                    producers, consumer, z3.BoolVal(s.irq_pending), z3.BoolVal(s.edge_ready), log,
                    *((bv(s.overwrite_pos),) if cfg.rules.overwrite else ()))


class Evaluator:
    """Reads terms as Python values, from a z3 model or (model None) by simplifying ground terms."""

    def __init__(self, model: z3.ModelRef | None = None) -> None:
        self.model = model

    def term(self, t: z3.ExprRef) -> z3.ExprRef:
        """The value of ``t`` as a z3 constant."""
        v = self.model.eval(t, model_completion=True) if self.model is not None else z3.simplify(t)
        if not z3.is_const(v) or not (z3.is_bv_value(v) or z3.is_true(v) or z3.is_false(v)):
            raise ValueError(f"term does not reduce to a value: {v}")
        return v

    def u(self, t: z3.BitVecRef) -> int:
        """Unsigned value."""
        return self.term(t).as_long()

    def i(self, t: z3.BitVecRef) -> int:
        """Signed value (-1 for all ones)."""
        return self.term(t).as_signed_long()

    def b(self, t: z3.BoolRef) -> bool:
        """Boolean value."""
        return z3.is_true(self.term(t))


def decode_state(cfg: Config, ev: Evaluator, s: SymState) -> State:
    """The explicit state the symbolic state ``s`` denotes under ``ev``."""
    records = tuple(Record(ev.u(r.status), ev.u(r.pos), ev.u(r.size), ev.i(r.seq)) for r in s.records)
    producers = []
    for p in s.producers:
        n = ev.u(p.held_n)
        if n > len(p.held):
            raise ValueError(f"held count {n} exceeds hold={len(p.held)}")
        producers.append(Producer(ev.u(p.pc), ev.u(p.attempts), ev.i(p.cur), ev.u(p.size), bool(ev.u(p.nmi)),
                                  ev.u(p.cons), ev.u(p.prod), ev.u(p.pend),
                                  tuple(ev.i(p.held[j]) for j in range(n)), ev.u(p.flags), ev.u(p.over)))
    c = s.consumer
    consumer = Consumer(ev.u(c.pc), ev.u(c.cons), ev.u(c.prod), ev.b(c.got_new), ev.u(c.len))
    n = ev.u(s.delivered.n)
    if n > len(s.delivered.recs):
        raise ValueError(f"delivered count {n} exceeds the log capacity {len(s.delivered.recs)}")
    delivered = tuple((ev.i(s.delivered.recs[j]), ev.b(s.delivered.intact[j])) for j in range(n))
    slots = tuple(ev.u(s.slots[bv(i)]) for i in range(cfg.slots))
    return State(ev.u(s.consumer_pos), ev.u(s.producer_pos), ev.u(s.pending_pos), ev.i(s.lock), slots,
                 records, tuple(producers), consumer, ev.b(s.irq_pending), ev.b(s.edge_ready), delivered,
                 overwrite_pos=ev.u(s.overwrite_pos))

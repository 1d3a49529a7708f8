"""Consumer, irq_work and adversary steps as z3 terms, mirroring ``model/consumer.py`` and ``model/adversary.py``.

Same function names, same order, one ``If`` where the Python code branches.
"""

from __future__ import annotations

import z3

from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT, LEN_MASK
from model.state import (C_DELIVER, C_LOAD_CONS, C_LOAD_PROD, C_READ_HDR, C_SLEEP, C_STORE, C_WAIT,
                         KIND_HEADER, SUBMITTED)
from specs.smt import (Ring, SymConsumer, SymState, bv, ite, payload_word, pick, read_len, record_length, slot_index,
                       slot_kind, slot_owner)


def _resting(pc: z3.BitVecRef | int) -> SymConsumer:
    """The consumer at epoll or at the start of a pass, dead locals cleared (``model.consumer._resting``)."""
    return SymConsumer(pc if isinstance(pc, z3.ExprRef) else bv(pc), bv(0), bv(0), z3.BoolVal(False), bv(0))


def _after_caught_up(pc_if_new: int, cons: z3.BitVecRef, prod: z3.BitVecRef,
                     got_new: z3.BoolRef) -> z3.BitVecRef:
    """Step 4: more records, re-read producer_pos, or go to epoll."""
    return z3.If(z3.ULT(cons, prod), bv(C_READ_HDR), z3.If(got_new, bv(pc_if_new), bv(C_WAIT)))


def consume_load_cons(cfg: Config, ring: Ring, s: SymState) -> SymState:
    """consume.load_cons."""
    return s._replace(consumer=s.consumer._replace(pc=bv(C_LOAD_PROD), cons=s.consumer_pos))


def consume_load_prod(cfg: Config, ring: Ring, s: SymState) -> SymState:
    """consume.load_prod."""
    c = s.consumer
    prod = s.producer_pos
    pc = _after_caught_up(C_LOAD_PROD, c.cons, prod, z3.BoolVal(False))
    c = ite(pc == C_WAIT, _resting(C_WAIT),
            c._replace(pc=pc, prod=prod, got_new=z3.BoolVal(False), len=bv(0)))
    return s._replace(consumer=c)


def consume_read_header(cfg: Config, ring: Ring, s: SymState) -> SymState:
    """consume.read_header: BUSY ends the pass; otherwise step past the record."""
    c = s.consumer
    hdr_len = read_len(s.slots[slot_index(ring, c.cons)])
    cons = c.cons + record_length(hdr_len & LEN_MASK)
    pc = z3.If(hdr_len & DISCARD_BIT != 0, bv(C_STORE), bv(C_DELIVER))
    stepped = c._replace(pc=pc, cons=cons, got_new=z3.BoolVal(True), len=hdr_len)
    return s._replace(consumer=ite(hdr_len & BUSY_BIT != 0, _resting(C_WAIT), stepped))


def sample_identity(cfg: Config, ring: Ring, s: SymState, start: z3.BitVecRef,
                    hdr_len: z3.BitVecRef) -> tuple[z3.BitVecRef, z3.BoolRef]:
    """Which record is handed out at ``start`` and whether it is intact (``model.consumer.sample_identity``)."""
    word = s.slots[slot_index(ring, start)]
    is_header = slot_kind(word) == KIND_HEADER
    rec = slot_owner(word)
    r = pick(s.records, rec)
    want = z3.LShR(r.size + 7, 3)
    words = z3.If(z3.ULT(want, ring.nslots), want, ring.nslots)
    mine = payload_word(rec)
    if ring.concrete is not None:
        payload_ok = z3.And([z3.Implies(z3.ULT(bv(i), words),
                                        s.slots[slot_index(ring, start + 8 + 8 * i)] == mine)
                             for i in range(ring.concrete // 8)])
    else:
        i = z3.BitVec("word", 64)
        payload_ok = z3.ForAll([i], z3.Implies(z3.ULT(i, words),
                                               s.slots[slot_index(ring, start + 8 + 8 * i)] == mine))
    ok = z3.And(r.status == SUBMITTED, r.pos == start, hdr_len & LEN_MASK == r.size, payload_ok)
    return z3.If(is_header, rec, bv(-1)), z3.And(is_header, ok)


def consume_deliver(cfg: Config, ring: Ring, s: SymState) -> SymState:
    """consume.deliver: append (record, intact) to the ghost log. Enabled while the log has room."""
    c = s.consumer
    start = c.cons - record_length(c.len & LEN_MASK)
    rec, ok = sample_identity(cfg, ring, s, start, c.len)
    log = s.delivered
    recs = tuple(z3.If(log.n == j, rec, x) for j, x in enumerate(log.recs))
    intact = tuple(z3.If(log.n == j, ok, x) for j, x in enumerate(log.intact))
    return s._replace(consumer=c._replace(pc=bv(C_STORE)), delivered=log._replace(n=log.n + 1, recs=recs,
                                                                                  intact=intact))


def consume_store_cons(cfg: Config, ring: Ring, s: SymState) -> SymState:
    """consume.store_cons: publish the consumer position."""
    c = s.consumer
    c = c._replace(pc=_after_caught_up(C_LOAD_PROD, c.cons, c.prod, c.got_new), len=bv(0))
    return s._replace(consumer_pos=c.cons, consumer=c)


def poll_wait(cfg: Config, ring: Ring, s: SymState) -> SymState:
    """poll.wait: level returns while data is there; edge only after a wakeup; else sleep."""
    if cfg.consumer == "level":
        ready = s.producer_pos - s.consumer_pos != 0
        return s._replace(consumer=_resting(z3.If(ready, bv(C_LOAD_CONS), bv(C_SLEEP))))
    return ite(s.edge_ready, s._replace(consumer=_resting(C_LOAD_CONS), edge_ready=z3.BoolVal(False)),
               s._replace(consumer=_resting(C_SLEEP)))


def irq_work(cfg: Config, ring: Ring, s: SymState) -> SymState:
    """irq.work: wake a sleeping consumer; an awake edge consumer gets a pending event."""
    c = s.consumer
    off = z3.BoolVal(False)
    woken = s._replace(consumer=_resting(C_WAIT if cfg.consumer == "level" else C_LOAD_CONS),
                       irq_pending=off)
    awake = s._replace(irq_pending=off, edge_ready=z3.BoolVal(True)) if cfg.consumer == "edge" else \
        s._replace(irq_pending=off)
    return ite(c.pc == C_SLEEP, woken, awake)


def user_store_cons(cfg: Config, ring: Ring, s: SymState, value: z3.BitVecRef) -> SymState:
    """user.store_cons (model/adversary.py): store any value into consumer_pos."""
    return s._replace(consumer_pos=value)


def adversary_allows(cfg: Config, s: SymState, value: z3.BitVecRef) -> z3.BoolRef:
    """``model.adversary.adversary_values``: multiples of 8 within reach of producer_pos, not the current value."""
    reach = cfg.reach
    d = value - s.producer_pos
    return z3.And(z3.ULE(d + reach, bv(2 * reach)), d & 7 == 0, value != s.consumer_pos)

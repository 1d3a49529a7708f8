"""Producer steps as z3 terms, one function per function of ``model/producer.py``, same names.

Each function takes the symbolic state and returns the symbolic next state,
written as close to the Python step as the term language allows: where the
Python code branches, the term has an ``If``. Read the two files side by side.
When a step is enabled (program point, choices) is decided in
``checker.smt.transition``, as ``producer_successors`` decides it in Python.
"""

from __future__ import annotations

import z3

from model.config import Config
from model.constants import BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BUSY_BIT, DISCARD_BIT
from model.variants import RQSPINLOCK
from model.state import (BUSY, DISCARDED, FAILED, KIND_HEADER, P_CLAIM, P_IDLE, P_LOAD_CONS, P_LOCK,
                         P_OVER_CLAIM, P_OVER_SCAN, P_SCAN, P_WAKEUP, P_WRITE, SUBMITTED)
from specs.smt import (ABSENT, Ring, SymProducer, SymRecord, SymState, bv, header_word, ite, payload_word, pick,
                       read_len, record_length, refused_early, set_at, slot_index, slot_kind, slot_owner)


def _set_producer(s: SymState, p: int, pr: SymProducer) -> tuple[SymProducer, ...]:
    return set_at(s.producers, p, pr)


def _set_record(s: SymState, r: z3.BitVecRef, rec: SymRecord) -> tuple[SymRecord, ...]:
    return set_at(s.records, r, rec)


def _idle(pr: SymProducer, attempts: z3.BitVecRef | None = None) -> SymProducer:
    """Back between helper calls, dead locals cleared (``model.producer._idle``)."""
    return SymProducer(bv(P_IDLE), pr.attempts if attempts is None else attempts, bv(-1), bv(0), bv(0),
                       bv(0), bv(0), bv(0), pr.held, pr.held_n, bv(0), *(() if pr.over is ABSENT else (bv(0),)))


def _fail_reservation(s: SymState, p: int, pr: SymProducer, **shared: object) -> SymState:
    """Reserve returned NULL: the attempt is used up."""
    return s._replace(
        records=_set_record(s, pr.cur, SymRecord(bv(FAILED), bv(0), pr.size, bv(-1))),
        producers=_set_producer(s, p, _idle(pr, pr.attempts + 1)),
        **shared,
    )


def _held_without(pr: SymProducer, rec: z3.BitVecRef) -> tuple[tuple[z3.BitVecRef, ...], z3.BitVecRef]:
    """``held`` with ``rec`` removed, order kept (entries past the count stay -1)."""
    out = []
    seen = z3.BoolVal(False)
    for j, h in enumerate(pr.held):
        seen = z3.Or(seen, z3.And(h == rec, z3.ULT(bv(j), pr.held_n)))
        nxt = pr.held[j + 1] if j + 1 < len(pr.held) else bv(-1)
        out.append(z3.If(seen, nxt, h))
    present = z3.Or([z3.And(h == rec, z3.ULT(bv(j), pr.held_n)) for j, h in enumerate(pr.held)])
    return tuple(out), z3.If(present, pr.held_n - 1, pr.held_n)


def _held_with(pr: SymProducer, rec: z3.BitVecRef) -> tuple[tuple[z3.BitVecRef, ...], z3.BitVecRef]:
    """``held + (rec,)``."""
    return tuple(z3.If(pr.held_n == j, rec, h) for j, h in enumerate(pr.held)), pr.held_n + 1


# ------------------------------------------------------------------ reserve


def reserve_check(cfg: Config, ring: Ring, s: SymState, p: int, size: z3.BitVecRef,
                  nmi: z3.BitVecRef) -> SymState:
    """reserve.check: start a reservation; refuse huge sizes and (v5.13+) records longer than the ring."""
    pr = s.producers[p]
    rec = bv(p * cfg.records) + pr.attempts
    started = pr._replace(pc=bv(P_LOAD_CONS), cur=rec, size=size, nmi=nmi)
    return ite(refused_early(cfg, ring, size), _fail_reservation(s, p, started),
               s._replace(producers=_set_producer(s, p, started)))


def reserve_load_cons(cfg: Config, ring: Ring, s: SymState, p: int) -> SymState:
    """reserve.load_cons: read consumer_pos before the lock."""
    pr = s.producers[p]
    return s._replace(producers=_set_producer(s, p, pr._replace(pc=bv(P_LOCK), cons=s.consumer_pos)))


def lock_fails_when_held(cfg: Config, pr: SymProducer) -> z3.BoolRef:
    """``model.producer.lock_fails_when_held`` over a symbolic producer: NMI attempts fail on a held
    lock (spinlock: the trylock; rqspinlock: the AA check), and with the rqspinlock's
    ``lock_timeout`` every attempt may."""
    if cfg.rules.lock == RQSPINLOCK and cfg.lock_timeout:
        return z3.BoolVal(True)
    return pr.nmi != 0


def reserve_lock(cfg: Config, ring: Ring, s: SymState, p: int) -> SymState:
    """reserve.lock: take the lock (held: fail, ``lock_fails_when_held``), read producer_pos and pending_pos.

    Enabled only when the lock is free or a held lock fails the attempt (the guard is in transition.py).
    """
    pr = s.producers[p]
    pend = s.pending_pos if cfg.has_pending else bv(0)
    scan = z3.ULT(pend, s.producer_pos) if cfg.has_pending else z3.BoolVal(False)
    locked = pr._replace(pc=z3.If(scan, bv(P_SCAN), bv(P_CLAIM)), prod=s.producer_pos, pend=pend)
    return ite(s.lock != -1, _fail_reservation(s, p, pr),
               s._replace(lock=bv(p), producers=_set_producer(s, p, locked)))


def reserve_scan(cfg: Config, ring: Ring, s: SymState, p: int) -> SymState:
    """reserve.scan: read the header at pend; stop at BUSY, else step pend past the record."""
    pr = s.producers[p]
    hdr_len = read_len(s.slots[slot_index(ring, pr.pend)])
    pend = pr.pend + record_length(hdr_len & ~DISCARD_BIT)
    stepped = pr._replace(pc=z3.If(z3.ULT(pend, pr.prod), bv(P_SCAN), bv(P_CLAIM)), pend=pend)
    nxt = ite(hdr_len & BUSY_BIT != 0, pr._replace(pc=bv(P_CLAIM)), stepped)
    return s._replace(producers=_set_producer(s, p, nxt))


def reserve_claim(cfg: Config, ring: Ring, s: SymState, p: int) -> SymState:
    """reserve.claim: space check(s); write the BUSY header, publish producer_pos, unlock."""
    pr = s.producers[p]
    new_prod = pr.prod + record_length(pr.size)
    shared: dict[str, object] = {"lock": bv(-1)}
    if cfg.has_pending:
        shared["pending_pos"] = pr.pend
    no_room = z3.UGT(new_prod - pr.cons, ring.mask)
    if cfg.has_pending:
        no_room = z3.Or(no_room, z3.UGT(new_prod - pr.pend, ring.mask))
    slots = s.slots.store(slot_index(ring, pr.prod), header_word(pr.cur, pr.size | BUSY_BIT))
    seq = z3.Sum([z3.If(z3.UGE(r.status, BUSY), bv(1), bv(0)) for r in s.records])
    held, held_n = _held_with(pr, pr.cur)
    claimed = s._replace(
        producer_pos=new_prod,
        slots=slots,
        records=_set_record(s, pr.cur, SymRecord(bv(BUSY), pr.prod, pr.size, seq)),
        producers=_set_producer(s, p, SymProducer(bv(P_WRITE), pr.attempts + 1, pr.cur, bv(0), bv(0), bv(0),
                                                  bv(0), bv(0), held, held_n, bv(0))),
        **shared,
    )
    return ite(no_room, _fail_reservation(s, p, pr, **shared), claimed)


# ------------------------------------------------------------------ reserve, overwrite mode


def _overwrite_next(cfg: Config, ring: Ring, pr: SymProducer, over: z3.BitVecRef) -> SymProducer:
    """Scan on while the new record does not fit between ``over`` and its end, else claim."""
    new_prod = pr.prod + record_length(pr.size)
    return pr._replace(pc=z3.If(z3.UGT(new_prod - over, ring.mask), bv(P_OVER_SCAN), bv(P_OVER_CLAIM)), over=over)


def reserve_room(cfg: Config, ring: Ring, s: SymState, p: int) -> SymState:
    """reserve.room: store pending_pos, check space against it alone, read overwrite_pos."""
    pr = s.producers[p]
    no_room = z3.UGT(pr.prod + record_length(pr.size) - pr.pend, ring.mask)
    room = s._replace(pending_pos=pr.pend,
                      producers=_set_producer(s, p, _overwrite_next(cfg, ring, pr, s.overwrite_pos)))
    return ite(no_room, _fail_reservation(s, p, pr, pending_pos=pr.pend, lock=bv(-1)), room)


def reserve_overwrite_scan(cfg: Config, ring: Ring, s: SymState, p: int) -> SymState:
    """reserve.overwrite_scan: read the header at over and step past that record (DISCARD dropped, BUSY not)."""
    pr = s.producers[p]
    hdr_len = read_len(s.slots[slot_index(ring, pr.over)])
    over = pr.over + record_length(hdr_len & ~DISCARD_BIT)
    return s._replace(producers=_set_producer(s, p, _overwrite_next(cfg, ring, pr, over)))


def reserve_overwrite_claim(cfg: Config, ring: Ring, s: SymState, p: int) -> SymState:
    """reserve.overwrite_claim: publish overwrite_pos, write the BUSY header, publish producer_pos, unlock."""
    pr = s.producers[p]
    seq = z3.Sum([z3.If(z3.UGE(r.status, BUSY), bv(1), bv(0)) for r in s.records])
    held, held_n = _held_with(pr, pr.cur)
    return s._replace(
        overwrite_pos=pr.over,
        producer_pos=pr.prod + record_length(pr.size),
        lock=bv(-1),
        slots=s.slots.store(slot_index(ring, pr.prod), header_word(pr.cur, pr.size | BUSY_BIT)),
        records=_set_record(s, pr.cur, SymRecord(bv(BUSY), pr.prod, pr.size, seq)),
        producers=_set_producer(s, p, SymProducer(bv(P_WRITE), pr.attempts + 1, pr.cur, bv(0), bv(0), bv(0),
                                                  bv(0), bv(0), held, held_n, bv(0), bv(0))),
    )


# ------------------------------------------------------------------ payload


def write_payload(cfg: Config, ring: Ring, s: SymState, p: int) -> SymState:
    """write: the payload words after the header, wrapping modulo S, as one range fill of the slots."""
    pr = s.producers[p]
    rec = pick(s.records, pr.cur)
    want = z3.LShR(rec.size + 7, 3)
    words = z3.If(z3.ULT(want, ring.nslots), want, ring.nslots)
    first = slot_index(ring, rec.pos + 8)
    slots = s.slots.fill(first, words, ring.nslots, payload_word(pr.cur))
    return s._replace(slots=slots, producers=_set_producer(s, p, _idle(pr)))


# ------------------------------------------------------------------ commit


def commit_xchg(cfg: Config, ring: Ring, s: SymState, p: int, rec: z3.BitVecRef, discard: z3.BitVecRef,
                flags: z3.BitVecRef) -> SymState:
    """commit.xchg: flip BUSY (and set DISCARD) in the record's header with one exchange."""
    pr = s.producers[p]
    r = pick(s.records, rec)
    idx = slot_index(ring, r.pos)
    word = s.slots[idx]
    new_len = (read_len(word) ^ BUSY_BIT) | z3.If(discard != 0, bv(DISCARD_BIT), bv(0))
    owner = z3.If(slot_kind(word) == KIND_HEADER, slot_owner(word), rec)
    held, held_n = _held_without(pr, rec)
    status = z3.If(discard != 0, bv(DISCARDED), bv(SUBMITTED))
    return s._replace(
        slots=s.slots.store(idx, header_word(owner, new_len)),
        records=_set_record(s, rec, r._replace(status=status)),
        producers=_set_producer(s, p, pr._replace(pc=bv(P_WAKEUP), cur=rec, flags=flags, held=held,
                                                  held_n=held_n)),
    )


def commit_wakeup(cfg: Config, ring: Ring, s: SymState, p: int) -> SymState:
    """commit.wakeup: queue the wakeup if forced, or if the consumer waits at this very record."""
    pr = s.producers[p]
    at_record = (s.consumer_pos & ring.mask) == (pick(s.records, pr.cur).pos & ring.mask)
    wake = z3.Or(pr.flags & BPF_RB_FORCE_WAKEUP != 0, z3.And(at_record, pr.flags & BPF_RB_NO_WAKEUP == 0))
    irq = z3.Or(s.irq_pending, wake) if cfg.honest else s.irq_pending
    return s._replace(producers=_set_producer(s, p, _idle(pr)), irq_pending=irq)

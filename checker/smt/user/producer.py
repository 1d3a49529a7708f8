"""libbpf's user producer as z3 terms, one function per function of ``model/userring/producer.py``, same names.

Each function takes the symbolic state and returns the symbolic next state;
where the Python step branches, the term has an ``If``. When a step is
enabled is decided in ``checker.smt.user.transition``, as ``user_steps``
decides it in Python.
"""

from __future__ import annotations

import z3

from checker.smt.user.state import U32, SymUserProducer, SymUserState
from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT
from model.state import BUSY, DISCARDED, FAILED, KIND_HEADER, SUBMITTED
from model.userring.producer import E2BIG, ENOSPC
from model.userring.state import U_CLAIM, U_IDLE, U_WRITE
from specs.smt import (Ring, SymRecord, bv, header_word, ite, payload_word, pick, read_len, set_at, slot_index,
                       slot_kind, slot_owner)


def _idle(pr: SymUserProducer, attempts: z3.BitVecRef) -> SymUserProducer:
    """``UserProducer(U_IDLE, attempts, held=pr.held, writes=pr.writes)``: dead locals cleared."""
    return SymUserProducer(bv(U_IDLE), attempts, bv(-1), bv(0), bv(0), pr.held, pr.held_n, pr.writes)


def user_total_size(size: z3.BitVecRef) -> z3.BitVecRef:
    """``model.userring.producer.user_total_size``: ``round_up(size + 8, 8)`` in 32 bits."""
    return ((size + 15) & bv(~7)) & bv(U32)


def reserve_errno(cfg: Config, ring: Ring, size: z3.BitVecRef, cons: z3.BitVecRef,
                  prod: z3.BitVecRef) -> z3.BitVecRef:
    """``model.userring.producer.reserve_errno``: 0, E2BIG or ENOSPC."""
    flagged = z3.Or(size & (BUSY_BIT | DISCARD_BIT) != 0, z3.UGT(size, bv(U32)))
    total = user_total_size(size)
    avail = (ring.size - (prod - cons)) & bv(U32)
    return z3.If(z3.Or(flagged, z3.UGT(total, ring.size)), bv(E2BIG),
                 z3.If(z3.ULT(avail, total), bv(ENOSPC), bv(0)))


def _held_without(pr: SymUserProducer, rec: z3.BitVecRef) -> tuple[tuple[z3.BitVecRef, ...], z3.BitVecRef]:
    """``held`` with ``rec`` removed, order kept (entries past the count stay -1)."""
    out = []
    seen = z3.BoolVal(False)
    for j, h in enumerate(pr.held):
        seen = z3.Or(seen, z3.And(h == rec, z3.ULT(bv(j), pr.held_n)))
        nxt = pr.held[j + 1] if j + 1 < len(pr.held) else bv(-1)
        out.append(z3.If(seen, nxt, h))
    present = z3.Or([z3.And(h == rec, z3.ULT(bv(j), pr.held_n)) for j, h in enumerate(pr.held)])
    return tuple(out), z3.If(present, pr.held_n - 1, pr.held_n)


def _held_with(pr: SymUserProducer, rec: z3.BitVecRef) -> tuple[tuple[z3.BitVecRef, ...], z3.BitVecRef]:
    """``held + (rec,)``."""
    return tuple(z3.If(pr.held_n == j, rec, h) for j, h in enumerate(pr.held)), pr.held_n + 1


def user_reserve(cfg: Config, ring: Ring, s: SymUserState, size: z3.BitVecRef) -> SymUserState:
    """user.reserve: start reserving ``size`` bytes, reading consumer_pos."""
    pr = s.producer
    started = SymUserProducer(bv(U_CLAIM), pr.attempts, pr.attempts, size, s.consumer_pos, pr.held, pr.held_n,
                              pr.writes)
    return s._replace(producer=started)


def user_reserve_claim(cfg: Config, ring: Ring, s: SymUserState) -> SymUserState:
    """user.reserve.claim: refuse (E2BIG, ENOSPC) or write the BUSY header and publish producer_pos."""
    pr = s.producer
    prod = s.producer_pos
    failed = s._replace(records=set_at(s.records, pr.cur, SymRecord(bv(FAILED), bv(0), pr.size, bv(-1))),
                        producer=_idle(pr, pr.attempts + 1))
    seq = z3.Sum([z3.If(z3.UGE(r.status, BUSY), bv(1), bv(0)) for r in s.records]) if s.records else bv(0)
    held, held_n = _held_with(pr, pr.cur)
    claimed = s._replace(
        producer_pos=prod + user_total_size(pr.size),
        slots=s.slots.store(slot_index(ring, prod), header_word(pr.cur, pr.size | BUSY_BIT)),
        records=set_at(s.records, pr.cur, SymRecord(bv(BUSY), prod, pr.size, seq)),
        producer=SymUserProducer(bv(U_WRITE), pr.attempts + 1, pr.cur, bv(0), bv(0), held, held_n, pr.writes))
    return ite(reserve_errno(cfg, ring, pr.size, pr.cons, prod) != 0, failed, claimed)


def user_write(cfg: Config, ring: Ring, s: SymUserState) -> SymUserState:
    """user.write: the payload words after the header, wrapping modulo S, as one range fill of the slots."""
    pr = s.producer
    rec = pick(s.records, pr.cur)
    want = z3.LShR(rec.size + 7, 3)
    words = z3.If(z3.ULT(want, ring.nslots), want, ring.nslots)
    slots = s.slots.fill(slot_index(ring, rec.pos + 8), words, ring.nslots, payload_word(pr.cur))
    return s._replace(slots=slots, producer=_idle(pr, pr.attempts))


def user_commit(cfg: Config, ring: Ring, s: SymUserState, rec: z3.BitVecRef, discard: z3.BitVecRef) -> SymUserState:
    """user.commit: clear BUSY (and set DISCARD for __discard) in the sample's header with one exchange."""
    pr = s.producer
    r = pick(s.records, rec)
    idx = slot_index(ring, r.pos)
    word = s.slots[idx]
    new_len = (read_len(word) & bv(~BUSY_BIT & U32)) | z3.If(discard != 0, bv(DISCARD_BIT), bv(0))
    owner = z3.If(slot_kind(word) == KIND_HEADER, slot_owner(word), rec)
    held, held_n = _held_without(pr, rec)
    status = z3.If(discard != 0, bv(DISCARDED), bv(SUBMITTED))
    return s._replace(slots=s.slots.store(idx, header_word(owner, new_len)),
                      records=set_at(s.records, rec, r._replace(status=status)),
                      producer=pr._replace(held=held, held_n=held_n))

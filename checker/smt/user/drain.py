"""The kernel drain as z3 terms, one function per step of ``model/userring/drain.py``, same names.

The per-sample checks are the explicit model's data: a drain step is given
the same tuple of ``model.userring.drain.Check`` (``PEEK_CHECKS``, or one with
a check deleted by ``without``) and takes each check's program point and
result from it; only the test itself has a z3 twin here (``CHECK_TERMS``, by
the check's name). So a check deleted from the explicit model is deleted
from these steps by passing the same tuple.
"""

from __future__ import annotations

from typing import Callable

import z3

from checker.smt.user.state import SymAdvance, SymDrain, SymUserState, sample_len, sample_total
from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT, HDR_SZ
from model.state import KIND_HEADER, SUBMITTED
from model.userring.drain import DYNPTR_MAX_SIZE, EAGAIN, ENODATA, PEEK_CHECKS, WAKEUP_FLAGS, Check
from model.userring.state import (D_CALLBACK, D_DISCARD, D_END, D_IDLE, D_LOAD_CONS, D_LOAD_PROD, D_READ_HDR,
                                  D_RELEASE, HOSTILE)
from specs.smt import Ring, SymLog, bv, ite, payload_word, pick, read_len, set_at, slot_index, slot_kind, slot_owner

CHECK_TERMS: dict[str, Callable[[Config, Ring, SymDrain], z3.BoolRef]] = {
    "producer_pos_aligned": lambda cfg, ring, d: d.prod & 7 == 0,
    "data_available": lambda cfg, ring, d: z3.ULT(d.cons, d.prod),
    "fits_advertised": lambda cfg, ring, d: z3.ULE(sample_total(d.len), d.prod - d.cons),
    "fits_ring": lambda cfg, ring, d: z3.ULE(sample_total(d.len), ring.size),
    "fits_dynptr": lambda cfg, ring, d: z3.ULE(sample_len(d.len), DYNPTR_MAX_SIZE),
    "discard_skipped": lambda cfg, ring, d: d.len & DISCARD_BIT == 0,
    "busy_stops": lambda cfg, ring, d: d.len & BUSY_BIT == 0,
}
"""Check name -> its test as a z3 Boolean (``Check.passes``'s twin)."""


def _set_drain(s: SymUserState, d: int, dr: SymDrain) -> tuple[SymDrain, ...]:
    return set_at(s.drains, d, dr)


def _cleared() -> SymDrain:
    """``Drain()``."""
    return SymDrain(bv(D_IDLE), bv(0), bv(0), bv(0), bv(0), bv(0), bv(0), z3.BoolVal(False), bv(0))


def _first_failure(cfg: Config, ring: Ring, d: SymDrain, at: int, checks: tuple[Check, ...]) -> z3.BitVecRef:
    """The result of the first of ``checks`` made at ``at`` that fails, 0 if all pass."""
    out = bv(0)
    for c in reversed([c for c in checks if c.at == at]):
        out = z3.If(CHECK_TERMS[c.name](cfg, ring, d), out, bv(c.result))
    return out


def _after_check(s: SymUserState, d: int, dr: SymDrain, failed: z3.BitVecRef, ok_pc: int) -> SymUserState:
    """Go on to ``ok_pc``, or act on a failed check: end (error or no data) or skip a discard."""
    pc = z3.If(failed == 0, bv(ok_pc), z3.If(failed == bv(-EAGAIN), bv(D_DISCARD), bv(D_END)))
    err = z3.If(z3.Or(failed == 0, failed == bv(-EAGAIN)), dr.err, z3.If(failed == bv(-ENODATA), bv(0), failed))
    return s._replace(drains=_set_drain(s, d, dr._replace(pc=pc, err=err)))


def _next_iteration(cfg: Config, dr: SymDrain, stop: z3.BoolRef | None = None) -> SymDrain:
    """After a sample (handed over or skipped): loop again unless stopped or at the sample limit."""
    samples = dr.samples + 1
    done = z3.UGE(samples, cfg.drain_limit)
    if stop is not None:
        done = z3.Or(stop, done)
    return dr._replace(pc=z3.If(done, bv(D_END), bv(D_LOAD_PROD)), samples=samples)


# ------------------------------------------------------------------ steps


def drain_begin(cfg: Config, ring: Ring, s: SymUserState, d: int, flags: z3.BitVecRef) -> SymUserState:
    """drain.begin: unknown flags or a held busy word return at once (no change); else take the busy word."""
    started = s._replace(busy=bv(1), drains=_set_drain(s, d, _cleared()._replace(pc=bv(D_LOAD_PROD), flags=flags)))
    return ite(z3.Or(flags & bv(~WAKEUP_FLAGS) != 0, s.busy != 0), s, started)


def drain_load_prod(cfg: Config, ring: Ring, s: SymUserState, d: int,
                    checks: tuple[Check, ...] = PEEK_CHECKS) -> SymUserState:
    """drain.load_prod: read producer_pos for this sample, then that step's checks."""
    dr = s.drains[d]._replace(prod=s.producer_pos)
    return _after_check(s, d, dr, _first_failure(cfg, ring, dr, D_LOAD_PROD, checks), D_LOAD_CONS)


def drain_load_cons(cfg: Config, ring: Ring, s: SymUserState, d: int,
                    checks: tuple[Check, ...] = PEEK_CHECKS) -> SymUserState:
    """drain.load_cons: read consumer_pos for this sample, then that step's checks."""
    dr = s.drains[d]._replace(cons=s.consumer_pos)
    return _after_check(s, d, dr, _first_failure(cfg, ring, dr, D_LOAD_CONS, checks), D_READ_HDR)


def drain_read_header(cfg: Config, ring: Ring, s: SymUserState, d: int,
                      checks: tuple[Check, ...] = PEEK_CHECKS) -> SymUserState:
    """drain.read_header: read the len word at consumer_pos & mask and judge the sample."""
    dr = s.drains[d]
    dr = dr._replace(len=read_len(s.slots[slot_index(ring, dr.cons)]))
    return _after_check(s, d, dr, _first_failure(cfg, ring, dr, D_READ_HDR, checks), D_CALLBACK)


def drain_skip_discard(cfg: Config, ring: Ring, s: SymUserState, d: int) -> SymUserState:
    """drain.skip_discard: step consumer_pos over a discarded sample; the loop goes on."""
    dr = s.drains[d]
    new = dr.cons + sample_total(dr.len)
    nxt = _next_iteration(cfg, dr._replace(discarded=dr.discarded + 1))
    return s._replace(consumer_pos=new, drains=_set_drain(s, d, nxt),
                      last_advance=SymAdvance(z3.BoolVal(True), dr.cons, dr.cons, new, dr.len, dr.prod))


def sample_identity(cfg: Config, ring: Ring, s: SymUserState, cons: z3.BitVecRef,
                    size: z3.BitVecRef) -> tuple[z3.BitVecRef, z3.BoolRef]:
    """Ghost: (honest record whose header is at ``cons``, or -1; intact?) (``model.userring.drain.sample_identity``)."""
    if not s.records:
        return bv(-1), z3.BoolVal(False)
    word = s.slots[slot_index(ring, cons)]
    owner = slot_owner(word)
    known = z3.And(slot_kind(word) == KIND_HEADER, owner != HOSTILE, z3.ULT(owner, len(s.records)))
    r = pick(s.records, owner)
    want = z3.LShR(size + 7, 3)
    words = z3.If(z3.ULT(want, ring.nslots), want, ring.nslots)
    mine = payload_word(owner)
    if ring.concrete is not None:
        payload_ok = z3.And([z3.Implies(z3.ULT(bv(i), words),
                                        s.slots[slot_index(ring, cons + HDR_SZ + 8 * i)] == mine)
                             for i in range(ring.concrete // 8)])
    else:
        i = z3.BitVec("word", 64)
        payload_ok = z3.ForAll([i], z3.Implies(z3.ULT(i, words),
                                               s.slots[slot_index(ring, cons + HDR_SZ + 8 * i)] == mine))
    intact = z3.And(r.status == SUBMITTED, r.pos == cons, payload_ok)
    return z3.If(known, owner, bv(-1)), z3.And(known, intact)


def _logged(log: SymLog, rec: z3.BitVecRef, intact: z3.BoolRef) -> SymLog:
    """``log`` with (rec, intact) appended; a full log stays as it is (its capacity is chosen so that it
    never fills where its contents matter: see ``checker.smt.user.transition``)."""
    recs = tuple(z3.If(log.n == j, rec, x) for j, x in enumerate(log.recs))
    intact_ = tuple(z3.If(log.n == j, intact, x) for j, x in enumerate(log.intact))
    room = z3.ULT(log.n, len(log.recs))
    return SymLog(z3.If(room, log.n + 1, log.n), recs, intact_)


def drain_callback(cfg: Config, ring: Ring, s: SymUserState, d: int, ret: z3.BitVecRef) -> SymUserState:
    """drain.callback: the callback sees the sample and returns ``ret``; with libbpf's producer the ghost log
    notes who wrote it and whether it is intact (the hostile producer has no samples to log)."""
    dr = s.drains[d]
    nxt = s._replace(drains=_set_drain(s, d, dr._replace(pc=bv(D_RELEASE), stop=ret != 0)))
    if cfg.hostile:
        return nxt
    rec, intact = sample_identity(cfg, ring, s, dr.cons, sample_len(dr.len))
    return nxt._replace(delivered=_logged(s.delivered, rec, intact))


def drain_release(cfg: Config, ring: Ring, s: SymUserState, d: int) -> SymUserState:
    """drain.release: consumer_pos (re-read) past the sample, whatever the callback returned."""
    dr = s.drains[d]
    old = s.consumer_pos
    new = old + sample_total(sample_len(dr.len))
    return s._replace(consumer_pos=new, drains=_set_drain(s, d, _next_iteration(cfg, dr, dr.stop)),
                      last_advance=SymAdvance(z3.BoolVal(True), dr.cons, old, new, dr.len, dr.prod))


def drain_end(cfg: Config, ring: Ring, s: SymUserState, d: int) -> SymUserState:
    """drain.end: release the busy word; the drain's locals are cleared."""
    return s._replace(busy=bv(0), drains=_set_drain(s, d, _cleared()))

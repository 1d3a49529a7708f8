"""Named auxiliary invariants for the inductive proofs, over the symbolic states of ``specs.smt``.

Each invariant is a function ``(cfg, ring, s) -> z3 Bool`` with a name and a
one-line statement. Together with the property they make an inductive
invariant: true initially, and kept by every action (checked per invariant and
per action kind in ``checker.smt.prove``). Notation: a record is *reserved*
once claimed (status BUSY, SUBMITTED or DISCARDED); ``len(r)`` is its length
on the ring; ``back(r) = producer_pos - pos(r)`` (mod 2**64) is how far
behind producer_pos it starts; the *window* is ``[pending_pos, producer_pos)``
and ``span = producer_pos - pending_pos``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import z3

from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT, MAX_RECORD_SZ
from model.state import (BUSY, C_DELIVER, C_LOAD_PROD, C_NONE, C_READ_HDR, C_SLEEP, C_STORE, DISCARDED, FAILED, P_CLAIM, P_LOAD_CONS, P_LOCK, P_OVER_CLAIM,
                         P_OVER_SCAN, P_SCAN, P_WAKEUP,
                         P_WRITE, SUBMITTED, UNUSED)
from specs.smt import Ring, SymState, bv, header_word, payload_word, record_length, slot_index

NO_WRAP = 1 << 40
"""Every reserved record starts less than 2**40 bytes behind producer_pos: a run of at most
P*E <= 128 records of at most 2**32 bytes each never laps the 64-bit counter twice."""


@dataclass(frozen=True)
class Invariant:
    """An auxiliary invariant: its name, what it says, and its formula."""

    name: str
    statement: str
    formula: Callable[[Config, Ring, SymState], z3.BoolRef]


def _reserved(r) -> z3.BoolRef:
    return z3.And(z3.UGE(r.status, BUSY), z3.ULE(r.status, DISCARDED))


def _back(s: SymState, r) -> z3.BitVecRef:
    return s.producer_pos - r.pos


def _reserved_count(s: SymState) -> z3.BitVecRef:
    return z3.Sum([z3.If(_reserved(r), bv(1), bv(0)) for r in s.records])


def _owner_range(cfg: Config, p: int) -> range:
    return range(p * cfg.records, (p + 1) * cfg.records)


def well_formed(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    out = [z3.Or(s.lock == -1, z3.ULT(s.lock, cfg.producers))]
    out += [z3.ULE(r.status, DISCARDED) for r in s.records]
    for pr in s.producers:
        out += [z3.ULE(pr.pc, P_OVER_CLAIM if cfg.rules.overwrite else P_WAKEUP), z3.ULE(pr.attempts, cfg.records),
                z3.ULE(pr.held_n, cfg.hold)]
        if not cfg.wakeup_flags:
            out.append(pr.flags == 0)
    if not cfg.honest:
        out.append(s.consumer.pc == C_NONE)
    return z3.And(out)


def ownership(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    out = []
    for p, pr in enumerate(s.producers):
        base = p * cfg.records
        valid = [(j, h) for j, h in enumerate(pr.held)]
        for j, h in valid:
            there = z3.ULT(bv(j), pr.held_n)
            out.append(z3.Implies(there, z3.And(z3.UGE(h, base), z3.ULT(h, bv(base) + pr.attempts))))
            for j2, h2 in valid[j + 1:]:
                out.append(z3.Implies(z3.And(there, z3.ULT(bv(j2), pr.held_n)), h != h2))
        for i in _owner_range(cfg, p):
            r = s.records[i]
            used = z3.ULT(bv(i - base), pr.attempts)
            held = z3.Or([z3.And(z3.ULT(bv(j), pr.held_n), h == i) for j, h in valid])
            out.append(z3.If(used, z3.And(r.status != UNUSED, (r.status == BUSY) == held), r.status == UNUSED))
            out.append(z3.Implies(z3.Or(r.status == UNUSED, r.status == FAILED), r.seq == -1))
        reserving = z3.And(z3.UGE(pr.pc, P_LOAD_CONS), z3.ULE(pr.pc, P_CLAIM))
        if cfg.rules.overwrite:
            reserving = z3.Or(reserving, pr.pc == P_OVER_SCAN, pr.pc == P_OVER_CLAIM)
        out.append(z3.Implies(reserving, z3.And(pr.cur == bv(base) + pr.attempts,
                                                z3.ULT(pr.attempts, cfg.records),
                                                z3.ULT(pr.held_n, cfg.hold))))
        mine = z3.And(z3.UGE(pr.cur, base), z3.ULT(pr.cur, bv(base) + pr.attempts))
        status = {i: s.records[i].status for i in _owner_range(cfg, p)}
        cur_status = z3.Sum([z3.If(pr.cur == i, st, bv(0)) for i, st in status.items()])
        out.append(z3.Implies(pr.pc == P_WRITE, z3.And(mine, cur_status == BUSY)))
        out.append(z3.Implies(pr.pc == P_WAKEUP, z3.And(mine, z3.Or(cur_status == SUBMITTED,
                                                                       cur_status == DISCARDED))))
    return z3.And(out)


def _under_lock(cfg: Config, pr) -> z3.BoolRef:
    """The producer holds the lock after reading the positions (scan, claim; overwrite mode's two more)."""
    pcs = [P_SCAN, P_CLAIM] + ([P_OVER_SCAN, P_OVER_CLAIM] if cfg.rules.overwrite else [])
    return z3.Or([pr.pc == pc for pc in pcs])


def lock_owner(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    out = []
    for p, pr in enumerate(s.producers):
        inside = _under_lock(cfg, pr)
        out.append((s.lock == p) == inside)
        out.append(z3.Implies(inside, pr.prod == s.producer_pos))
    return z3.And(out)


def sizes(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    out = []
    for r in s.records:
        ok = z3.ULE(r.size, MAX_RECORD_SZ)
        if cfg.checks_record_size:
            ok = z3.And(ok, z3.ULE(record_length(r.size), ring.size))
        out.append(z3.Implies(_reserved(r), ok))
    for pr in s.producers:
        reserving = z3.And(z3.UGE(pr.pc, P_LOCK), z3.ULE(pr.pc, P_CLAIM))
        if cfg.rules.overwrite:
            reserving = z3.Or(reserving, pr.pc == P_OVER_SCAN, pr.pc == P_OVER_CLAIM)
        ok = z3.ULE(pr.size, MAX_RECORD_SZ)
        if cfg.checks_record_size:
            ok = z3.And(ok, z3.ULE(record_length(pr.size), ring.size))
        out.append(z3.Implies(z3.Or(reserving, pr.pc == P_LOAD_CONS), ok))
    return z3.And(out)


def tiling(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    recs = s.records
    out = []
    for i, r in enumerate(recs):
        back, ln = _back(s, r), record_length(r.size)
        nxt = [r.pos + ln == s.producer_pos]
        nxt += [z3.And(_reserved(r2), r2.pos == r.pos + ln) for j, r2 in enumerate(recs) if j != i]
        out.append(z3.Implies(_reserved(r), z3.And(z3.ULE(ln, back), z3.ULE(back, NO_WRAP), z3.Or(nxt))))
        for r2 in recs[i + 1:]:
            b2, ln2 = _back(s, r2), record_length(r2.size)
            # disjoint as "one ends at or before the other starts", measured back from producer_pos; written
            # with subtractions (no carry past ln <= back) because the solvers settle that form far faster
            # once four records are in play
            apart = z3.Or(z3.UGE(back - ln, b2), z3.UGE(b2 - ln2, back))
            out.append(z3.Implies(z3.And(_reserved(r), _reserved(r2)), apart))
    return z3.And(out)


def distinct_slots(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    out = []
    for i, r in enumerate(s.records):
        near = z3.And(_reserved(r), z3.ULT(_back(s, r), ring.size))
        for r2 in s.records[i + 1:]:
            near2 = z3.And(_reserved(r2), z3.ULT(_back(s, r2), ring.size))
            out.append(z3.Implies(z3.And(near, near2), slot_index(ring, r.pos) != slot_index(ring, r2.pos)))
    return z3.And(out)


def _boundary(s: SymState, pos: z3.BitVecRef) -> z3.BoolRef:
    return z3.Or([pos == s.producer_pos] + [z3.And(_reserved(r), r.pos == pos) for r in s.records])


def pending_window(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    span = s.producer_pos - s.pending_pos
    out = [z3.ULE(span, ring.mask), _boundary(s, s.pending_pos)]
    out += [z3.Implies(r.status == BUSY, z3.ULE(_back(s, r), span)) for r in s.records]
    return z3.And(out)


def status_bits(r) -> z3.BitVecRef:
    """The BUSY/DISCARD bits a reserved record's header carries for its status."""
    return z3.If(r.status == BUSY, bv(BUSY_BIT), z3.If(r.status == DISCARDED, bv(DISCARD_BIT), bv(0)))


def window_headers(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    span = s.producer_pos - s.pending_pos
    behind_c = s.producer_pos - s.consumer_pos
    return z3.And([z3.Implies(z3.And(_reserved(r), z3.Or(z3.ULE(_back(s, r), span),
                                                         z3.ULE(_back(s, r), behind_c) if cfg.honest else False)),
                              s.slots[slot_index(ring, r.pos)] == header_word(bv(i), r.size | status_bits(r)))
                   for i, r in enumerate(s.records)])


def scan_cursor(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    span = s.producer_pos - s.pending_pos
    out = []
    for pr in s.producers:
        inside = _under_lock(cfg, pr)
        behind = s.producer_pos - pr.pend
        facts = [z3.ULE(behind, span), _boundary(s, pr.pend)]
        facts += [z3.Implies(r.status == BUSY, z3.ULE(_back(s, r), behind)) for r in s.records]
        out.append(z3.Implies(inside, z3.And(facts)))
        out.append(z3.Implies(pr.pc == P_SCAN, z3.ULT(pr.pend, pr.prod)))
    return z3.And(out)


def positions_aligned(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    out = [s.producer_pos & 7 == 0, s.pending_pos & 7 == 0]
    out += [z3.Implies(_reserved(r), r.pos & 7 == 0) for r in s.records]
    out += [z3.Implies(z3.Or(pr.pc == P_SCAN, pr.pc == P_CLAIM), pr.pend & 7 == 0) for pr in s.producers]
    if cfg.rules.overwrite:
        out += [s.overwrite_pos & 7 == 0]
        out += [z3.Implies(_under_lock(cfg, pr), pr.pend & 7 == 0) for pr in s.producers]
        out += [z3.Implies(z3.Or(pr.pc == P_OVER_SCAN, pr.pc == P_OVER_CLAIM), pr.over & 7 == 0)
                for pr in s.producers]
    return z3.And(out)


def consumer_aligned(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    return s.consumer_pos & 7 == 0


COMMON = [
    Invariant("well_formed", "program points, statuses, counts, commit flags and the lock hold values the model "
                             "can give them",
              well_formed),
    Invariant("ownership", "producer p's records are ids p*E..; used ids are not UNUSED; a record is BUSY exactly "
                           "when its owner holds it; a reserving producer's cur is its next id", ownership),
    Invariant("lock_owner", "the lock is held by p exactly while p scans or claims, and then p.prod = producer_pos",
              lock_owner),
    Invariant("sizes", "reserved and in-flight sizes passed reserve's step-0 checks", sizes),
    Invariant("tiling", "reserved records lie behind producer_pos, less than 2**40 bytes back, pairwise disjoint "
                        "on the line, each ending where another starts or at producer_pos", tiling),
    Invariant("positions_aligned", "producer_pos, pending_pos, record starts and scan cursors are multiples of 8",
              positions_aligned),
    Invariant("distinct_slots", "reserved records that start less than S bytes behind producer_pos have their "
                                "headers in distinct words of the data area (a lemma: it spares the solver "
                                "re-deriving it from tiling under a symbolic mask)", distinct_slots),
]
PENDING = [
    Invariant("pending_window", "producer_pos - pending_pos <= S-1, pending_pos is a record start or producer_pos, "
                                "and every BUSY record starts at or after it", pending_window),
    Invariant("window_headers", "every reserved record in [pending_pos, producer_pos) (and, honest consumer, in "
                                "[consumer_pos, producer_pos)) has its own header with its status bits",
              window_headers),
    Invariant("scan_cursor", "a scanning or claiming producer's pend is a record start (or producer_pos) in the "
                             "window with every BUSY record at or after it; scanning means pend < prod",
              scan_cursor),
]
def overwrite_window(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    kept = s.producer_pos - s.overwrite_pos
    return z3.And(z3.ULE(kept, ring.mask), z3.ULE(s.producer_pos - s.pending_pos, kept),
                  _boundary(s, s.overwrite_pos))


def overwrite_headers(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    kept = s.producer_pos - s.overwrite_pos
    return z3.And([z3.Implies(z3.And(_reserved(r), z3.ULE(_back(s, r), kept)),
                              s.slots[slot_index(ring, r.pos)] == header_word(bv(i), r.size | status_bits(r)))
                   for i, r in enumerate(s.records)])


def overwrite_cursor(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    out = []
    for pr in s.producers:
        moving = z3.Or(pr.pc == P_OVER_SCAN, pr.pc == P_OVER_CLAIM)
        behind = s.producer_pos - pr.over
        new_prod = pr.prod + record_length(pr.size)
        facts = [pr.pend == s.pending_pos, z3.ULE(new_prod - pr.pend, ring.mask),
                 z3.ULE(s.producer_pos - pr.pend, behind), z3.ULE(behind, s.producer_pos - s.overwrite_pos),
                 _boundary(s, pr.over),
                 (pr.pc == P_OVER_SCAN) == z3.UGT(new_prod - pr.over, ring.mask)]
        out.append(z3.Implies(moving, z3.And(facts)))
    return z3.And(out)


OVERWRITE = [
    Invariant("overwrite_window", "producer_pos - overwrite_pos <= S-1, overwrite_pos is a record start or "
                                  "producer_pos, at or before pending_pos", overwrite_window),
    Invariant("overwrite_headers", "every reserved record in [overwrite_pos, producer_pos) has its own header "
                                   "with its status bits", overwrite_headers),
    Invariant("overwrite_cursor", "a producer moving overwrite_pos has stored pending_pos = pend, its new record "
                                  "fits after pend, and its cursor is a record start between overwrite_pos and "
                                  "pend; it scans exactly while the new record does not fit after the cursor",
              overwrite_cursor),
]
"""Overwrite mode's auxiliary invariants (``Rules.overwrite``), added after PENDING's."""

CONSUMER_ALIGNED = Invariant("consumer_aligned", "consumer_pos is a multiple of 8 (the adversary stores "
                                                 "multiples of 8 in the aligned proof)", consumer_aligned)


def consumer_window(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    behind_c = s.producer_pos - s.consumer_pos
    out = [z3.ULE(behind_c, ring.mask), _boundary(s, s.consumer_pos), s.consumer_pos & 7 == 0]
    out += [z3.Implies(r.status == BUSY, z3.ULE(_back(s, r), behind_c)) for r in s.records]
    for pr in s.producers:
        stale = s.producer_pos - pr.cons
        out.append(z3.Implies(z3.And(z3.UGE(pr.pc, P_LOCK), z3.ULE(pr.pc, P_CLAIM)),
                              z3.And(z3.UGE(stale, behind_c), z3.ULE(stale, NO_WRAP))))
    return z3.And(out)


def consumer_cursor(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    c = s.consumer
    P = s.producer_pos
    prod_ok = z3.And(_boundary(s, c.prod), z3.ULE(P - c.prod, P - c.cons))
    at_c = []
    for i, r in enumerate(s.records):
        ln = record_length(r.size)
        at_c.append(z3.And(_reserved(r), r.status != BUSY, r.pos == s.consumer_pos, r.pos + ln == c.cons,
                           c.len == r.size | status_bits(r),
                           z3.Implies(c.pc == C_DELIVER, r.status == SUBMITTED)))
    return z3.And(
        z3.ULE(c.pc, C_SLEEP),
        z3.Implies(c.pc == C_LOAD_PROD, c.cons == s.consumer_pos),
        z3.Implies(c.pc == C_READ_HDR, z3.And(c.cons == s.consumer_pos, z3.ULT(c.cons, c.prod), prod_ok)),
        z3.Implies(z3.Or(c.pc == C_DELIVER, c.pc == C_STORE), z3.And(z3.Or(at_c), prod_ok)))


def seq_order(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    m = _reserved_count(s)
    out = []
    for i, r in enumerate(s.records):
        out.append(z3.Implies(_reserved(r), z3.ULT(r.seq, m)))
        for r2 in s.records[i + 1:]:
            both = z3.And(_reserved(r), _reserved(r2))
            out.append(z3.Implies(both, z3.And(r.seq != r2.seq,
                                               z3.ULT(r.seq, r2.seq) == z3.UGT(_back(s, r), _back(s, r2)))))
    return z3.And(out)


def delivered_log(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    c = s.consumer
    frontier = z3.If(c.pc == C_STORE, s.producer_pos - c.cons, s.producer_pos - s.consumer_pos)
    log = s.delivered
    out = [z3.ULE(log.n, len(log.recs))]
    places = [(z3.ULT(bv(j), log.n), rec) for j, rec in enumerate(log.recs)]
    out += [z3.Implies(there, z3.Or([rec == i for i in range(len(s.records))])) for there, rec in places]
    # stated per record rather than per log place: one implication per record whose premise is "some place
    # names it", which keeps each conjunct about one record (the per-place form made every conjunct a case
    # split over all records, and 4-record queries on it did not return in 300 s)
    for i, r in enumerate(s.records):
        logged = z3.Or([z3.And(there, rec == i) for there, rec in places])
        ends_before = z3.UGE(_back(s, r) - record_length(r.size), frontier)
        out.append(z3.Implies(logged, z3.And(r.status == SUBMITTED, ends_before)))
    return z3.And(out)


def sleep_with_reason(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    at_c = []
    for i, r in enumerate(s.records):
        waking = z3.Or([z3.And(pr.pc == P_WAKEUP, pr.cur == i) for pr in s.producers])
        at_c.append(z3.And(_reserved(r), r.pos == s.consumer_pos, z3.Or(r.status == BUSY, waking)))
    asleep = z3.And(s.consumer.pc == C_SLEEP, z3.Not(s.irq_pending))
    return z3.Implies(asleep, z3.Or([s.consumer_pos == s.producer_pos] + at_c))


def window_payloads(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    behind_c = s.producer_pos - s.consumer_pos
    out = []
    for i, r in enumerate(s.records):
        want = z3.LShR(r.size + 7, 3)
        words = z3.If(z3.ULT(want, ring.nslots), want, ring.nslots)
        w = z3.BitVec(f"w{i}", 64)
        word = s.slots[slot_index(ring, r.pos + 8 + 8 * w)]
        mine = z3.ForAll([w], z3.Implies(z3.ULT(w, words), word == payload_word(bv(i))))
        writing = z3.Or([z3.And(pr.pc == P_WRITE, pr.cur == i) for pr in s.producers])
        written = z3.And(_reserved(r), z3.Not(writing), z3.ULE(_back(s, r), behind_c))
        out.append(z3.Implies(written, mine))
    return z3.And(out)


def log_distinct(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    log = s.delivered
    out = [z3.ULE(log.n, len(log.recs))]
    for j, rec in enumerate(log.recs):
        there = z3.ULT(bv(j), log.n)
        out.append(z3.Implies(z3.Not(there), z3.And(rec == -1, z3.Not(log.intact[j]))))
        out += [z3.Implies(there, rec != rec2) for rec2 in log.recs[j + 1:]]
    return z3.And(out)


def log_room(cfg: Config, ring: Ring, s: SymState) -> z3.BoolRef:
    return z3.Implies(s.consumer.pc == C_DELIVER, z3.ULT(s.delivered.n, len(s.delivered.recs)))


HONEST_LEVEL = [
    Invariant("consumer_window", "producer_pos - consumer_pos <= S-1, consumer_pos is a record start (or "
                                 "producer_pos), every BUSY record is at or after it, and a producer's loaded "
                                 "cons is at or before it", consumer_window),
    Invariant("consumer_cursor", "reading a header: cons = consumer_pos < prod; delivering or storing: the "
                                 "record at consumer_pos is committed, ends at cons and len is its header",
              consumer_cursor),
    Invariant("seq_order", "reserved records have distinct seqs, reservation order (seq) is position order, and "
                           "seqs are below the number of reserved records", seq_order),
    Invariant("delivered_log", "every delivered sample is a submitted record that ends at or before the "
                               "consumer's frontier", delivered_log),
    Invariant("log_distinct", "the ghost log's entries are distinct records; places past its count are empty",
              log_distinct),
    Invariant("log_room", "a consumer about to deliver finds room in the ghost log (capacity P*E), so the bounded "
                          "log never stops a delivery the model would make", log_room),
    Invariant("window_payloads", "every reserved record the consumer has not passed, once its payload write "
                                 "is done, holds its own payload in every word (quantified over words)",
              window_payloads),
    Invariant("sleep_with_reason", "a consumer asleep with no wakeup queued has consumed everything, or the "
                                   "record at consumer_pos is BUSY or its committer has yet to run its wakeup",
              sleep_with_reason),
]


def memory_safety_invariants(cfg: Config) -> list[Invariant]:
    """The auxiliary invariants for this variant (and, with the level-triggered consumer, the consumer's)."""
    extra = HONEST_LEVEL if cfg.consumer == "level" else []
    return COMMON + (PENDING if cfg.has_pending else []) + (OVERWRITE if cfg.rules.overwrite else []) + extra

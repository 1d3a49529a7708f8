"""Memory-safety properties: what must hold in every state, whoever the consumer is.

These are the properties the two ring buffer CVEs violate. Each is a Python
predicate here, with its SMT encoding right below it under the same name plus
``_smt`` (over the symbolic states of ``specs.smt``); the encoding is true
exactly when the predicate returns None, which ``ringcheck crosscheck`` tests.

Under weak memory (``--memory tso`` or ``ra``) every predicate reads the same
State fields, which are then the *newest* value of each location, a store
counting as soon as its actor executed it (``model.state``): a BUSY header
still in its owner's TSO store buffer is its header, not an overwrite; a
producer_pos published by a claim whose stores have not drained is the new
one. Each docstring says why that is the right value for its property.
"""

from __future__ import annotations

import z3

from model.config import Config
from model.constants import BUSY_BIT, distance, is_ahead, record_length
from model.state import BUSY, State, header_word
from specs import smt as Z
from specs.property import prop, smt_of


def live_records(cfg: Config, s: State) -> list[int]:
    """Records whose bytes are still in use: reserved and uncommitted, or (honest consumer) committed and not yet passed.

    Overwrite mode: producers never wait for any consumer, so a committed record is in use
    until overwrite_pos passes it, whoever the consumer is (specs.overwrite).
    """
    out = []
    for i, r in enumerate(s.records):
        if r.status == BUSY:
            out.append(i)
        elif r.status > BUSY and cfg.rules.overwrite:
            if is_ahead(r.pos, s.overwrite_pos, cfg.position_bits):
                out.append(i)
        elif r.status > BUSY and cfg.honest and is_ahead(r.pos, s.consumer_pos, cfg.position_bits):
            out.append(i)
    return out


def live_records_smt(cfg: Config, s: Z.SymState) -> list[z3.BoolRef]:
    """``live_records`` as one Boolean per record."""
    out = []
    for r in s.records:
        if cfg.rules.overwrite:
            out.append(z3.Or(r.status == BUSY, z3.And(z3.UGT(r.status, BUSY), Z.is_ahead(r.pos, s.overwrite_pos))))
            continue
        committed_ahead = z3.And(z3.UGT(r.status, BUSY), Z.is_ahead(r.pos, s.consumer_pos))
        out.append(z3.Or(r.status == BUSY, committed_ahead) if cfg.honest else r.status == BUSY)
    return out


def ranges_overlap(a: int, len_a: int, b: int, len_b: int, ring_size: int) -> bool:
    """Do byte ranges [a, a+len_a) and [b, b+len_b), taken modulo the ring size, share a byte?"""
    if len_a >= ring_size or len_b >= ring_size:
        return True
    d = (b - a) % ring_size
    return d < len_a or d + len_b > ring_size


def ranges_overlap_smt(ring: Z.Ring, a: z3.BitVecRef, len_a: z3.BitVecRef, b: z3.BitVecRef,
                       len_b: z3.BitVecRef) -> z3.BoolRef:
    """``ranges_overlap`` over terms (lengths are below 2**33, so ``d + len_b`` cannot wrap)."""
    d = (b - a) & ring.mask
    return z3.Or(z3.UGE(len_a, ring.size), z3.UGE(len_b, ring.size),
                 z3.ULT(d, len_a), z3.UGT(d + len_b, ring.size))


@prop("in_bounds", catches="CVE-2021-3489: v5.8 accepted a record longer than the ring, "
                           "so the program wrote past the double-mapped area")
def in_bounds(cfg: Config, s: State, terminal: bool) -> str | None:
    """Every reserved record is at most S bytes long, so it fits the double mapping.

    Weak memory: about the ghost records only, so the same under every model.
    """
    for i, r in enumerate(s.records):
        if r.status >= BUSY and record_length(r.size) > cfg.ring_size:
            return f"record {i} takes {record_length(r.size)} bytes on a ring of {cfg.ring_size}"
    return None


@smt_of("in_bounds")
def in_bounds_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``in_bounds``."""
    return z3.And([z3.Implies(z3.UGE(r.status, BUSY), z3.ULE(Z.record_length(r.size), ring.size))
                   for r in s.records])


@prop("no_overlap", catches="CVE-2024-41009: with consumer_pos stored ahead, a second "
                            "reservation could cover the first record's header")
def no_overlap(cfg: Config, s: State, terminal: bool) -> str | None:
    """Live records (reserved-uncommitted, and with an honest consumer committed-unconsumed) use disjoint bytes.

    Weak memory: "unconsumed" is judged on the consumer's newest consumer_pos:
    a record it has passed in its own program order has been delivered, and
    a producer's space check only frees bytes on a consumer_pos it has read,
    never newer than that, so an overlap with anything the consumer still
    needs is flagged.
    """
    live = live_records(cfg, s)
    recs = s.records
    for x, i in enumerate(live):
        a = recs[i]
        for j in live[x + 1:]:
            b = recs[j]
            if ranges_overlap(a.pos, record_length(a.size), b.pos, record_length(b.size), cfg.ring_size):
                return (f"record {i} at {a.pos & cfg.mask}+{record_length(a.size)} and record {j} "
                        f"at {b.pos & cfg.mask}+{record_length(b.size)} overlap")
    return None


@smt_of("no_overlap")
def no_overlap_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``no_overlap``: every pair of live records is disjoint."""
    live = live_records_smt(cfg, s)
    recs = s.records
    pairs = []
    for i in range(len(recs)):
        for j in range(i + 1, len(recs)):
            a, b = recs[i], recs[j]
            overlap = ranges_overlap_smt(ring, a.pos, Z.record_length(a.size), b.pos, Z.record_length(b.size))
            pairs.append(z3.Not(z3.And(live[i], live[j], overlap)))
    return z3.And(pairs)


@prop("header_integrity", catches="CVE-2024-41009: the overlapping record's payload overwrote "
                                  "a busy header's pg_off, so commit wrote through a forged pointer")
def header_integrity(cfg: Config, s: State, terminal: bool) -> str | None:
    """Every uncommitted record's header still holds its own len|BUSY and pg_off.

    Weak memory: the header slot's newest value, so a BUSY header still in
    its owner's store buffer (TSO) is intact, and another actor's store to it
    counts as an overwrite as soon as it is executed (RA: the slot's
    coherence-latest message is the one commit's xchg will read).
    """
    for i, r in enumerate(s.records):
        if r.status == BUSY:
            if s.slots[(r.pos & cfg.mask) >> 3] != header_word(i, r.size | (1 << 31)):
                return f"header of busy record {i} at offset {r.pos & cfg.mask} was overwritten"
    return None


@smt_of("header_integrity")
def header_integrity_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``header_integrity``."""
    return z3.And([z3.Implies(r.status == BUSY, s.slots[Z.slot_index(ring, r.pos)]
                              == Z.header_word(Z.bv(i), r.size | BUSY_BIT))
                   for i, r in enumerate(s.records)])


@prop("capacity", catches="a space check that lets producer_pos run more than S ahead "
                          "(honest consumer) or lets records escape [pending_pos, producer_pos)",
      variants=lambda r: not r.overwrite)
def capacity(cfg: Config, s: State, terminal: bool) -> str | None:
    """Honest consumer: producer_pos - consumer_pos <= S. Pending variants: busy records lie in [pending_pos, producer_pos), which spans <= S.

    Weak memory: on the newest values, i.e. as the lock holder that wrote
    producer_pos and pending_pos sees them (a claim's stores still in its
    buffer count) and as the consumer's own program order has consumer_pos;
    a producer's space check used a consumer_pos no newer than that.
    """
    if cfg.honest:
        ahead = distance(s.producer_pos, s.consumer_pos, cfg.position_bits)
        if ahead > cfg.ring_size:
            return f"producer_pos is {ahead} bytes ahead of consumer_pos on a ring of {cfg.ring_size}"
    if cfg.has_pending:
        span = distance(s.producer_pos, s.pending_pos, cfg.position_bits)
        if span > cfg.ring_size:
            return f"producer_pos is {span} bytes past pending_pos on a ring of {cfg.ring_size}"
        for i, r in enumerate(s.records):
            if r.status == BUSY and distance(r.pos, s.pending_pos, cfg.position_bits) + record_length(r.size) > span:
                return f"busy record {i} at {r.pos} lies outside [pending_pos, producer_pos)"
    return None


@smt_of("capacity")
def capacity_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``capacity`` (the sums are taken in 65 bits, as Python's unbounded ints would)."""
    out = []
    if cfg.honest:
        out.append(z3.ULE(Z.distance(s.producer_pos, s.consumer_pos), ring.size))
    if cfg.has_pending:
        span = Z.distance(s.producer_pos, s.pending_pos)
        out.append(z3.ULE(span, ring.size))
        for r in s.records:
            end = z3.ZeroExt(1, Z.distance(r.pos, s.pending_pos)) + z3.ZeroExt(1, Z.record_length(r.size))
            out.append(z3.Implies(r.status == BUSY, z3.ULE(end, z3.ZeroExt(1, span))))
    return z3.And(out)


@prop("aligned", catches="a position or record start that is not a multiple of 8 "
                         "(misaligned headers, torn len words)")
def aligned(cfg: Config, s: State, terminal: bool) -> str | None:
    """consumer_pos, producer_pos, pending_pos and every record position are multiples of 8.

    Weak memory: on the newest values (every value ever stored is checked as it is stored).
    """
    for name in ("consumer_pos", "producer_pos", "pending_pos"):
        if getattr(s, name) % 8:
            return f"{name} = {getattr(s, name)} is not a multiple of 8"
    for i, r in enumerate(s.records):
        if r.status >= BUSY and r.pos % 8:
            return f"record {i} starts at {r.pos}, not a multiple of 8"
    return None


@smt_of("aligned")
def aligned_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``aligned``."""
    out = [p & 7 == 0 for p in (s.consumer_pos, s.producer_pos, s.pending_pos)]
    out += [z3.Implies(z3.UGE(r.status, BUSY), r.pos & 7 == 0) for r in s.records]
    return z3.And(out)

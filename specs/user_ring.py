"""Properties of the user ring buffer (docs/protocol.md#6, last paragraph; docs/user-ringbuf.md).

Kernel safety, against any user space (``user_producer`` libbpf or adversarial):

* ``user_sample_bounds``: the callback only sees bytes inside
  ``[consumer_pos, producer_pos)`` (producer_pos as the kernel read it for
  that sample: user space may change it after) and inside the data area;
* ``user_validated_advance``: consumer_pos moves forward only by sizes the
  kernel validated;
* ``user_exclusive_drain``: two drains never run at once;
* ``user_dynptr_fits``: the sample handed to the callback has a size a
  dynptr can describe (at most ``DYNPTR_MAX_SIZE``);
* ``user_aligned_prod``: no sample is handed over from a peek that read a
  misaligned producer_pos (the helper's documented -EINVAL; a contract, not
  memory safety).

Delivery, with libbpf's producer (with the adversarial one there are no
honest samples and these hold vacuously, as the kernel ring's delivery
properties do under the adversarial consumer): samples arrive in reservation
order, exactly once, only submitted and intact, discarded ones skipped.

Each predicate reads only the ``UserState`` and the config, so an SMT
encoding can sit beside it under the same name (``@smt_of``).
"""

from __future__ import annotations

import z3

from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT
from model.state import DISCARDED, STATUS_NAMES, SUBMITTED
from model.userring.drain import DYNPTR_MAX_SIZE, sample_len, sample_total
from model.userring.state import D_CALLBACK, RUNNING, UserState
from specs import smt as Z
from specs.property import prop, smt_of

USER = ("user",)


@prop("user_sample_bounds", maps=USER,
      catches="a drain that hands the callback bytes past what producer_pos advertises or longer than the "
              "ring (a kernel read outside the mapped data area), or bytes behind consumer_pos that the "
              "producer may already reuse")
def user_sample_bounds(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """A sample at a callback lies inside [consumer_pos, producer_pos) and inside the data area.

    For every drain at its callback: the sample (header and payload,
    ``round_up(len + 8, 8)`` bytes from the position its peek read) starts at
    consumer_pos, ends at or before the producer_pos that peek read, and is at
    most S bytes long, so it lies within the double-mapped data area.
    """
    for d, dr in enumerate(s.drains):
        if dr.pc != D_CALLBACK:
            continue
        total = sample_total(dr.len)
        if dr.cons != s.consumer_pos:
            return f"d{d}'s callback sees a sample at {dr.cons:#x} but consumer_pos is {s.consumer_pos:#x}"
        if not dr.cons < dr.prod or dr.cons + total > dr.prod:
            return (f"d{d}'s callback sees [{dr.cons:#x}, {dr.cons + total:#x}) beyond producer_pos "
                    f"{dr.prod:#x}")
        if total > cfg.ring_size:
            return f"d{d}'s callback sees a sample of {total} bytes in a ring of {cfg.ring_size}"
    return None


def sample_total_smt(len_word: z3.BitVecRef) -> z3.BitVecRef:
    """``model.userring.drain.sample_total`` over terms: flag bits stripped, ``round_up(len + 8, 8)`` in 32 bits."""
    size = len_word & Z.bv(~(BUSY_BIT | DISCARD_BIT) & 0xFFFFFFFF)
    return ((size + 15) & Z.bv(~7)) & Z.bv(0xFFFFFFFF)


def ends_by_smt(start: z3.BitVecRef, total: z3.BitVecRef, end: z3.BitVecRef) -> z3.BoolRef:
    """``start + total <= end`` as the predicates compute it, on unbounded integers (in 65 bits: no wrap)."""
    return z3.ULE(z3.ZeroExt(1, start) + z3.ZeroExt(1, total), z3.ZeroExt(1, end))


@smt_of("user_sample_bounds")
def user_sample_bounds_smt(cfg: Config, ring: Z.Ring, s, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``user_sample_bounds`` (``s``: a ``checker.smt.user.state.SymUserState``)."""
    out = []
    for dr in s.drains:
        total = sample_total_smt(dr.len)
        inside = z3.And(dr.cons == s.consumer_pos, z3.ULT(dr.cons, dr.prod), ends_by_smt(dr.cons, total, dr.prod),
                        z3.ULE(total, ring.size))
        out.append(z3.Implies(dr.pc == D_CALLBACK, inside))
    return z3.And(out)


@prop("user_validated_advance", maps=USER,
      catches="a drain that moves consumer_pos by an unchecked header length, or from a position other "
              "than the one it checked")
def user_validated_advance(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """consumer_pos moves forward only by validated sizes.

    The last store of consumer_pos (ghost ``last_advance``) starts from the
    position the sample was checked at and moves forward by exactly the
    sample's rounded size, which fits what producer_pos advertised (as read
    for that sample) and fits the ring.
    """
    a = s.last_advance
    if a is None:
        return None
    total = sample_total(a.len)
    if a.old != a.at:
        return f"consumer_pos stored from {a.old:#x}, but the sample was checked at {a.at:#x}"
    if a.new != a.old + total:
        return f"consumer_pos moved from {a.old:#x} to {a.new:#x}, not by the sample's {total} bytes"
    if not a.at < a.prod or a.at + total > a.prod:
        return f"consumer_pos moved past producer_pos {a.prod:#x} (to {a.new:#x})"
    if total > cfg.ring_size:
        return f"consumer_pos moved by {total} bytes, more than the ring's {cfg.ring_size}"
    return None


@smt_of("user_validated_advance")
def user_validated_advance_smt(cfg: Config, ring: Z.Ring, s, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``user_validated_advance`` (the sum compared in 65 bits, as Python's integers would)."""
    a = s.last_advance
    total = sample_total_smt(a.len)
    moved = z3.ZeroExt(1, a.new) == z3.ZeroExt(1, a.old) + z3.ZeroExt(1, total)
    ok = z3.And(a.old == a.at, moved, z3.ULT(a.at, a.prod), ends_by_smt(a.at, total, a.prod),
                z3.ULE(total, ring.size))
    return z3.Implies(a.present, ok)


@prop("user_exclusive_drain", maps=USER,
      catches="two bpf_user_ringbuf_drain calls consuming at once (the busy word not taken)")
def user_exclusive_drain(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """Two drains never run at once: at most one is between taking and releasing the busy word."""
    running = [f"d{d}" for d, dr in enumerate(s.drains) if dr.pc in RUNNING]
    return f"{' and '.join(running)} drain at once" if len(running) > 1 else None


@smt_of("user_exclusive_drain")
def user_exclusive_drain_smt(cfg: Config, ring: Z.Ring, s, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``user_exclusive_drain``: no two drains at a RUNNING program point."""
    running = [z3.Or([dr.pc == pc for pc in sorted(RUNNING)]) for dr in s.drains]
    return z3.And([z3.Not(z3.And(a, b)) for i, a in enumerate(running) for b in running[i + 1:]])


@prop("user_dynptr_fits", maps=USER,
      catches="a drain that hands the callback a sample longer than a dynptr can describe (2**24 - 1 bytes), "
              "so the dynptr it gets does not describe the sample; only rings over 16 MiB can hold one")
def user_dynptr_fits(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """A sample at a callback has a size a struct bpf_dynptr can hold.

    The callback sees the sample through a dynptr whose size field holds at
    most ``DYNPTR_MAX_SIZE`` bytes; a longer sample (the header's len, flag
    bits stripped, as the drain's peek read it) would be described wrongly.
    """
    for d, dr in enumerate(s.drains):
        if dr.pc == D_CALLBACK and sample_len(dr.len) > DYNPTR_MAX_SIZE:
            return (f"d{d}'s callback is handed a sample of {sample_len(dr.len)} bytes, more than a dynptr's "
                    f"{DYNPTR_MAX_SIZE}")
    return None


@smt_of("user_dynptr_fits")
def user_dynptr_fits_smt(cfg: Config, ring: Z.Ring, s, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``user_dynptr_fits``: at a callback, the len word without its flag bits is at most the maximum."""
    size = [dr.len & Z.bv(~(BUSY_BIT | DISCARD_BIT) & 0xFFFFFFFF) for dr in s.drains]
    return z3.And([z3.Implies(dr.pc == D_CALLBACK, z3.ULE(n, Z.bv(DYNPTR_MAX_SIZE))) for dr, n in zip(s.drains, size)])


@prop("user_aligned_prod", maps=USER,
      catches="a drain that hands the callback a sample while the producer_pos it read is not a multiple of 8, "
              "where the helper's contract says -EINVAL (user space is not tracking the ring properly)")
def user_aligned_prod(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """A sample reaches a callback only from a peek that read an 8-byte aligned producer_pos.

    This is the contract of ``bpf_user_ringbuf_drain`` (include/uapi/linux/bpf.h:
    -EINVAL when the producer position is not aligned to 8 bytes), not memory
    safety: the kernel's other checks already keep a misaligned producer_pos
    from exposing a byte outside [consumer_pos, producer_pos)
    (docs/user-ringbuf.md, "Which check protects what").
    """
    for d, dr in enumerate(s.drains):
        if dr.pc == D_CALLBACK and dr.prod % 8:
            return (f"d{d}'s callback is handed a sample although the producer_pos its peek read, {dr.prod:#x}, "
                    f"is not a multiple of 8 (the drain should have returned -EINVAL)")
    return None


@smt_of("user_aligned_prod")
def user_aligned_prod_smt(cfg: Config, ring: Z.Ring, s, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``user_aligned_prod``: at a callback, the low three bits of the producer_pos read are 0."""
    return z3.And([z3.Implies(dr.pc == D_CALLBACK, dr.prod & Z.bv(7) == 0) for dr in s.drains])


@prop("user_ordered_delivery", maps=USER,
      catches="a drain that skips a BUSY sample and hands a later one over first")
def user_ordered_delivery(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """libbpf's samples reach the callbacks in reservation order."""
    last = -1
    for rec, _ in s.delivered:
        if rec < 0:
            continue
        seq = s.records[rec].seq
        if seq <= last:
            return f"record {rec} (reservation #{seq}) delivered after reservation #{last}"
        last = seq
    return None


def _log_places_smt(s) -> list[tuple[z3.BoolRef, z3.BitVecRef]]:
    """(the place holds an entry, its record id or -1) per place of the ghost log."""
    log = s.delivered
    return [(z3.ULT(Z.bv(j), log.n), rec) for j, rec in enumerate(log.recs)]


@smt_of("user_ordered_delivery")
def user_ordered_delivery_smt(cfg: Config, ring: Z.Ring, s, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``user_ordered_delivery``: the honest entries' seqs are >= 0 and strictly increasing
    (pairwise, which is the same as each one above the one before it). Signed comparisons: seq -1 is -1."""
    if not s.records:
        return z3.BoolVal(True)
    places = [(there, rec, Z.pick(s.records, rec).seq) for there, rec in _log_places_smt(s)]
    out = [z3.Implies(z3.And(there, rec >= 0), seq >= 0) for there, rec, seq in places]
    for j, (there, rec, seq) in enumerate(places):
        for there2, rec2, seq2 in places[j + 1:]:
            out.append(z3.Implies(z3.And(there2, rec >= 0, rec2 >= 0), seq < seq2))
    return z3.And(out)


@prop("user_committed_only", maps=USER,
      catches="a drain that ignores BUSY (a sample still being written) or reads bytes no sample owns")
def user_committed_only(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """With libbpf's producer, a sample at a callback was submitted, and its header and payload are its own."""
    if cfg.hostile:
        return None
    for i, (rec, intact) in enumerate(s.delivered):
        if rec < 0:
            return f"delivery #{i} is bytes no reservation wrote"
        if not intact:
            status = s.records[rec].status
            if status == SUBMITTED:
                return f"record {rec} delivered with bytes it did not write"
            return f"record {rec} delivered while {STATUS_NAMES[status]}, not submitted"
    return None


@smt_of("user_committed_only")
def user_committed_only_smt(cfg: Config, ring: Z.Ring, s, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``user_committed_only``: every logged entry names a record and is intact."""
    if cfg.hostile:
        return z3.BoolVal(True)
    log = s.delivered
    return z3.And([z3.Implies(there, z3.And(rec >= 0, ok))
                   for (there, rec), ok in zip(_log_places_smt(s), log.intact)])


@prop("user_discard_skipped", maps=USER,
      catches="a drain that hands a discarded sample to the callback")
def user_discard_skipped(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """A sample libbpf discarded never reaches a callback."""
    for rec, _ in s.delivered:
        if rec >= 0 and s.records[rec].status == DISCARDED:
            return f"record {rec} was discarded and delivered"
    return None


@smt_of("user_discard_skipped")
def user_discard_skipped_smt(cfg: Config, ring: Z.Ring, s, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``user_discard_skipped``: no logged record is DISCARDED."""
    if not s.records:
        return z3.BoolVal(True)
    return z3.And([z3.Implies(z3.And(there, rec >= 0), Z.pick(s.records, rec).status != DISCARDED)
                   for there, rec in _log_places_smt(s)])


@prop("user_exactly_once", maps=USER, terminal=True,
      catches="a drain that hands a sample over twice, or loses one")
def user_exactly_once(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """No sample reaches a callback twice; when the run is over, every submitted sample has arrived."""
    seen: set[int] = set()
    for rec, _ in s.delivered:
        if rec >= 0 and rec in seen:
            return f"record {rec} delivered twice"
        seen.add(rec)
    if terminal and not cfg.hostile:
        lost = [r for r, rec in enumerate(s.records) if rec.status == SUBMITTED and r not in seen]
        if lost:
            return f"record {lost[0]} was submitted and never delivered"
    return None


@smt_of("user_exactly_once")
def user_exactly_once_smt(cfg: Config, ring: Z.Ring, s, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``user_exactly_once``: no record in two places; terminal (libbpf): every SUBMITTED record in one."""
    places = _log_places_smt(s)
    out = [z3.Not(z3.And(there2, rec >= 0, rec == rec2))
           for j, (_, rec) in enumerate(places) for there2, rec2 in places[j + 1:]]
    if not cfg.hostile:
        for i, r in enumerate(s.records):
            arrived = z3.Or([z3.And(there, rec == i) for there, rec in places])
            out.append(z3.Implies(z3.And(Z.as_bool(terminal), r.status == SUBMITTED), arrived))
    return z3.And(out)


USER_PROPERTY_ORDER = ("user_sample_bounds", "user_validated_advance", "user_exclusive_drain",
                       "user_dynptr_fits", "user_aligned_prod", "user_ordered_delivery", "user_discard_skipped", "user_committed_only", "user_exactly_once")
"""The user ring's properties, in the order they are checked and listed."""

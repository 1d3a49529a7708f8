"""Overwrite mode's own properties (BPF_F_RB_OVERWRITE, ``Rules.overwrite``): docs/overwrite.md.

In overwrite mode producers never wait for the consumer, so two properties of
docs/protocol.md#6 cannot hold by design and are declared not to apply there:
``capacity``'s consumer half (producer_pos runs any distance ahead of
consumer_pos) and ``exactly_once``'s terminal half (a sample overwritten
before it was read is never delivered); ``no_lost_wakeup`` is restated on
the kernel's own readiness test. What replaces them:

* kernel safety: ``busy_not_overwritten``, ``overwrite_on_boundary``,
  ``pending_capacity`` (with ``no_overlap``, ``header_integrity``, ``in_bounds``
  and ``aligned`` as before; ``no_overlap`` counts a committed record as live
  until overwrite_pos passes it);
* delivery, "in order, intact, possibly lossy": ``ordered_delivery`` and
  ``committed_only`` as before (every delivered sample is a submitted record,
  intact, in reservation order), plus ``lossy_exactly_once`` (no sample twice;
  a submitted record the consumer has moved past undelivered was overwritten;
  at the end every submitted record was delivered or overwritten) and
  ``overwrite_no_lost_wakeup``.

"Overwritten" is a fact of positions: overwrite_pos only moves forward, in
whole records, so record ``r`` has been (or is about to be) written over
exactly when overwrite_pos has passed its start. Each predicate has its SMT
encoding below it (name plus ``_smt``), true exactly when it returns None.
"""

from __future__ import annotations

import z3

from model.config import Config
from model.constants import distance, is_ahead, record_length
from model.state import BUSY, SUBMITTED, State
from specs import smt as Z
from specs.property import prop, smt_of


def _overwrite(r) -> bool:
    return r.overwrite


def overwritten(s: State, pos: int) -> bool:
    """overwrite_pos has moved past a record starting at ``pos``."""
    return pos != s.overwrite_pos and is_ahead(s.overwrite_pos, pos)


def overwritten_smt(s: Z.SymState, pos: z3.BitVecRef) -> z3.BoolRef:
    """``overwritten`` over terms."""
    return z3.And(pos != s.overwrite_pos, Z.is_ahead(s.overwrite_pos, pos))


def _in_window(pos: int, lo: int, hi: int) -> bool:
    """``pos`` lies in [lo, hi] on the 64-bit circle."""
    return distance(pos, lo) <= distance(hi, lo)


def _in_window_smt(pos: z3.BitVecRef, lo: z3.BitVecRef, hi: z3.BitVecRef) -> z3.BoolRef:
    return z3.ULE(Z.distance(pos, lo), Z.distance(hi, lo))


# ---------------------------------------------------------------- kernel safety


@prop("busy_not_overwritten", catches="an overwrite loop that steps over a record still being "
                                      "written (its producer would then write over a newer record)",
      variants=_overwrite)
def busy_not_overwritten(cfg: Config, s: State, terminal: bool) -> str | None:
    """Every BUSY record lies in [overwrite_pos, producer_pos): overwrite_pos never passes a record still being written."""
    for i, r in enumerate(s.records):
        if r.status == BUSY and not (_in_window(r.pos, s.overwrite_pos, s.producer_pos)
                                     and r.pos != s.producer_pos):
            return f"busy record {i} at {r.pos} lies before overwrite_pos {s.overwrite_pos}"
    return None


@smt_of("busy_not_overwritten")
def busy_not_overwritten_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``busy_not_overwritten``."""
    return z3.And([z3.Implies(r.status == BUSY, z3.And(_in_window_smt(r.pos, s.overwrite_pos, s.producer_pos),
                                                       r.pos != s.producer_pos))
                   for r in s.records])


@prop("overwrite_on_boundary", catches="an overwrite_pos that lands inside a record, so a consumer "
                                       "starting there reads payload as a header", variants=_overwrite)
def overwrite_on_boundary(cfg: Config, s: State, terminal: bool) -> str | None:
    """overwrite_pos is producer_pos or the start of a reserved record, and overwrite_pos <= pending_pos <= producer_pos."""
    if not _in_window(s.pending_pos, s.overwrite_pos, s.producer_pos):
        return (f"pending_pos {s.pending_pos} is not between overwrite_pos {s.overwrite_pos} "
                f"and producer_pos {s.producer_pos}")
    if s.overwrite_pos == s.producer_pos:
        return None
    if any(r.status >= BUSY and r.pos == s.overwrite_pos for r in s.records):
        return None
    return f"overwrite_pos {s.overwrite_pos} is not the start of any record"


@smt_of("overwrite_on_boundary")
def overwrite_on_boundary_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``overwrite_on_boundary``."""
    starts = [z3.And(z3.UGE(r.status, BUSY), r.pos == s.overwrite_pos) for r in s.records]
    return z3.And(_in_window_smt(s.pending_pos, s.overwrite_pos, s.producer_pos),
                  z3.Or([s.overwrite_pos == s.producer_pos] + starts))


@prop("pending_capacity", catches="a space check that lets producer_pos run more than S past "
                                  "pending_pos, so a new record covers one still being written",
      variants=_overwrite)
def pending_capacity(cfg: Config, s: State, terminal: bool) -> str | None:
    """producer_pos - pending_pos <= S and producer_pos - overwrite_pos <= S; busy records lie in [pending_pos, producer_pos)."""
    span = distance(s.producer_pos, s.pending_pos)
    if span > cfg.ring_size:
        return f"producer_pos is {span} bytes past pending_pos on a ring of {cfg.ring_size}"
    kept = distance(s.producer_pos, s.overwrite_pos)
    if kept > cfg.ring_size:
        return f"producer_pos is {kept} bytes past overwrite_pos on a ring of {cfg.ring_size}"
    for i, r in enumerate(s.records):
        if r.status == BUSY and distance(r.pos, s.pending_pos) + record_length(r.size) > span:
            return f"busy record {i} at {r.pos} lies outside [pending_pos, producer_pos)"
    return None


@smt_of("pending_capacity")
def pending_capacity_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``pending_capacity`` (sums in 65 bits, as Python's unbounded ints)."""
    span = Z.distance(s.producer_pos, s.pending_pos)
    out = [z3.ULE(span, ring.size), z3.ULE(Z.distance(s.producer_pos, s.overwrite_pos), ring.size)]
    for r in s.records:
        end = z3.ZeroExt(1, Z.distance(r.pos, s.pending_pos)) + z3.ZeroExt(1, Z.record_length(r.size))
        out.append(z3.Implies(r.status == BUSY, z3.ULE(end, z3.ZeroExt(1, span))))
    return z3.And(out)


# ---------------------------------------------------------------- delivery


def _judges_terminal(cfg: Config, terminal: bool) -> bool:
    return terminal and cfg.honest and not cfg.wakeup_flags


def _judges_terminal_smt(cfg: Config, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    return z3.And(Z.as_bool(terminal), z3.BoolVal(cfg.honest and not cfg.wakeup_flags))


@prop("lossy_exactly_once", catches="a consumer that re-delivers, or skips a record nobody "
                                    "overwrote (loss that overwrite mode does not excuse)",
      terminal=True, variants=_overwrite)
def lossy_exactly_once(cfg: Config, s: State, terminal: bool) -> str | None:
    """No sample twice; a submitted record the consumer has passed undelivered was overwritten; at the end each was delivered or overwritten."""
    seen = set()
    for rec, _ in s.delivered:
        if rec >= 0:
            if rec in seen:
                return f"record {rec} was delivered twice"
            seen.add(rec)
    if not cfg.honest:
        return None
    end = _judges_terminal(cfg, terminal)
    for i, r in enumerate(s.records):
        if r.status != SUBMITTED or i in seen or overwritten(s, r.pos):
            continue
        if is_ahead(s.consumer_pos, r.pos + record_length(r.size)):
            return f"the consumer moved past submitted record {i} without delivering it, and it was not overwritten"
        if end:
            return f"submitted record {i} was neither delivered nor overwritten"
    return None


@smt_of("lossy_exactly_once")
def lossy_exactly_once_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``lossy_exactly_once``."""
    log = s.delivered
    ents = [(z3.And(z3.ULT(Z.bv(j), log.n), log.recs[j] >= 0), log.recs[j]) for j in range(len(log.recs))]
    out = []
    for i, (ok_i, rec_i) in enumerate(ents):
        for ok_j, rec_j in ents[i + 1:]:
            out.append(z3.Not(z3.And(ok_i, ok_j, rec_i == rec_j)))
    if cfg.honest:
        end = _judges_terminal_smt(cfg, terminal)
        for i, r in enumerate(s.records):
            excused = z3.Or(r.status != SUBMITTED, z3.Or([z3.And(ok, rec == i) for ok, rec in ents]),
                            overwritten_smt(s, r.pos))
            passed = Z.is_ahead(s.consumer_pos, r.pos + Z.record_length(r.size))
            out.append(z3.Or(excused, z3.And(z3.Not(passed), z3.Not(end))))
    return z3.And(out)


@prop("overwrite_no_lost_wakeup", catches="a consumer asleep for good while the kernel itself says "
                                          "data is available (no commit ever lands at its position)",
      terminal=True, variants=_overwrite)
def overwrite_no_lost_wakeup(cfg: Config, s: State, terminal: bool) -> str | None:
    """With default wakeup flags the consumer never sleeps for good while producer_pos - max(consumer_pos, overwrite_pos) != 0."""
    if _judges_terminal(cfg, terminal):
        left = distance(s.producer_pos, max(s.consumer_pos, s.overwrite_pos))
        if left:
            return f"the consumer sleeps for good with {left} bytes available"
    return None


@smt_of("overwrite_no_lost_wakeup")
def overwrite_no_lost_wakeup_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``overwrite_no_lost_wakeup`` (max is the kernel's plain unsigned max)."""
    newest = z3.If(z3.UGE(s.consumer_pos, s.overwrite_pos), s.consumer_pos, s.overwrite_pos)
    return z3.Implies(_judges_terminal_smt(cfg, terminal), Z.distance(s.producer_pos, newest) == 0)


OVERWRITE_ORDER = ("busy_not_overwritten", "overwrite_on_boundary", "pending_capacity", "lossy_exactly_once",
                   "overwrite_no_lost_wakeup")
"""Overwrite mode's properties, in the order runs list them (after docs/protocol.md#6's)."""

"""Delivery properties: what the honest (libbpf) consumer hands to its callback.

With an adversarial consumer there is no callback, and these hold vacuously.
The terminal clauses are judged only in terminal states (every producer done,
consumer asleep, no wakeup queued) and only with default wakeup flags: a
program that commits with NO_WAKEUP has asked for the consumer not to be woken.

Each predicate has its SMT encoding right below it (name plus ``_smt``), over
the bounded ``delivered`` log of ``specs.smt``: true exactly when the
predicate returns None.

Under weak memory the delivery log is ghost state written by the consumer's
own steps: whether a delivered sample is intact is decided in
``consume.deliver`` from the payload words the callback actually loaded
(through the memory model, stale or not) and the header the consumer read
(``model.consumer.sample_identity``), so these predicates need nothing
else. The terminal clauses are judged only in terminal states, which under
weak memory also require every store buffer to be empty, so there the
State's positions are memory itself.
"""

from __future__ import annotations

import z3

from model.config import Config
from model.constants import distance, is_ahead, record_length
from model.state import DISCARDED, STATUS_NAMES, SUBMITTED, State
from specs import smt as Z
from specs.property import prop, smt_of


def _judges_terminal(cfg: Config, terminal: bool) -> bool:
    return terminal and cfg.honest and not cfg.wakeup_flags


def _judges_terminal_smt(cfg: Config, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    return z3.And(Z.as_bool(terminal), z3.BoolVal(cfg.honest and not cfg.wakeup_flags))


def _entries(s: Z.SymState) -> list[tuple[z3.BoolRef, z3.BitVecRef, z3.BoolRef]]:
    """(is a real entry, record id, intact) for each place of the bounded log."""
    log = s.delivered
    return [(z3.ULT(Z.bv(j), log.n), log.recs[j], log.intact[j]) for j in range(len(log.recs))]


@prop("ordered_delivery", catches="a consumer that skips a BUSY record and delivers a later "
                                  "one first (out-of-order commit visibility)")
def ordered_delivery(cfg: Config, s: State, terminal: bool) -> str | None:
    """Samples reach the callback in reservation order.

    Weak memory: on the ghost log and reservation order, the same under every model.
    """
    last = -1
    for rec, _ in s.delivered:
        if rec < 0:
            continue
        seq = s.records[rec].seq
        if seq <= last:
            return f"record {rec} (reservation #{seq}) delivered after reservation #{last}"
        last = seq
    return None


@smt_of("ordered_delivery")
def ordered_delivery_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form: the seqs of delivered records (ids >= 0) are > -1 and strictly increasing."""
    seqs = [r.seq for r in s.records]
    ents = [(z3.And(there, rec >= 0), Z.pick(seqs, rec)) for there, rec, _ in _entries(s)]
    out = [z3.Implies(ok, seq > -1) for ok, seq in ents]
    for i, (ok_i, seq_i) in enumerate(ents):
        for ok_j, seq_j in ents[i + 1:]:
            out.append(z3.Implies(z3.And(ok_i, ok_j), seq_i < seq_j))
    return z3.And(out)


@prop("committed_only", catches="a consumer that ignores BUSY and reads a record still "
                                "being written (torn read), or delivers garbage")
def committed_only(cfg: Config, s: State, terminal: bool) -> str | None:
    """A delivered sample was submitted (not discarded, not busy) and its payload is exactly what its owner wrote.

    Weak memory: "what the consumer read", not what memory holds: a header
    the consumer read stale (the bytes before the producer's header, seen
    through a plain producer_pos publication) or a stale payload word makes
    the delivery bad even if memory is fine by now.
    """
    for rec, ok in s.delivered:
        if rec < 0:
            return "a sample was delivered from bytes that are not a record header"
        if not ok:
            return (f"record {rec} was delivered while {STATUS_NAMES[s.records[rec].status]} "
                    "or with a header or payload that is not its own")
    return None


@smt_of("committed_only")
def committed_only_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form: every log entry names a record and is intact."""
    return z3.And([z3.Implies(there, z3.And(rec >= 0, ok)) for there, rec, ok in _entries(s)])


@prop("discard_skipped", catches="a consumer that hands discarded records to the callback, "
                                 "or stops at them", terminal=True)
def discard_skipped(cfg: Config, s: State, terminal: bool) -> str | None:
    """Discarded records are never delivered; in a terminal state the consumer has moved past every one.

    Weak memory: the terminal clause reads consumer_pos with every buffer drained (memory itself).
    """
    for rec, _ in s.delivered:
        if rec >= 0 and s.records[rec].status == DISCARDED:
            return f"discarded record {rec} was delivered"
    if _judges_terminal(cfg, terminal):
        for i, r in enumerate(s.records):
            if r.status == DISCARDED and not is_ahead(s.consumer_pos, r.pos + record_length(r.size), cfg.position_bits):
                return f"the consumer stopped before discarded record {i}"
    return None


@smt_of("discard_skipped")
def discard_skipped_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``discard_skipped``."""
    status = [r.status for r in s.records]
    out = [z3.Implies(z3.And(there, rec >= 0), Z.pick(status, rec) != DISCARDED)
           for there, rec, _ in _entries(s)]
    passed = [z3.Implies(r.status == DISCARDED,
                         Z.is_ahead(s.consumer_pos, r.pos + Z.record_length(r.size))) for r in s.records]
    out.append(z3.Implies(_judges_terminal_smt(cfg, terminal), z3.And(passed)))
    return z3.And(out)


@prop("exactly_once", catches="a consumer that re-delivers after a lost consumer_pos store, "
                              "or loses samples", terminal=True,
      variants=lambda r: not r.overwrite)  # overwrite mode loses samples by design: lossy_exactly_once
def exactly_once(cfg: Config, s: State, terminal: bool) -> str | None:
    """No sample is delivered twice; in a terminal state every submitted sample has been delivered.

    Weak memory: on the ghost log; the terminal clause is where a lost wakeup shows first.
    """
    seen = set()
    for rec, _ in s.delivered:
        if rec >= 0:
            if rec in seen:
                return f"record {rec} was delivered twice"
            seen.add(rec)
    if _judges_terminal(cfg, terminal):
        for i, r in enumerate(s.records):
            if r.status == SUBMITTED and i not in seen:
                return f"submitted record {i} was never delivered"
    return None


@smt_of("exactly_once")
def exactly_once_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``exactly_once``."""
    ents = [(z3.And(there, rec >= 0), rec) for there, rec, _ in _entries(s)]
    out = []
    for i, (ok_i, rec_i) in enumerate(ents):
        for ok_j, rec_j in ents[i + 1:]:
            out.append(z3.Not(z3.And(ok_i, ok_j, rec_i == rec_j)))
    every = [z3.Implies(r.status == SUBMITTED, z3.Or([z3.And(ok, rec == i) for ok, rec in ents]))
             for i, r in enumerate(s.records)]
    out.append(z3.Implies(_judges_terminal_smt(cfg, terminal), z3.And(every)))
    return z3.And(out)


@prop("no_lost_wakeup", catches="a commit that decides not to wake the consumer while the "
                                "consumer is about to sleep (the edge-triggered epoll hazard)",
      terminal=True, variants=lambda r: not r.overwrite)  # overwrite mode: overwrite_no_lost_wakeup
def no_lost_wakeup(cfg: Config, s: State, terminal: bool) -> str | None:
    """With default wakeup flags the consumer never sleeps for good while unconsumed data is there.

    Weak memory: judged in terminal states, whose store buffers are empty, on
    producer_pos - consumer_pos in memory (RA: the coherence-latest
    messages): data the consumer did not see because a load was stale still
    counts, which is exactly the store-buffering lost wakeup.
    """
    if _judges_terminal(cfg, terminal):
        left = distance(s.producer_pos, s.consumer_pos, cfg.position_bits)
        if left:
            return f"the consumer sleeps for good with {left} bytes unconsumed"
    return None


@smt_of("no_lost_wakeup")
def no_lost_wakeup_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, terminal: z3.BoolRef | bool) -> z3.BoolRef:
    """SMT form of ``no_lost_wakeup``."""
    return z3.Implies(_judges_terminal_smt(cfg, terminal),
                      Z.distance(s.producer_pos, s.consumer_pos) == 0)

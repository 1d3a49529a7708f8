"""Delivery properties: what the honest (libbpf) consumer hands to its callback.

With an adversarial consumer there is no callback, and these hold vacuously.
The terminal clauses are judged only in terminal states (every producer done,
consumer asleep, no wakeup queued) and only with default wakeup flags: a
program that commits with NO_WAKEUP has asked for the consumer not to be woken.
"""

from __future__ import annotations

from model.config import Config
from model.constants import distance, is_ahead, record_length
from model.state import DISCARDED, STATUS_NAMES, SUBMITTED, State
from specs.property import prop


def _judges_terminal(cfg: Config, terminal: bool) -> bool:
    return terminal and cfg.honest and not cfg.wakeup_flags


@prop("ordered_delivery", catches="a consumer that skips a BUSY record and delivers a later "
                                  "one first (out-of-order commit visibility)")
def ordered_delivery(cfg: Config, s: State, terminal: bool) -> str | None:
    """Samples reach the callback in reservation order."""
    last = -1
    for rec, _ in s.delivered:
        if rec < 0:
            continue
        seq = s.records[rec].seq
        if seq <= last:
            return f"record {rec} (reservation #{seq}) delivered after reservation #{last}"
        last = seq
    return None


@prop("committed_only", catches="a consumer that ignores BUSY and reads a record still "
                                "being written (torn read), or delivers garbage")
def committed_only(cfg: Config, s: State, terminal: bool) -> str | None:
    """A delivered sample was submitted (not discarded, not busy) and its payload is exactly what its owner wrote."""
    for rec, ok in s.delivered:
        if rec < 0:
            return "a sample was delivered from bytes that are not a record header"
        if not ok:
            return (f"record {rec} was delivered while {STATUS_NAMES[s.records[rec].status]} "
                    "or with a header or payload that is not its own")
    return None


@prop("discard_skipped", catches="a consumer that hands discarded records to the callback, "
                                 "or stops at them", terminal=True)
def discard_skipped(cfg: Config, s: State, terminal: bool) -> str | None:
    """Discarded records are never delivered; in a terminal state the consumer has moved past every one."""
    for rec, _ in s.delivered:
        if rec >= 0 and s.records[rec].status == DISCARDED:
            return f"discarded record {rec} was delivered"
    if _judges_terminal(cfg, terminal):
        for i, r in enumerate(s.records):
            if r.status == DISCARDED and not is_ahead(s.consumer_pos, r.pos + record_length(r.size)):
                return f"the consumer stopped before discarded record {i}"
    return None


@prop("exactly_once", catches="a consumer that re-delivers after a lost consumer_pos store, "
                              "or loses samples", terminal=True)
def exactly_once(cfg: Config, s: State, terminal: bool) -> str | None:
    """No sample is delivered twice; in a terminal state every submitted sample has been delivered."""
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


@prop("no_lost_wakeup", catches="a commit that decides not to wake the consumer while the "
                                "consumer is about to sleep (the edge-triggered epoll hazard)",
      terminal=True)
def no_lost_wakeup(cfg: Config, s: State, terminal: bool) -> str | None:
    """With default wakeup flags the consumer never sleeps for good while unconsumed data is there."""
    if _judges_terminal(cfg, terminal):
        left = distance(s.producer_pos, s.consumer_pos)
        if left:
            return f"the consumer sleeps for good with {left} bytes unconsumed"
    return None

"""Properties of the user ring buffer (docs/protocol.md#6, last paragraph; docs/user-ringbuf.md).

Kernel safety, against any user space (``user_producer`` libbpf or adversarial):

* ``user_sample_bounds``: the callback only sees bytes inside
  ``[consumer_pos, producer_pos)`` (producer_pos as the kernel read it for
  that sample: user space may change it after) and inside the data area;
* ``user_validated_advance``: consumer_pos moves forward only by sizes the
  kernel validated;
* ``user_exclusive_drain``: two drains never run at once.

Delivery, with libbpf's producer (with the adversarial one there are no
honest samples and these hold vacuously, as the kernel ring's delivery
properties do under the adversarial consumer): samples arrive in reservation
order, exactly once, only submitted and intact, discarded ones skipped.

Each predicate reads only the ``UserState`` and the config, so an SMT
encoding can sit beside it under the same name (``@smt_of``).
"""

from __future__ import annotations

from model.config import Config
from model.state import DISCARDED, STATUS_NAMES, SUBMITTED
from model.userring.drain import sample_total
from model.userring.state import D_CALLBACK, RUNNING, UserState
from specs.property import prop

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


@prop("user_exclusive_drain", maps=USER,
      catches="two bpf_user_ringbuf_drain calls consuming at once (the busy word not taken)")
def user_exclusive_drain(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """Two drains never run at once: at most one is between taking and releasing the busy word."""
    running = [f"d{d}" for d, dr in enumerate(s.drains) if dr.pc in RUNNING]
    return f"{' and '.join(running)} drain at once" if len(running) > 1 else None


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
            return f"record {rec} ({STATUS_NAMES[s.records[rec].status]}) delivered before it was submitted " \
                   f"or not as written"
    return None


@prop("user_discard_skipped", maps=USER,
      catches="a drain that hands a discarded sample to the callback")
def user_discard_skipped(cfg: Config, s: UserState, terminal: bool) -> str | None:
    """A sample libbpf discarded never reaches a callback."""
    for rec, _ in s.delivered:
        if rec >= 0 and s.records[rec].status == DISCARDED:
            return f"record {rec} was discarded and delivered"
    return None


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


USER_PROPERTY_ORDER = ("user_sample_bounds", "user_validated_advance", "user_exclusive_drain",
                       "user_ordered_delivery", "user_committed_only", "user_discard_skipped", "user_exactly_once")
"""The user ring's properties, in the order they are checked and listed."""

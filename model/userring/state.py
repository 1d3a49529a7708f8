"""The user ring buffer's state: shared memory, the user producer's and each drain's locals, ghosts.

``UserState`` is an immutable tree of NamedTuples and small ints, like
``model.state.State``, and the data area uses the same packed slot words
(``model.state.header_word`` / ``payload_word``): a header word keeps the
32-bit len word (``pg_off`` is not modelled: the drain never reads it), and
the owner tag says which honest record wrote the word, or ``HOSTILE`` for a
word hostile user space wrote. Owner tags are ghost state: the kernel cannot
see them, the properties can.

Shared memory (docs/protocol.md#5): ``consumer_pos`` (written by the kernel
drain only: the consumer page is read-only to user space), ``producer_pos``
and the data area (written by user space, any value at any time when it is
hostile), and the drains' ``busy`` word.
"""

from __future__ import annotations

from typing import NamedTuple

from model.state import SLOT_EMPTY, Record

HOSTILE = 0xFF
"""Owner tag of a data-area word written by the adversarial user producer."""

# ---------------------------------------------------------------- the user producer

U_IDLE, U_CLAIM, U_WRITE = range(3)
USER_PC_NAMES = ("idle", "user.reserve.claim", "user.write")


class UserProducer(NamedTuple):
    """libbpf's user producer between and inside its calls, or the hostile writer's budget."""

    pc: int = U_IDLE
    attempts: int = 0
    """Reservation attempts used (successful or not)."""
    cur: int = -1
    """Record being reserved or written."""
    size: int = 0
    cons: int = 0
    """consumer_pos as reserve read it."""
    held: tuple[int, ...] = ()
    """Records reserved and not yet submitted or discarded, oldest first."""
    writes: int = 0
    """Hostile writes made (producer_pos or a data word)."""


# ---------------------------------------------------------------- a drain

D_IDLE, D_LOAD_PROD, D_LOAD_CONS, D_READ_HDR, D_DISCARD, D_CALLBACK, D_RELEASE, D_END = range(8)
DRAIN_PC_NAMES = ("idle", "drain.load_prod", "drain.load_cons", "drain.read_header", "drain.skip_discard",
                  "drain.callback", "drain.release", "drain.end")
RUNNING = frozenset((D_LOAD_PROD, D_LOAD_CONS, D_READ_HDR, D_DISCARD, D_CALLBACK, D_RELEASE, D_END))
"""Program points between a successful busy cmpxchg and the release of the busy word."""


class Drain(NamedTuple):
    """The locals of one bpf_user_ringbuf_drain call (cleared between calls)."""

    pc: int = D_IDLE
    flags: int = 0
    prod: int = 0
    """producer_pos as this sample's peek read it."""
    cons: int = 0
    """consumer_pos as this sample's peek read it."""
    len: int = 0
    """The header len word this sample's peek read (flag bits included)."""
    samples: int = 0
    """Loop iterations completed (samples handed over plus discarded ones skipped)."""
    discarded: int = 0
    stop: bool = False
    """The callback returned 1."""
    err: int = 0
    """The negative errno the call ends with, 0 for none."""


# ---------------------------------------------------------------- the state


class Advance(NamedTuple):
    """Ghost: the drain's last store of consumer_pos, and what it had validated for it."""

    at: int
    """consumer_pos as the sample's peek read it (where its checks were made)."""
    old: int
    """consumer_pos as the storing step read it (the release re-reads it)."""
    new: int
    len: int
    """The header len word read at ``old``."""
    prod: int
    """producer_pos as read for that sample."""


class UserState(NamedTuple):
    """Everything the user ring model tracks (module docstring)."""

    consumer_pos: int
    producer_pos: int
    busy: int
    """The ring's busy word: 1 while a drain runs (atomic_try_cmpxchg 0 -> 1), else 0."""
    slots: tuple[int, ...]
    producer: UserProducer
    drains: tuple[Drain, ...]
    records: tuple[Record, ...]
    """Ghost bookkeeping of the honest producer's reservation attempts (id = attempt)."""
    delivered: tuple[tuple[int, bool], ...]
    """Ghost log of samples handed to a callback: (record id, or -1 for bytes no honest record
    owns, intact)."""
    last_advance: Advance | None = None
    """Ghost: the last consumer_pos store (None before the first)."""


def initial_user_state(ring_size: int, records: int, drains: int, start: int = 0) -> UserState:
    """Empty ring, both positions at ``start``, busy word clear, every actor at its first step."""
    return UserState(
        consumer_pos=start,
        producer_pos=start,
        busy=0,
        slots=(SLOT_EMPTY,) * (ring_size // 8),
        producer=UserProducer(),
        drains=(Drain(),) * drains,
        records=(Record(),) * records,
        delivered=(),
    )


def set_drain(s: UserState, d: int, drain: Drain) -> tuple[Drain, ...]:
    """The drains tuple with drain ``d`` replaced."""
    ds = list(s.drains)
    ds[d] = drain
    return tuple(ds)


def set_record(s: UserState, r: int, rec: Record) -> tuple[Record, ...]:
    """The records tuple with record ``r`` replaced."""
    rs = list(s.records)
    rs[r] = rec
    return tuple(rs)

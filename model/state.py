"""The model's state: shared ring buffer memory, each actor's locals, ghost state.

A state is an immutable tree of NamedTuples and tuples of small ints, so it is
hashable, cheap to copy field by field, and compact enough for millions of
states in a visited set.

The data area is modelled at 8-byte granularity (every position is a multiple
of 8, the ``aligned`` property), one *slot* per word. A slot is one packed int:

* ``0``: never written (reads as a header with len 0, neither BUSY nor DISCARD);
* a header written by record ``r``: kind HEADER, owner ``r`` and the 32-bit len word
  (``pg_off`` is implied: it was written together with the header, for the slot
  it sits in, so it is intact exactly while the owner tag is);
* a payload word written by record ``r``: kind PAYLOAD, owner ``r``.

The owner tags are ghost state: the kernel cannot see them, the properties can.

Weak memory (``Config.memory`` tso or ra)
-----------------------------------------
Under ``sc`` the field ``memory`` is None and the shared fields
(``consumer_pos``, ``producer_pos``, ``pending_pos``, ``lock``, ``slots``) *are*
memory, exactly as before. Under tso and ra, ``memory`` holds the memory
model's state (a hashable ``Mem`` of ``model.memory``: TSO store buffers and
main memory, RA message histories and views) and is the truth every step
reads and writes through (``model.shared``); the shared fields are then a
projection of it, kept for the properties and the displays: per location the
*newest* value, where a store counts as soon as its actor has executed it.
TSO: the newest entry for the location in a store buffer, else main memory
(for locations one actor writes at a time, which is every location of an
uncorrupted ring, that is the writer's own view; if two buffers hold stores
to one slot, which only a racing reservation can make, the higher actor
wins); RA: the value of the location's coherence-latest message. In a
terminal state buffers are empty, so the projection is memory itself.

Memory locations: ``"consumer_pos"``, ``"producer_pos"``, ``"pending_pos"``,
``"spinlock"`` (value -1 when free, else the holder) and ``("slot", i)`` for
each 8-byte word of the data area (value: the slot word above). Memory
actors: producer ``p`` is actor ``p``; the consumer (``c``, or hostile
``user``) is actor ``producers``. ``irq`` has no memory accesses (irq_work
and the wait queue are SC events, see ``model.overrides.SC_EVENTS``).
"""

from __future__ import annotations

from typing import NamedTuple

# ---------------------------------------------------------------- slot words

SLOT_EMPTY = 0
KIND_HEADER = 1
KIND_PAYLOAD = 2
_OWNER_SHIFT = 2
_OWNER_MASK = 0xFF
_LEN_SHIFT = 10


def header_word(owner: int, len_word: int) -> int:
    """Slot value of a record header: ``owner``'s header holding ``len_word``."""
    return KIND_HEADER | (owner << _OWNER_SHIFT) | ((len_word & 0xFFFFFFFF) << _LEN_SHIFT)


def payload_word(owner: int) -> int:
    """Slot value of a payload word written by record ``owner``."""
    return KIND_PAYLOAD | (owner << _OWNER_SHIFT)


def slot_kind(word: int) -> int:
    """KIND_HEADER, KIND_PAYLOAD or SLOT_EMPTY."""
    return word & 3


def slot_owner(word: int) -> int:
    """The record that last wrote this slot, or -1 if never written."""
    return (word >> _OWNER_SHIFT) & _OWNER_MASK if word else -1


def retag(word: int, owner: int) -> int:
    """The same slot content, attributed to record ``owner`` (used when renaming records)."""
    return (word & ~(_OWNER_MASK << _OWNER_SHIFT)) | (owner << _OWNER_SHIFT) if word else word


def read_len(word: int) -> int:
    """The len word a reader sees at this slot; non-header bytes read as 0 (docs/protocol.md#8)."""
    return word >> _LEN_SHIFT if word & 3 == KIND_HEADER else 0


# ---------------------------------------------------------------- records (ghost)

UNUSED, FAILED, BUSY, SUBMITTED, DISCARDED = range(5)
STATUS_NAMES = ("unused", "failed", "busy", "submitted", "discarded")


class Record(NamedTuple):
    """Ghost bookkeeping of one reservation attempt (record id = producer * E + attempt)."""

    status: int = UNUSED
    pos: int = 0
    """Position of the header (u64); meaningful once reserved."""
    size: int = 0
    """Payload size asked for."""
    seq: int = -1
    """Order among successful reservations (0 = first), -1 if not reserved."""


# ---------------------------------------------------------------- actors' locals

# Producer program points, one per protocol step it is about to take.
P_IDLE, P_LOAD_CONS, P_LOCK, P_SCAN, P_CLAIM, P_WRITE, P_WAKEUP = range(7)
P_OVER_SCAN, P_OVER_CLAIM = 7, 8
"""Overwrite mode only (``Rules.overwrite``): at ``P_CLAIM`` the producer takes ``reserve.room``
instead of ``reserve.claim``, then these two (``model.producer``)."""
PRODUCER_PC_NAMES = ("idle", "reserve.load_cons", "reserve.lock", "reserve.scan",
                     "reserve.claim", "write", "commit.wakeup", "reserve.overwrite_scan",
                     "reserve.overwrite_claim")


class Producer(NamedTuple):
    """A BPF program's locals: where it is and what it has read."""

    pc: int = P_IDLE
    attempts: int = 0
    """Reservation attempts used so far (successful or not)."""
    cur: int = -1
    """Record being reserved, written or committed."""
    size: int = 0
    nmi: bool = False
    cons: int = 0
    prod: int = 0
    pend: int = 0
    held: tuple[int, ...] = ()
    """Records reserved and not yet committed, oldest first."""
    flags: int = 0
    """Commit flags, remembered for the wakeup step."""
    over: int = 0
    """Overwrite mode: the overwrite_pos being advanced under the lock (0 otherwise)."""


# Consumer program points.
C_LOAD_CONS, C_LOAD_PROD, C_READ_HDR, C_DELIVER, C_STORE, C_WAIT, C_SLEEP, C_NONE = range(8)
O_LOAD_PROD, O_LOAD_OVER, O_READ_HDR, O_COPY, O_RECHECK, O_STORE = range(8, 14)
"""The overwrite-safe consumer's own program points (``model.consumer_overwrite``); it starts
a pass at ``C_LOAD_CONS``, waits at ``C_WAIT`` and sleeps at ``C_SLEEP`` like libbpf."""
CONSUMER_PC_NAMES = ("consume.load_cons", "consume.load_prod", "consume.read_header",
                     "consume.deliver", "consume.store_cons", "poll.wait", "asleep", "none",
                     "ow.load_prod", "ow.load_over", "ow.read_header", "ow.copy", "ow.recheck",
                     "ow.store_cons")


class Consumer(NamedTuple):
    """libbpf's ring_buffer__poll locals."""

    pc: int = C_LOAD_CONS
    cons: int = 0
    prod: int = 0
    got_new: bool = False
    len: int = 0
    """The header len word last read."""
    copy_rec: int = -1
    """overwrite-safe consumer: the record its last copy came from (ghost, -1 for garbage)."""
    copy_ok: bool = False
    """overwrite-safe consumer: whether that copy was intact when it was made (ghost)."""


NO_CONSUMER = Consumer(pc=C_NONE)
"""The consumer slot of a state with an adversarial (not libbpf) consumer."""


# ---------------------------------------------------------------- the state


class State(NamedTuple):
    """Everything the model tracks; see the module docstring for the slot encoding."""

    consumer_pos: int
    producer_pos: int
    pending_pos: int
    lock: int
    """-1 when free, else the producer holding the ring's spinlock."""
    slots: tuple[int, ...]
    records: tuple[Record, ...]
    producers: tuple[Producer, ...]
    consumer: Consumer
    irq_pending: bool
    """irq_work queued by a commit and not yet run."""
    edge_ready: bool
    """Edge-triggered epoll: a wakeup arrived while the consumer was not asleep."""
    delivered: tuple[tuple[int, bool], ...]
    """Ghost log of samples handed to the callback: (record id or -1, intact)."""
    memory: object = None
    """None under sc; under tso/ra the memory model's state (module docstring)."""
    overwrite_pos: int = 0
    """Overwrite mode (BPF_F_RB_OVERWRITE): the start of the oldest record not overwritten;
    written by producers under the lock. It stays 0 in every other configuration."""


def initial_state(ring_size: int, producers: int, records: int, honest: bool,
                  start: int = 0, memory: object = None, overwrite: bool = False) -> State:
    """Empty ring with every position at ``start`` (0 in docs/protocol.md#8) and every actor at its first step."""
    return State(
        consumer_pos=start,
        producer_pos=start,
        pending_pos=start,
        lock=-1,
        slots=(SLOT_EMPTY,) * (ring_size // 8),
        records=(Record(),) * (producers * records),
        producers=(Producer(),) * producers,
        consumer=Consumer() if honest else NO_CONSUMER,
        irq_pending=False,
        edge_ready=False,
        delivered=(),
        memory=memory,
        overwrite_pos=start if overwrite else 0,
    )


_FIELD_INDEX: dict[type, dict[str, int]] = {
    t: {f: i for i, f in enumerate(t._fields)} for t in (State, Producer, Consumer, Record)}
_new_tuple = tuple.__new__


def evolve(nt: tuple, **changes: object):
    """``nt._replace(**changes)`` at half the cost: the transitions' hottest operation."""
    values = list(nt)
    index = _FIELD_INDEX[type(nt)]
    for name, value in changes.items():
        values[index[name]] = value
    return _new_tuple(type(nt), values)


def evolve_with(nt: tuple, changes: dict):
    """``evolve`` with the changes as a dict (no keyword packing)."""
    values = list(nt)
    index = _FIELD_INDEX[type(nt)]
    for name, value in changes.items():
        values[index[name]] = value
    return _new_tuple(type(nt), values)

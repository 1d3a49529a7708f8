"""The concurrent adapter protocol: operations as generators over a shared-memory object ringcheck owns.

An implementation under concurrent test writes each API call (reserve,
write, commit, consume) as a *generator function* that receives the
shared-memory object ``mem`` and yields one access request for every
access to shared memory, receiving the access's result back::

    def reserve(self, mem, producer, size, flags=0):
        cons = yield mem.load(CONSUMER_POS, ACQUIRE)
        yield mem.lock()
        prod = yield mem.load(PRODUCER_POS)
        ...
        yield mem.store(mem.word(prod), header, PLAIN)
        yield mem.store(PRODUCER_POS, new_prod, RELEASE)
        yield mem.unlock()
        return Handle(prod, size, producer)

``mem.load`` and friends do not touch memory: they build an `Access` that
names the location, the ordering and the value; ringcheck's scheduler
performs it under the chosen memory model (``model.memory``: sc, tso, ra)
when it decides that this thread runs next, and sends back what a load
read (the old value for ``xchg``/``cmpxchg``, None for a store).

Why generators rather than methods on ``mem`` that block: Python gives a
checker no control over preemptive threads, and a scheduler that owns every
shared access must stop the operation exactly there. A generator stops at
each ``yield`` with no thread, no lock and no timing, so one interleaving
is one list of choices and replays bit for bit (loom and shuttle get the
same from Rust's ownership of the atomics). The price is one ``yield`` in
front of each shared access; everything else (locals, arithmetic, loops)
is ordinary Python and runs between accesses without being an
interleaving point. Generators cannot be copied, so the explorer replays a
schedule from a fresh implementation to resume from a point.

The rule an implementation must keep: *all* state shared between
operations lives in ``mem`` (positions, the lock, the data area words).
State kept in the adapter object between calls is outside the
scheduler's view; a handle (`Handle.token`) may carry what one producer
passes from its reserve to its own commit.

Locations: ``CONSUMER_POS``, ``PRODUCER_POS``, ``PENDING_POS`` (v6.10),
``LOCK`` (the ring's spinlock word, 0 free), and the data area as 8-byte
little-endian words, ``mem.word(pos)`` for the word holding byte ``pos``
(reduced modulo the ring size: the double mapping). A header is one word,
``len | pg_off << 32``; a payload of ``n`` bytes is ``ceil(n / 8)`` words.
"""

from __future__ import annotations

from typing import Any, Generator, NamedTuple, Protocol, runtime_checkable

from checker.conformance.adapter import Handle
from model.steps import ACQUIRE, PLAIN, RELEASE, XCHG

CONSUMER_POS, PRODUCER_POS, PENDING_POS, LOCK = "consumer_pos", "producer_pos", "pending_pos", "lock"
POSITIONS = (CONSUMER_POS, PRODUCER_POS, PENDING_POS)

LOAD, STORE, XCHG_OP, CMPXCHG, FENCE, LOCK_OP = "load", "store", "xchg", "cmpxchg", "fence", "lock"
WORD_MASK = (1 << 64) - 1

__all__ = ["ACQUIRE", "CONSUMER_POS", "LOCK", "PENDING_POS", "PLAIN", "PRODUCER_POS", "RELEASE", "XCHG",
           "Access", "ConcurrentAdapter", "Operation", "SharedMemory", "word_bytes", "bytes_words"]


class Access(NamedTuple):
    """One shared access an operation asks for: what, where, with which ordering and value."""

    kind: str
    loc: object
    order: str = PLAIN
    value: int = 0
    expected: int = 0
    """cmpxchg: the value the location must hold for the exchange to happen."""

    def __str__(self) -> str:
        where = loc_str(self.loc)
        if self.kind == LOAD:
            return f"load {where} ({self.order})"
        if self.kind == STORE:
            return f"store {where} := {self.value:#x} ({self.order})"
        if self.kind == XCHG_OP:
            return f"xchg {where} := {self.value:#x} ({self.order})"
        if self.kind == CMPXCHG:
            return f"cmpxchg {where} {self.expected:#x} -> {self.value:#x} ({self.order})"
        if self.kind == LOCK_OP:
            return "spin_lock"
        return "smp_mb"

    def label(self) -> str:
        """The access without its value: ``load producer_pos``, ``store data[2]``, ``spin_lock``."""
        if self.kind in (FENCE, LOCK_OP):
            return str(self)
        return f"{self.kind} {loc_str(self.loc)}"


def loc_str(loc: object) -> str:
    """``producer_pos`` or ``data[3]`` (the data area's fourth word, bytes 24..31)."""
    if isinstance(loc, tuple):
        return f"data[{loc[1]}]"
    return str(loc)


class SharedMemory:
    """The memory ringcheck gives an implementation: builds access requests, owns no values.

    Every method returns an `Access` to be yielded; the scheduler runs it.
    ``unlock`` is a release store of 0 to ``LOCK``; ``lock`` spins (the
    thread is not runnable) while ``LOCK`` is not 0, then sets it to 1 with
    an acquire read-modify-write, as ``spin_lock``.
    """

    def __init__(self, ring_size: int) -> None:
        self.ring_size = ring_size
        self.mask = ring_size - 1
        self.words = ring_size // 8

    def word(self, pos: int) -> tuple[str, int]:
        """The location of the data word holding byte ``pos`` (taken modulo the ring size)."""
        return ("data", (pos & self.mask) >> 3)

    def locations(self, start: int = 0) -> dict[object, int]:
        """Every location with its initial value (positions at ``start``, the rest 0)."""
        values: dict[object, int] = {CONSUMER_POS: start, PRODUCER_POS: start, PENDING_POS: start, LOCK: 0}
        values.update({("data", i): 0 for i in range(self.words)})
        return values

    @staticmethod
    def load(loc: object, order: str = PLAIN) -> Access:
        """READ_ONCE (PLAIN) or smp_load_acquire (ACQUIRE); the scheduler sends back the value read."""
        return Access(LOAD, loc, order)

    @staticmethod
    def store(loc: object, value: int, order: str = PLAIN) -> Access:
        """WRITE_ONCE (PLAIN) or smp_store_release (RELEASE) of a 64-bit value."""
        return Access(STORE, loc, order, int(value) & WORD_MASK)

    @staticmethod
    def xchg(loc: object, value: int, order: str = XCHG) -> Access:
        """Atomic exchange (XCHG: fully ordered, as the kernel's xchg); sends back the old value."""
        return Access(XCHG_OP, loc, order, int(value) & WORD_MASK)

    @staticmethod
    def cmpxchg(loc: object, expected: int, new: int, order: str = XCHG) -> Access:
        """Atomic compare-and-exchange; sends back the old value (equal to ``expected`` on success)."""
        return Access(CMPXCHG, loc, order, int(new) & WORD_MASK, int(expected) & WORD_MASK)

    @staticmethod
    def fence() -> Access:
        """smp_mb(): a full fence."""
        return Access(FENCE, None, XCHG)

    @staticmethod
    def lock() -> Access:
        """spin_lock on the ring's lock word: runnable only while the lock is free."""
        return Access(LOCK_OP, LOCK, ACQUIRE, 1)

    @staticmethod
    def unlock() -> Access:
        """spin_unlock: a release store of 0 to the lock word."""
        return Access(STORE, LOCK, RELEASE, 0)


def bytes_words(data: bytes) -> list[int]:
    """``data`` as little-endian 8-byte words, the last one padded with zeros."""
    return [int.from_bytes(data[i:i + 8].ljust(8, b"\0"), "little") for i in range(0, len(data), 8)]


def word_bytes(words: list[int], size: int) -> bytes:
    """The first ``size`` bytes of little-endian 8-byte ``words``."""
    return b"".join(w.to_bytes(8, "little") for w in words)[:size]


Operation = Generator[Access, Any, Any]
"""What every method of a concurrent adapter returns: yields accesses, returns the call's result."""


@runtime_checkable
class ConcurrentAdapter(Protocol):
    """A ring buffer whose API calls are generators over `SharedMemory` (see the module docstring).

    A factory ``(ring_size, variant) -> ConcurrentAdapter`` builds one; the
    same object serves every thread of one execution. Results are as in
    `checker.conformance.adapter.Adapter`: reserve a `Handle` or None,
    consume the delivered payloads in order, write and commit None.
    """

    def reserve(self, mem: SharedMemory, producer: int, size: int, flags: int = 0) -> Operation:
        """bpf_ringbuf_reserve."""
        ...

    def write(self, mem: SharedMemory, handle: Handle, data: bytes) -> Operation:
        """The program's payload stores into its reservation."""
        ...

    def commit(self, mem: SharedMemory, handle: Handle, discard: bool = False, flags: int = 0) -> Operation:
        """bpf_ringbuf_submit / bpf_ringbuf_discard."""
        ...

    def consume(self, mem: SharedMemory) -> Operation:
        """One ring_buffer__consume pass."""
        ...

    # Optional: ``reopen(self, mem) -> Operation``, the consumer closed and opened again on the same
    # ring (scenarios with a ``reopen`` call); without it a reopen does nothing.

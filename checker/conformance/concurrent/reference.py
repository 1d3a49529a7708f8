"""The bundled reference, written against the shared-memory object: every shared access yielded.

`ConcurrentReference` is the kernel producer (docs/protocol.md#3) and the
libbpf consumer (section 4) of one variant, access for access and with the
kernel's orderings, the same ones ``model.producer`` and ``model.consumer``
register for their steps:

* reserve: smp_load_acquire(consumer_pos) before the lock; spin_lock;
  producer_pos (and, v6.10, pending_pos and the pending scan over headers)
  read plain under the lock; the space check; pending_pos, the BUSY header
  (one word: len and pg_off) stored plain; producer_pos by
  smp_store_release; spin_unlock;
* write: one plain store per payload word;
* commit: xchg of the header word (BUSY off, DISCARD on for a discard),
  then smp_load_acquire(consumer_pos) for the wakeup decision (wakeups are
  not compared, the load is kept because the kernel makes it);
* consume: smp_load_acquire of consumer_pos, producer_pos and each header,
  plain loads of the payload, smp_store_release(consumer_pos) after every
  record, producer_pos re-read while the pass found records.

The variant decides exactly what the sequential reference decides: v5.8 has
no record-size check, v6.10 scans pending_pos and bounds the span of
uncommitted records. Each decision is one small method so that
`mutants` can change exactly one access or one ordering.
"""

from __future__ import annotations

from checker.conformance.adapter import BUSY_BIT, DISCARD_BIT, HEADER_SIZE, U64_MASK, VARIANTS, Handle
from checker.conformance.concurrent.protocol import (ACQUIRE, CONSUMER_POS, PENDING_POS, PLAIN, PRODUCER_POS,
                                                     RELEASE, XCHG, Operation, SharedMemory, bytes_words,
                                                     word_bytes)
from checker.conformance.reference import LENGTH_MASK, MAX_RECORD_SIZE, header_pg_off, record_length
from model.variants import rules_of

LEN_WORD = (1 << 32) - 1


class ConcurrentReference:
    """The protocol of one variant, one yielded access per shared access."""

    def __init__(self, ring_size: int, variant: str) -> None:
        if ring_size < 16 or ring_size & (ring_size - 1):
            raise ValueError(f"ring size {ring_size} is not a power of two >= 16")
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
        self.ring_size = ring_size
        self.variant = variant
        self.rules = rules_of(variant)
        """What the variant's kernel does (model.variants): asked below, never the name. The
        lock of an rqspinlock variant never fails here: the scenarios have no NMI, and a
        waiting reservation is scheduled until the holder lets go (no timeout)."""
        self.mask = ring_size - 1

    # ------------------------------------------------------------ producer

    def reserve(self, mem: SharedMemory, producer: int, size: int, flags: int = 0) -> Operation:
        size &= U64_MASK
        if flags != 0 or size > MAX_RECORD_SIZE:
            return None
        length = record_length(size)
        if self.rules.checks_record_size and length > self.ring_size:
            return None
        cons = yield mem.load(CONSUMER_POS, ACQUIRE)
        if not (yield from self._lock(mem)):
            return None
        prod = yield mem.load(PRODUCER_POS, PLAIN)
        pend = 0
        if self.rules.pending_scan:
            pend = yield mem.load(PENDING_POS, PLAIN)
            pend = yield from self._scan_pending(mem, pend, prod)
            yield mem.store(PENDING_POS, pend, PLAIN)
        new_prod = (prod + length) & U64_MASK
        if not self._has_room(new_prod, cons, pend):
            yield from self._unlock(mem)
            return None
        yield from self._claim(mem, prod, new_prod, size)
        yield from self._unlock(mem)
        return Handle(prod, size, producer)

    def _lock(self, mem: SharedMemory) -> Operation:
        """spin_lock; True once held (a trylock would return False when the lock is taken)."""
        yield mem.lock()
        return True

    def _unlock(self, mem: SharedMemory) -> Operation:
        yield mem.unlock()

    def _scan_pending(self, mem: SharedMemory, pend: int, prod: int) -> Operation:
        """Step pending_pos past committed records, stopping at the first BUSY header."""
        while pend < prod:
            word = (yield mem.load(mem.word(pend), PLAIN)) & LEN_WORD
            if word & BUSY_BIT:
                break
            pend = (pend + record_length(word & ~DISCARD_BIT)) & U64_MASK
        return pend

    def _has_room(self, new_prod: int, cons: int, pend: int) -> bool:
        if (new_prod - cons) & U64_MASK > self.mask:
            return False
        return not (self.rules.pending_scan and (new_prod - pend) & U64_MASK > self.mask)

    def _claim(self, mem: SharedMemory, prod: int, new_prod: int, size: int) -> Operation:
        """The BUSY header, then producer_pos published by a release store."""
        yield mem.store(mem.word(prod), self._busy_header(prod, size), PLAIN)
        yield mem.store(PRODUCER_POS, new_prod, RELEASE)

    def _busy_header(self, prod: int, size: int) -> int:
        return (size | BUSY_BIT) | header_pg_off(prod & self.mask) << 32

    def write(self, mem: SharedMemory, handle: Handle, data: bytes) -> Operation:
        for i, word in enumerate(bytes_words(data)):
            yield mem.store(mem.word(handle.position + HEADER_SIZE + 8 * i), word, PLAIN)

    def commit(self, mem: SharedMemory, handle: Handle, discard: bool = False, flags: int = 0) -> Operation:
        yield from self._commit_header(mem, handle, discard)
        yield mem.load(CONSUMER_POS, ACQUIRE)

    def _commit_header(self, mem: SharedMemory, handle: Handle, discard: bool) -> Operation:
        """One xchg of the header word: BUSY flipped off, DISCARD added for a discard."""
        loc = mem.word(handle.position)
        old = yield mem.load(loc, PLAIN)
        new_len = ((old & LEN_WORD) ^ BUSY_BIT) | (DISCARD_BIT if discard else 0)
        yield mem.xchg(loc, (old & ~LEN_WORD) | new_len, XCHG)

    # ------------------------------------------------------------ consumer

    def consume(self, mem: SharedMemory) -> Operation:
        samples: list[bytes] = []
        cons = yield from self._start_pass(mem)
        while True:
            got_new_data = False
            prod = yield mem.load(PRODUCER_POS, ACQUIRE)
            while cons < prod:
                word = (yield from self._read_header(mem, cons)) & LEN_WORD
                if word & BUSY_BIT:
                    return samples
                got_new_data = True
                size = word & LENGTH_MASK
                start = cons
                cons = (cons + record_length(size)) & U64_MASK
                if not word & DISCARD_BIT:
                    samples.append((yield from self._read_sample(mem, start, size)))
                yield from self._store_consumer_pos(mem, cons)
            if not got_new_data:
                return samples

    def _start_pass(self, mem: SharedMemory) -> Operation:
        return (yield mem.load(CONSUMER_POS, ACQUIRE))

    def _store_consumer_pos(self, mem: SharedMemory, cons: int) -> Operation:
        yield mem.store(CONSUMER_POS, cons, RELEASE)

    def reopen(self, mem: SharedMemory) -> None:
        """ring_buffer__free and ring_buffer__new: libbpf keeps no position of its own, so nothing happens."""
        return None

    def _read_header(self, mem: SharedMemory, cons: int) -> Operation:
        return (yield mem.load(mem.word(cons), ACQUIRE))

    def _read_sample(self, mem: SharedMemory, start: int, size: int) -> Operation:
        words = []
        for i in range((size + 7) // 8):
            words.append((yield mem.load(mem.word(start + HEADER_SIZE + 8 * i), PLAIN)))
        return word_bytes(words, size)


def make_concurrent_reference(ring_size: int, variant: str) -> ConcurrentReference:
    """The default concurrent factory."""
    return ConcurrentReference(ring_size, variant)

"""A byte-level reference ring buffer for every protocol variant.

`ReferenceRingBuffer` re-implements the kernel producer (reserve, commit)
and the libbpf consumer of docs/protocol.md#4 over a real double-mapped data area,
with real 8-byte headers, so that its observable behaviour (returned
handles, positions, raw bytes, delivered samples) can be compared with any
other implementation through the `Adapter` interface. Each protocol
decision sits in its own small method so that `mutants` can break exactly
one of them.

The reference is sequential: one call is one atomic step, so it expresses
the protocol's data decisions, not its interleavings.
"""

from __future__ import annotations

from checker.conformance.adapter import (
    BUSY_BIT,
    DISCARD_BIT,
    FORCE_WAKEUP,
    HEADER_SIZE,
    NO_WAKEUP,
    VARIANTS,
    Handle,
    Observation,
)
from checker.conformance.memory import RingMemory, map_ring_memory
from model.variants import rules_of

MAX_RECORD_SIZE = 0xFFFFFFFF // 4
"""Largest payload size reserve accepts at all (UINT_MAX / 4)."""

LENGTH_MASK = (1 << 30) - 1
"""Bits of a header's len word that hold the payload size."""

DATA_PAGE_INDEX = 3
HEADER_PAGE_SHIFT = 12
"""pg_off = DATA_PAGE_INDEX + (offset >> HEADER_PAGE_SHIFT), as measured in KERNEL.md."""

CONSUME_LIMIT = 1 << 20
"""Most records one `consume` call processes.

A hostile consumer_pos far behind producer_pos would otherwise make the
consumer walk (and deliver garbage from) up to 2^61 records; like libbpf's
own per-call cap, the limit bounds the work of one call.
"""


def record_length(payload_size: int) -> int:
    """Bytes a record of `payload_size` occupies on the ring: header plus payload, 8-aligned."""
    return (payload_size + HEADER_SIZE + 7) & ~7


def header_pg_off(offset: int) -> int:
    """The pg_off the kernel stores in a header at data offset `offset`."""
    return DATA_PAGE_INDEX + (offset >> HEADER_PAGE_SHIFT)


class ReferenceRingBuffer:
    """The protocol of one variant over a ring of `ring_size` bytes.

    Beyond the adapter interface it exposes `pending_pos` (v6.10) and
    `wakeups`, the number of commits that would have queued the irq_work
    that wakes a sleeping consumer. It offers every optional capability:
    `reopen` and the attacker's `write_producer_pos`, `write_header`,
    `write_payload`. With `position_bits=32` its positions are 32-bit
    counters (a 32-bit machine's unsigned long): every sum and difference
    of positions wraps modulo 2**32, the comparisons stay plain.
    """

    def __init__(self, ring_size: int, variant: str, position_bits: int = 64) -> None:
        if ring_size < 16 or ring_size & (ring_size - 1):
            raise ValueError(f"ring size {ring_size} is not a power of two >= 16")
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
        if position_bits not in (64, 32):
            raise ValueError(f"positions of {position_bits} bits; the reference has 64 or 32")
        self.ring_size = ring_size
        self.variant = variant
        self.rules = rules_of(variant)
        """What the variant's kernel does (model.variants): asked below, never the name."""
        self.mask = ring_size - 1
        self.pos_mask = (1 << position_bits) - 1
        """All ones at the position width: what U64_MASK is at 64 bits."""
        self.producer_pos = 0
        self.consumer_pos = 0
        self.pending_pos = 0
        self.wakeups = 0
        self._memory: RingMemory = map_ring_memory(ring_size)
        self._outstanding: set[int] = set()

    @property
    def rejects_oversized(self) -> bool:
        """v5.13 and later refuse records longer than the ring before anything else."""
        return self.rules.checks_record_size

    @property
    def tracks_pending(self) -> bool:
        """v6.10 and later keep pending_pos and bound the span of uncommitted records."""
        return self.rules.pending_scan

    def reserve(self, producer: int, size: int, flags: int = 0) -> Handle | None:
        size &= (1 << 64) - 1
        if flags != 0 or size > MAX_RECORD_SIZE:
            return None
        length = record_length(size)
        if self._too_long_for_ring(length):
            return None
        cons = self.consumer_pos
        prod = self.producer_pos
        new_prod = (prod + length) & self.pos_mask
        if self.tracks_pending:
            self.pending_pos = self._scan_pending(self.pending_pos, prod)
        if not self._has_room(new_prod, cons, self.pending_pos):
            return None
        offset = prod & self.mask
        self._memory.set_u32(offset, size | BUSY_BIT)
        self._memory.set_u32(offset + 4, header_pg_off(offset))
        self.producer_pos = new_prod
        self._outstanding.add(prod)
        return Handle(position=prod, size=size, producer=producer)

    def write(self, handle: Handle, data: bytes) -> None:
        self._require_outstanding(handle)
        if len(data) != handle.size:
            raise ValueError(f"payload of {len(data)} bytes for a record of {handle.size}")
        self._memory.write_wrapped((handle.position & self.mask) + HEADER_SIZE, data)

    def commit(self, handle: Handle, discard: bool = False, flags: int = 0) -> None:
        self._require_outstanding(handle)
        self._outstanding.discard(handle.position)
        offset = handle.position & self.mask
        self._memory.set_u32(offset, self._committed_len(self._memory.u32(offset), discard))
        if self._wants_wakeup(offset, flags):
            self.wakeups += 1

    def consume(self) -> list[bytes]:
        samples: list[bytes] = []
        processed = 0
        cons = self.consumer_pos
        while True:
            got_new_data = False
            prod = self.producer_pos
            while cons < prod:
                offset = cons & self.mask
                word = self._memory.u32(offset)
                if self._stops_consumer(word):
                    return samples
                got_new_data = True
                payload_size = word & LENGTH_MASK
                cons = (cons + record_length(payload_size)) & self.pos_mask
                if self._delivers(word):
                    samples.append(self._read_sample(offset, payload_size))
                self._store_consumer_pos(cons)
                processed += 1
                if processed >= CONSUME_LIMIT:
                    return samples
            if not got_new_data:
                return samples

    def set_consumer_pos(self, value: int) -> None:
        self.consumer_pos = value & self.pos_mask

    def write_producer_pos(self, value: int) -> None:
        """The attacker's store of producer_pos (were the producer page writable)."""
        self.producer_pos = value & self.pos_mask

    def write_header(self, offset: int, len_word: int) -> None:
        """The attacker's header {len_word, 0xFFFFFFFF} at data offset `offset`."""
        self._memory.set_u32(offset & self.mask, len_word & 0xFFFFFFFF)
        self._memory.set_u32((offset & self.mask) + 4, 0xFFFFFFFF)

    def write_payload(self, offset: int, data: bytes) -> None:
        """The attacker's 8 data bytes at data offset `offset`."""
        self._memory.write_wrapped(offset & self.mask, data)

    def reopen(self) -> None:
        """The consumer closed and opened again: libbpf keeps no position of its own, so nothing changes."""

    def observe(self) -> Observation:
        return Observation(
            producer_pos=self.producer_pos,
            consumer_pos=self.consumer_pos,
            data=self._memory.read(0, self.ring_size),
        )

    def close(self) -> None:
        self._memory.close()

    def header(self, position: int) -> tuple[int, int]:
        """The (len, pg_off) words of the header at producer position `position`."""
        offset = position & self.mask
        return self._memory.u32(offset), self._memory.u32(offset + 4)

    def _too_long_for_ring(self, length: int) -> bool:
        return self.rejects_oversized and length > self.ring_size

    def _scan_pending(self, pend: int, prod: int) -> int:
        """Advance past committed records from `pend`, stopping at the first BUSY one."""
        while pend < prod:
            word = self._memory.u32(pend & self.mask)
            if word & BUSY_BIT:
                break
            pend = (pend + record_length(word & ~DISCARD_BIT)) & self.pos_mask
        return pend

    def _has_room(self, new_prod: int, cons: int, pend: int) -> bool:
        if (new_prod - cons) & self.pos_mask > self.mask:
            return False
        return not (self.tracks_pending and (new_prod - pend) & self.pos_mask > self.mask)

    def _committed_len(self, word: int, discard: bool) -> int:
        """The header word after commit: BUSY flipped off, DISCARD added for a discard."""
        word ^= BUSY_BIT
        return word | DISCARD_BIT if discard else word

    def _wants_wakeup(self, offset: int, flags: int) -> bool:
        """Queue a wakeup when forced, or when the consumer waits right at this record."""
        if flags & FORCE_WAKEUP:
            return True
        return (self.consumer_pos & self.mask) == offset and not flags & NO_WAKEUP

    def _stops_consumer(self, word: int) -> bool:
        return bool(word & BUSY_BIT)

    def _delivers(self, word: int) -> bool:
        return not word & DISCARD_BIT

    def _store_consumer_pos(self, cons: int) -> None:
        self.consumer_pos = cons

    def _read_sample(self, offset: int, payload_size: int) -> bytes:
        start = offset + HEADER_SIZE
        return self._memory.read(start, min(payload_size, 2 * self.ring_size - start))

    def _require_outstanding(self, handle: Handle) -> None:
        if handle.position not in self._outstanding:
            raise ValueError(f"no uncommitted reservation at position {handle.position:#x}")

    def __enter__(self) -> ReferenceRingBuffer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def make_reference(ring_size: int, variant: str, position_bits: int = 64) -> ReferenceRingBuffer:
    """The default `Factory`: a fresh reference ring buffer (32-bit positions when asked)."""
    return ReferenceRingBuffer(ring_size, variant, position_bits)

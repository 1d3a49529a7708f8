"""The bundled reference user ring buffer: real bytes in a bytearray, written from docs/protocol.md#5.

It shares no code with the model (``model.userring``): libbpf's producer and
the kernel drain are re-implemented here on the bytes, so a lockstep run of
the two is a real comparison. The drain's per-sample checks are methods a
mutant (``checker.conformance.user.mutants``) overrides to leave one out.
"""

from __future__ import annotations

import struct
from typing import Sequence

from checker.conformance.user.adapter import Drained, Reserved, UserObservation

BUSY, DISCARD, HEADER = 1 << 31, 1 << 30, 8
NO_WAKEUP, FORCE_WAKEUP = 1, 2
EINVAL, E2BIG, EBUSY, ENOSPC = 22, 7, 16, 28
MAX_SAMPLES = 128 * 1024
DYNPTR_MAX = (1 << 24) - 1
U64 = (1 << 64) - 1


class _NoData(Exception):
    """Peek found no sample to hand over (the loop ends without an error)."""


class _Skip(Exception):
    """Peek stepped over a discarded sample."""


class ReferenceUserRing:
    """A user ring of ``ring_size`` bytes with libbpf's producer and the kernel drain."""

    def __init__(self, ring_size: int, drain_limit: int = MAX_SAMPLES) -> None:
        if ring_size < 16 or ring_size & (ring_size - 1):
            raise ValueError(f"ring size {ring_size} is not a power of two >= 16")
        self.size = ring_size
        self.data = bytearray(ring_size)
        self.producer_pos = 0
        self.consumer_pos = 0
        self.busy = 0
        self.limit = drain_limit

    # ------------------------------------------------------------------ bytes

    def _len_at(self, pos: int) -> int:
        off = pos % self.size
        return struct.unpack_from("<I", self.data, off)[0]

    def _put(self, pos: int, raw: bytes) -> None:
        for i, b in enumerate(raw):
            self.data[(pos + i) % self.size] = b

    # ------------------------------------------------------------------ libbpf's producer

    def reserve(self, size: int) -> Reserved:
        if size & (BUSY | DISCARD):
            return Reserved(None, E2BIG)
        cons, prod = self.consumer_pos, self.producer_pos
        total = ((size + HEADER + 7) // 8 * 8) & 0xFFFFFFFF
        if total > self.size:
            return Reserved(None, E2BIG)
        if (self.size - ((prod - cons) & U64)) & 0xFFFFFFFF < total:
            return Reserved(None, ENOSPC)
        self._put(prod, struct.pack("<II", size | BUSY, 0))
        self._put(prod + HEADER, bytes((prod // 8 + i) % 251 + 1 for i in range(min(size, self.size))))
        self.producer_pos = (prod + total) & U64
        return Reserved(prod)

    def _commit(self, position: int, discard: bool) -> None:
        new = self._len_at(position) & ~BUSY
        self._put(position, struct.pack("<I", new | (DISCARD if discard else 0)))

    def submit(self, position: int) -> None:
        self._commit(position, False)

    def discard(self, position: int) -> None:
        self._commit(position, True)

    # ------------------------------------------------------------------ hostile user space

    def write_producer_pos(self, value: int) -> None:
        self.producer_pos = value & U64

    def write_word(self, offset: int, value: int) -> None:
        self._put(offset, struct.pack("<Q", value & U64))

    # ------------------------------------------------------------------ the kernel drain

    def check_producer_aligned(self, prod: int) -> None:
        if prod % 8:
            raise ValueError(-EINVAL)

    def check_data(self, cons: int, prod: int) -> None:
        if cons >= prod:
            raise _NoData

    def check_sample(self, cons: int, prod: int, total: int, length: int) -> None:
        if total > prod - cons:
            raise ValueError(-EINVAL)
        if total > self.size:
            raise ValueError(-E2BIG)
        if length > DYNPTR_MAX:
            raise ValueError(-E2BIG)

    def check_flags(self, hdr: int, cons: int, total: int) -> None:
        if hdr & DISCARD:
            self.consumer_pos = (cons + total) & U64
            raise _Skip
        if hdr & BUSY:
            raise _NoData

    def _peek(self) -> tuple[int, int]:
        """(position, length) of the next sample to hand over; raises for the other outcomes."""
        prod = self.producer_pos
        self.check_producer_aligned(prod)
        cons = self.consumer_pos
        self.check_data(cons, prod)
        hdr = self._len_at(cons)
        length = hdr & ~(BUSY | DISCARD)
        total = ((length + HEADER + 7) // 8 * 8) & 0xFFFFFFFF
        self.check_sample(cons, prod, total, length)
        self.check_flags(hdr, cons, total)
        return cons, length

    def release(self, length: int, stopped: bool) -> None:
        """The sample handed over is consumed, whatever the callback returned."""
        self.consumer_pos = (self.consumer_pos + ((length + HEADER + 7) // 8 * 8)) & U64

    def drain(self, flags: int = 0, callback_returns: Sequence[int] = ()) -> Drained:
        if flags & ~(NO_WAKEUP | FORCE_WAKEUP):
            return Drained(-EINVAL)
        if self.busy:
            return Drained(-EBUSY)
        self.busy = 1
        seen: list[tuple[int, int]] = []
        loops = skipped = 0
        ret = None
        try:
            while loops < self.limit:
                try:
                    pos, length = self._peek()
                except _Skip:
                    loops += 1
                    skipped += 1
                    continue
                except _NoData:
                    break
                except ValueError as e:
                    ret = e.args[0]
                    break
                stop = len(seen) < len(callback_returns) and callback_returns[len(seen)] == 1
                seen.append((pos, length))
                self.release(length, stop)
                loops += 1
                if stop:
                    break
        finally:
            self.busy = 0
        return Drained(loops - skipped if ret is None else ret, tuple(seen))

    def observe(self) -> UserObservation:
        return UserObservation(self.producer_pos, self.consumer_pos, bytes(self.data))

    def close(self) -> None:
        self.data = bytearray()


def make_reference(ring_size: int) -> ReferenceUserRing:
    """The bundled reference's factory."""
    return ReferenceUserRing(ring_size)

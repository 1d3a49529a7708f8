"""The honest user producer, twice: libbpf's algorithm in Python and libbpf itself through ctypes.

Both act on the same shared memory (``UserRingMap``'s writable mapping, or
libbpf's own mapping of the same map) and keep no state of their own beyond
the reservations they handed out, so hostile writes to ``producer_pos`` or to
the data area between their calls affect them exactly as they would affect a
real libbpf producer.

``PythonProducer`` re-states what ``user_ring_buffer__reserve`` / ``__submit`` /
``__discard`` do (libbpf src/ringbuf.c, described, not copied): refuse a size
carrying the BUSY or DISCARD bit (E2BIG); compute the free space as the ring
size minus ``producer_pos - consumer_pos``, truncated to 32 bits; refuse a
record longer than the ring (E2BIG) or one that does not fit (ENOSPC); write
the header ``len | BUSY`` and a zero ``pg_off`` word at ``producer_pos``;
publish ``producer_pos + round_up(len + 8, 8)``.  Commit clears BUSY in
whatever len word the header holds then, and sets DISCARD for a discard.
"""

from __future__ import annotations

import ctypes
import errno as errno_codes
import os

from checker.kernel.libbpf import _load as load_libbpf
from checker.kernel.user.usermap import PAGE_SIZE, UserRingMap

BUSY_BIT = 1 << 31
DISCARD_BIT = 1 << 30
HDR_SZ = 8
U32_MASK = 0xFFFFFFFF

Reservation = tuple[int | None, int]
"""(header position, 0) for a granted reservation, (None, errno) for a refused one.

Reservations are named by slot: the n-th ``reserve`` call is slot n, granted or not."""


def record_length(size: int) -> int:
    """Bytes a sample of ``size`` payload bytes takes on the ring (32-bit arithmetic, as libbpf computes it)."""
    return ((size + HDR_SZ + 7) // 8 * 8) & U32_MASK


class PythonProducer:
    """libbpf's user producer algorithm, run in Python on the ring's writable mapping."""

    name = "python"

    def __init__(self, ring: UserRingMap) -> None:
        self.ring = ring
        self.positions: list[int | None] = []

    def reserve(self, size: int) -> Reservation:
        granted = self._reserve(size)
        self.positions.append(granted[0])
        return granted

    def _reserve(self, size: int) -> Reservation:
        size &= U32_MASK
        if size & (BUSY_BIT | DISCARD_BIT):
            return None, errno_codes.E2BIG
        cons, prod = self.ring.consumer_pos, self.ring.producer_pos
        available = (self.ring.size - (prod - cons)) & U32_MASK
        total = record_length(size)
        if total > self.ring.size:
            return None, errno_codes.E2BIG
        if available < total:
            return None, errno_codes.ENOSPC
        self.ring.write_word(prod, size | BUSY_BIT)
        self.ring.producer_pos = prod + total
        return prod, 0

    def clear(self, slot: int, size: int) -> None:
        """The application's write of a zero payload: every word of the sample after its header."""
        for i in range((size + 7) // 8):
            self.ring.write_word(self.positions[slot] + HDR_SZ + 8 * i, 0)

    def fill(self, slot: int, value: int) -> None:
        """Write the first payload word of the granted reservation ``slot``."""
        self.ring.write_word(self.positions[slot] + HDR_SZ, value)

    def _commit(self, slot: int, discard: bool) -> None:
        pos = self.positions[slot]
        len_word = self.ring.u32(pos) & ~BUSY_BIT
        self.ring.write_u32(pos, len_word | (DISCARD_BIT if discard else 0))

    def submit(self, slot: int) -> None:
        self._commit(slot, False)

    def discard(self, slot: int) -> None:
        self._commit(slot, True)

    def close(self) -> None:
        pass


def _bind(library: ctypes.CDLL) -> ctypes.CDLL:
    if getattr(library, "_ringcheck_user_bound", False):
        return library
    library.user_ring_buffer__new.restype = ctypes.c_void_p
    library.user_ring_buffer__new.argtypes = [ctypes.c_int, ctypes.c_void_p]
    library.user_ring_buffer__reserve.restype = ctypes.c_void_p
    library.user_ring_buffer__reserve.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    for name in ("user_ring_buffer__submit", "user_ring_buffer__discard"):
        getattr(library, name).restype = None
        getattr(library, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    library.user_ring_buffer__free.restype = None
    library.user_ring_buffer__free.argtypes = [ctypes.c_void_p]
    library._ringcheck_user_bound = True
    return library


def libbpf_user_available() -> tuple[bool, str]:
    """Return (True, "") if libbpf.so.1 has the user ring buffer API, else (False, reason)."""
    try:
        _bind(load_libbpf())
    except OSError as missing:
        return False, f"libbpf.so.1 not loadable: {missing} (Debian package libbpf1)"
    except AttributeError as old:
        return False, f"libbpf.so.1 lacks the user ring buffer API (libbpf >= 1.1): {old}"
    return True, ""


class LibbpfProducer:
    """libbpf's ``struct user_ring_buffer`` on the ring's map fd (libbpf maps the pages itself).

    A reservation's position is ``producer_pos`` read just before the call;
    that it is where libbpf's pointer points is checked by the kernel side
    of every test, since ``fill`` writes through the pointer and the drain
    reads the word back at the position.
    """

    name = "libbpf"

    def __init__(self, ring: UserRingMap) -> None:
        self.ring = ring
        self._library = _bind(load_libbpf())
        handle = self._library.user_ring_buffer__new(ring.fd, None)
        if not handle:
            err = ctypes.get_errno()
            raise OSError(err, f"user_ring_buffer__new failed: {os.strerror(err)}")
        self._handle: int | None = handle
        self._pointers: list[int | None] = []

    def _open(self) -> int:
        if self._handle is None:
            raise ValueError("libbpf user producer is closed")
        return self._handle

    def reserve(self, size: int) -> Reservation:
        before = self.ring.producer_pos
        ctypes.set_errno(0)
        pointer = self._library.user_ring_buffer__reserve(self._open(), size & U32_MASK)
        self._pointers.append(pointer or None)
        if not pointer:
            return None, ctypes.get_errno()
        if pointer % PAGE_SIZE != ((before + HDR_SZ) & self.ring.mask) % PAGE_SIZE:
            raise RuntimeError(f"libbpf placed a sample at page offset {pointer % PAGE_SIZE:#x}, "
                               f"not at producer_pos {before:#x} + 8")
        return before, 0

    def clear(self, slot: int, size: int) -> None:
        """The application's write of a zero payload, through libbpf's pointer (whole words)."""
        ctypes.memset(self._pointers[slot], 0, (size + 7) // 8 * 8)

    def fill(self, slot: int, value: int) -> None:
        """Write the first payload word through the pointer libbpf returned for ``slot``."""
        ctypes.memmove(self._pointers[slot], (value & ((1 << 64) - 1)).to_bytes(8, "little"), 8)

    def submit(self, slot: int) -> None:
        self._library.user_ring_buffer__submit(self._open(), self._pointers[slot])

    def discard(self, slot: int) -> None:
        self._library.user_ring_buffer__discard(self._open(), self._pointers[slot])

    def close(self) -> None:
        if getattr(self, "_handle", None) is not None:
            handle, self._handle = self._handle, None
            self._library.user_ring_buffer__free(handle)

    def __del__(self) -> None:
        self.close()


PRODUCERS = {"python": PythonProducer, "libbpf": LibbpfProducer}

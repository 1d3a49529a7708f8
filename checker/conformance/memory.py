"""The ring buffer's data area, mapped twice back to back.

The kernel maps the data pages of a ring buffer twice in a row, so that a
record starting near the end of the area can be read and written as one
contiguous range that runs on into the second copy. The reference
implementation needs the same aliasing to be byte-faithful: a record that
wraps, or (v5.8) a record longer than the ring that writes over its own
header, must land in the same bytes it would in the kernel.

`map_ring_memory(size)` picks the backend. For sizes that are a multiple of
the page size it returns a `MirroredMapping`: a memfd mapped twice with
MAP_FIXED into a 2*size reservation of address space, so offset i and
i + size are literally the same memory. The model uses rings as small as
16 bytes, which mmap cannot place, so smaller sizes get an
`EmulatedMirror`: one bytearray of `size` bytes whose offsets are wrapped
modulo `size`, observably identical through this interface.

Linux only (memfd_create and the MAP_* constants below are Linux's).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct

PAGE_SIZE = mmap.PAGESIZE

_PROT_NONE = 0
_PROT_READ = 1
_PROT_WRITE = 2
_MAP_SHARED = 0x01
_MAP_PRIVATE = 0x02
_MAP_FIXED = 0x10
_MAP_ANONYMOUS = 0x20
_MAP_FAILED = ctypes.c_void_p(-1).value

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def _load_libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int64,
    ]
    libc.munmap.restype = ctypes.c_int
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    return libc


_libc = _load_libc()


class RingMemory:
    """Byte access to a data area of `size` bytes seen through 2*size offsets.

    Offsets in [0, 2*size) are valid; offset i and i + size name the same
    byte. Subclasses provide `_load` and `_store` for in-range accesses.
    """

    size: int

    def read(self, offset: int, length: int) -> bytes:
        """Return `length` bytes starting at `offset` (must end by 2*size)."""
        self._check_range(offset, length)
        return self._load(offset, length)

    def write(self, offset: int, data: bytes) -> None:
        """Store `data` at `offset` (must end by 2*size)."""
        self._check_range(offset, len(data))
        self._store(offset, bytes(data))

    def u32(self, offset: int) -> int:
        """Little-endian u32 at any offset, aligned or not."""
        return _U32.unpack(self.read(offset, 4))[0]

    def set_u32(self, offset: int, value: int) -> None:
        self.write(offset, _U32.pack(value & 0xFFFFFFFF))

    def u64(self, offset: int) -> int:
        """Little-endian u64 at any offset, aligned or not."""
        return _U64.unpack(self.read(offset, 8))[0]

    def set_u64(self, offset: int, value: int) -> None:
        self.write(offset, _U64.pack(value & 0xFFFFFFFFFFFFFFFF))

    def read_wrapped(self, offset: int, length: int) -> bytes:
        """Read `length` bytes from `offset`, wrapping modulo size as often as needed.

        Used where the protocol says an access wraps around the ring even
        past the second mapping (a v5.8 record longer than the ring).
        """
        chunks = []
        position = offset % self.size
        remaining = length
        while remaining > 0:
            step = min(remaining, self.size)
            chunks.append(self.read(position, step))
            position = (position + step) % self.size
            remaining -= step
        return b"".join(chunks)

    def write_wrapped(self, offset: int, data: bytes) -> None:
        """Write `data` from `offset`, wrapping modulo size; later bytes win."""
        position = offset % self.size
        for start in range(0, len(data), self.size):
            chunk = data[start : start + self.size]
            self.write(position, chunk)
            position = (position + len(chunk)) % self.size

    def close(self) -> None:
        """Release the memory; idempotent."""

    def __enter__(self) -> RingMemory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_range(self, offset: int, length: int) -> None:
        if length < 0 or offset < 0 or offset + length > 2 * self.size:
            raise IndexError(
                f"access [{offset:#x}, {offset + length:#x}) outside the double map "
                f"[0, {2 * self.size:#x})"
            )

    def _load(self, offset: int, length: int) -> bytes:
        raise NotImplementedError

    def _store(self, offset: int, data: bytes) -> None:
        raise NotImplementedError


class MirroredMapping(RingMemory):
    """A memfd of `size` bytes mapped twice, back to back, as the kernel does.

    `size` must be a positive multiple of the page size.
    """

    def __init__(self, size: int) -> None:
        if size <= 0 or size % PAGE_SIZE:
            raise ValueError(f"size {size:#x} is not a positive multiple of the page size")
        self.size = size
        self._fd = os.memfd_create("ringcheck-data", os.MFD_CLOEXEC)
        self._base: int | None = None
        try:
            os.ftruncate(self._fd, size)
            self._base = self._map(None, 2 * size, _PROT_NONE, _MAP_PRIVATE | _MAP_ANONYMOUS, -1)
            for half in (0, size):
                self._map(
                    self._base + half,
                    size,
                    _PROT_READ | _PROT_WRITE,
                    _MAP_SHARED | _MAP_FIXED,
                    self._fd,
                )
        except BaseException:
            self.close()
            raise

    @property
    def address(self) -> int:
        """Start address of the first mapping (for callers that pass pointers)."""
        if self._base is None:
            raise ValueError("memory is closed")
        return self._base

    def close(self) -> None:
        if self._base is not None:
            _libc.munmap(self._base, 2 * self.size)
            self._base = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _load(self, offset: int, length: int) -> bytes:
        return ctypes.string_at(self.address + offset, length)

    def _store(self, offset: int, data: bytes) -> None:
        ctypes.memmove(self.address + offset, data, len(data))

    @staticmethod
    def _map(address: int | None, length: int, prot: int, flags: int, fd: int) -> int:
        result = _libc.mmap(address, length, prot, flags, fd, 0)
        if result is None or result == _MAP_FAILED:
            errno = ctypes.get_errno()
            raise OSError(errno, f"mmap failed: {os.strerror(errno)}")
        return result


class EmulatedMirror(RingMemory):
    """A plain bytearray of `size` bytes whose offsets wrap modulo `size`.

    Stands in for the double mapping when `size` is below a page (the
    model's tiny rings), where mmap cannot place two copies back to back.
    """

    def __init__(self, size: int) -> None:
        if size <= 0:
            raise ValueError(f"size {size} must be positive")
        self.size = size
        self._bytes = bytearray(size)

    def _load(self, offset: int, length: int) -> bytes:
        start = offset % self.size
        first = self._bytes[start : start + length]
        return bytes(first + self._bytes[: length - len(first)])

    def _store(self, offset: int, data: bytes) -> None:
        start = offset % self.size
        head = min(len(data), self.size - start)
        self._bytes[start : start + head] = data[:head]
        self._bytes[: len(data) - head] = data[head:]


def map_ring_memory(size: int, *, emulate: bool | None = None) -> RingMemory:
    """Return the data area for a ring of `size` bytes.

    By default a real double mapping when `size` is a multiple of the page
    size, the emulation otherwise; `emulate` forces one or the other.
    """
    if emulate is None:
        emulate = size % PAGE_SIZE != 0
    return EmulatedMirror(size) if emulate else MirroredMapping(size)

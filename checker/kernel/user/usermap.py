"""A BPF_MAP_TYPE_USER_RINGBUF map with its pages mapped the way its producer maps them.

Roles are swapped against the kernel ring (docs/protocol.md#5): the consumer
page (offset 0, ``consumer_pos``) is the kernel's and may only be mapped
read-only (a writable map of it is refused with EPERM); one page further, the
producer page (``producer_pos``) and the data area, mapped twice back to back,
are the user producer's and are mapped writable.  Everything user space can do
to the kernel goes through ``producer_pos`` and ``write_word``.
"""

from __future__ import annotations

import mmap
import struct

from checker.kernel.bpf import BPF_MAP_TYPE_USER_RINGBUF, Map, create_map
from checker.kernel.ringmap import check_ring_size

PAGE_SIZE = mmap.PAGESIZE
U64_MASK = (1 << 64) - 1
_U64 = struct.Struct("<Q")


class UserRingMap:
    """A user ring map, its read-only consumer page and its writable producer page and data."""

    def __init__(self, size: int) -> None:
        check_ring_size(size)
        self.size = size
        self.mask = size - 1
        self.map: Map = create_map(BPF_MAP_TYPE_USER_RINGBUF, 0, 0, size)
        self._consumer_page: mmap.mmap | None = None
        self._producer_pages: mmap.mmap | None = None
        try:
            self._consumer_page = mmap.mmap(self.map.fd, PAGE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ, offset=0)
            self._producer_pages = mmap.mmap(self.map.fd, PAGE_SIZE + 2 * size, mmap.MAP_SHARED,
                                             mmap.PROT_READ | mmap.PROT_WRITE, offset=PAGE_SIZE)
        except BaseException:
            self.close()
            raise

    @property
    def fd(self) -> int:
        return self.map.fd

    @property
    def closed(self) -> bool:
        return self.map.closed

    def _producer(self) -> mmap.mmap:
        if self._producer_pages is None:
            raise ValueError("user ring map is closed")
        return self._producer_pages

    @property
    def consumer_pos(self) -> int:
        if self._consumer_page is None:
            raise ValueError("user ring map is closed")
        return _U64.unpack_from(self._consumer_page, 0)[0]

    @property
    def producer_pos(self) -> int:
        return _U64.unpack_from(self._producer(), 0)[0]

    @producer_pos.setter
    def producer_pos(self, value: int) -> None:
        _U64.pack_into(self._producer(), 0, value & U64_MASK)

    def word(self, offset: int) -> int:
        """The 8-byte data word at ``offset`` (modulo the size; offset a multiple of 8)."""
        return _U64.unpack_from(self._producer(), PAGE_SIZE + (offset & self.mask))[0]

    def write_word(self, offset: int, value: int) -> None:
        """Store ``value`` into the data word at ``offset`` (modulo the size), as any user space may."""
        _U64.pack_into(self._producer(), PAGE_SIZE + (offset & self.mask), value & U64_MASK)

    def write_u32(self, offset: int, value: int) -> None:
        """Store the 32-bit ``value`` at byte ``offset`` of the data area (a header's len word)."""
        struct.pack_into("<I", self._producer(), PAGE_SIZE + (offset & self.mask), value & 0xFFFFFFFF)

    def u32(self, offset: int) -> int:
        return struct.unpack_from("<I", self._producer(), PAGE_SIZE + (offset & self.mask))[0]

    def words(self) -> tuple[int, ...]:
        """Every data word, in order (a snapshot of the data area)."""
        return struct.unpack_from(f"<{self.size // 8}Q", self._producer(), PAGE_SIZE)

    def second_copy_word(self, offset: int) -> int:
        """The word at ``offset`` read through the second mapping of the data area (``offset + size``)."""
        return _U64.unpack_from(self._producer(), PAGE_SIZE + self.size + (offset & self.mask))[0]

    def close(self) -> None:
        """Unmap both mappings and close the map fd; safe to call twice."""
        for name in ("_producer_pages", "_consumer_page"):
            mapping = getattr(self, name, None)
            if mapping is not None:
                mapping.close()
                setattr(self, name, None)
        if getattr(self, "map", None) is not None:
            self.map.close()

    def __enter__(self) -> UserRingMap:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return f"<UserRingMap size={self.size:#x} closed>"
        return (f"<UserRingMap size={self.size:#x} consumer_pos={self.consumer_pos:#x} "
                f"producer_pos={self.producer_pos:#x}>")

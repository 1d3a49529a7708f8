"""A BPF ring buffer map with its shared pages mapped into this process.

The kernel exposes a ring map as two mappings: the consumer page (offset 0,
the only page user space may write: it holds ``consumer_pos``) and, one page
further, the read-only producer page (``producer_pos``) followed by the data
area mapped twice back to back.  Writing ``consumer_pos`` directly is how the
checker plays the untrusted consumer of docs/protocol.md#4.
"""

from __future__ import annotations

import mmap
import struct

from checker.kernel.bpf import (
    BPF_MAP_TYPE_RINGBUF,
    BPF_RINGBUF_BUSY_BIT,
    BPF_RINGBUF_DISCARD_BIT,
    BPF_RINGBUF_HDR_SZ,
    Map,
    create_map,
)

PAGE_SIZE = mmap.PAGESIZE
DEFAULT_RING_SIZE = 0x4000
_U64 = struct.Struct("<Q")
_HEADER = struct.Struct("<II")


def record_length(size: int) -> int:
    """Bytes a record of ``size`` payload bytes takes on the ring: round_up(size + 8, 8)."""
    return (size + BPF_RINGBUF_HDR_SZ + 7) & ~7


def check_ring_size(size: int) -> None:
    """Raise ValueError unless ``size`` is a power of two and a multiple of the page size."""
    if size <= 0 or size & (size - 1) or size % PAGE_SIZE:
        raise ValueError(f"ring size {size:#x} must be a power of two and a multiple of {PAGE_SIZE:#x}")


class RingMap:
    """A BPF_MAP_TYPE_RINGBUF map plus its consumer and producer/data mappings."""

    def __init__(self, size: int = DEFAULT_RING_SIZE) -> None:
        check_ring_size(size)
        self.size = size
        self.mask = size - 1
        self.map: Map = create_map(BPF_MAP_TYPE_RINGBUF, 0, 0, size)
        self._consumer_page: mmap.mmap | None = None
        self._producer_pages: mmap.mmap | None = None
        try:
            self._consumer_page = mmap.mmap(
                self.map.fd, PAGE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
            self._producer_pages = mmap.mmap(
                self.map.fd, PAGE_SIZE + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ, offset=PAGE_SIZE)
        except BaseException:
            self.close()
            raise

    @property
    def fd(self) -> int:
        return self.map.fd

    @property
    def closed(self) -> bool:
        return self.map.closed

    def _consumer(self) -> mmap.mmap:
        if self._consumer_page is None:
            raise ValueError("ring map is closed")
        return self._consumer_page

    def _producer(self) -> mmap.mmap:
        if self._producer_pages is None:
            raise ValueError("ring map is closed")
        return self._producer_pages

    @property
    def consumer_pos(self) -> int:
        return _U64.unpack_from(self._consumer(), 0)[0]

    @consumer_pos.setter
    def consumer_pos(self, value: int) -> None:
        _U64.pack_into(self._consumer(), 0, value & 0xFFFFFFFFFFFFFFFF)

    @property
    def producer_pos(self) -> int:
        return _U64.unpack_from(self._producer(), 0)[0]

    def data(self, offset: int, length: int) -> bytes:
        """Bytes of the data area from ``offset`` (taken modulo the size), read through the double map."""
        if not 0 <= length <= self.size:
            raise ValueError(f"length {length:#x} outside 0..{self.size:#x}")
        start = PAGE_SIZE + (offset & self.mask)
        return self._producer()[start:start + length]

    def header(self, offset: int) -> tuple[int, int]:
        """The record header at ``offset`` (modulo the size): (len word with BUSY/DISCARD bits, pg_off)."""
        return _HEADER.unpack_from(self._producer(), PAGE_SIZE + (offset & self.mask))

    def describe_header(self, offset: int) -> str:
        """Human text for the header at ``offset``, e.g. 'len=16 BUSY pg_off=3'."""
        len_word, pg_off = self.header(offset)
        bits = [name for bit, name in ((BPF_RINGBUF_BUSY_BIT, "BUSY"), (BPF_RINGBUF_DISCARD_BIT, "DISCARD"))
                if len_word & bit]
        size = len_word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)
        return " ".join([f"len={size}", *bits, f"pg_off={pg_off}"])

    def close(self) -> None:
        """Unmap both mappings and close the map fd; safe to call twice."""
        for name in ("_producer_pages", "_consumer_page"):
            mapping = getattr(self, name, None)
            if mapping is not None:
                mapping.close()
                setattr(self, name, None)
        if getattr(self, "map", None) is not None:
            self.map.close()

    def __enter__(self) -> RingMap:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return f"<RingMap size={self.size:#x} closed>"
        return (f"<RingMap size={self.size:#x} consumer_pos={self.consumer_pos:#x} "
                f"producer_pos={self.producer_pos:#x}>")

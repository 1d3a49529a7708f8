"""The Python consumer's header walk on a fake ring (BUSY records cannot outlive a real run)."""

from __future__ import annotations

import struct

from checker.kernel.bpf import BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT
from checker.kernel.consumer import consume
from checker.kernel.ringmap import record_length


class FakeRing:
    """Just the attributes ``consume`` reads: positions, headers and data."""

    def __init__(self, records: list[tuple[int, bytes]], size: int = 256) -> None:
        self.size, self.mask = size, size - 1
        self.memory = bytearray(size)
        self.consumer_pos = self.producer_pos = 0
        for len_word, payload in records:
            struct.pack_into("<II", self.memory, self.producer_pos & self.mask, len_word, 3)
            start = (self.producer_pos + 8) & self.mask
            self.memory[start:start + len(payload)] = payload
            self.producer_pos += record_length(len_word & 0x3FFFFFFF)
        self.stores: list[int] = []

    def header(self, offset: int) -> tuple[int, int]:
        return struct.unpack_from("<II", self.memory, offset & self.mask)

    def data(self, offset: int, length: int) -> bytes:
        start = offset & self.mask
        return bytes(self.memory[start:start + length])

    def __setattr__(self, name, value):
        if name == "consumer_pos" and "stores" in self.__dict__:
            self.stores.append(value)
        super().__setattr__(name, value)


def test_stops_at_busy_and_skips_discarded():
    ring = FakeRing([(3, b"abc"), (2 | BPF_RINGBUF_DISCARD_BIT, b"xy"), (1, b"z"),
                     (4 | BPF_RINGBUF_BUSY_BIT, b"...."), (1, b"q")])
    assert consume(ring) == [(3, b"abc"), (1, b"z")]
    assert ring.stores == [16, 32, 48]
    assert ring.consumer_pos == 48 < ring.producer_pos


def test_empty_ring_delivers_nothing_and_stores_nothing():
    ring = FakeRing([])
    assert consume(ring) == [] and ring.stores == []

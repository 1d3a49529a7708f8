"""Ring map creation, the two mappings and the positions they expose."""

from __future__ import annotations

import mmap

import pytest

from checker.kernel.bpf import kernel_available
from checker.kernel.program import run_script
from checker.kernel.ringmap import PAGE_SIZE, RingMap, record_length
from checker.kernel.script import Reserve, Submit, Write

AVAILABLE, REASON = kernel_available()
pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not AVAILABLE, reason=REASON)]


def test_new_ring_is_empty(ring):
    assert (ring.size, ring.consumer_pos, ring.producer_pos) == (0x4000, 0, 0)
    assert ring.header(0) == (0, 0)


def test_consumer_pos_is_writable_through_the_mapping(ring):
    ring.consumer_pos = 0x3000
    assert ring.consumer_pos == 0x3000
    ring.consumer_pos = -8
    assert ring.consumer_pos == (1 << 64) - 8


def test_producer_pages_cannot_be_mapped_writable(ring):
    with pytest.raises(OSError):
        mmap.mmap(ring.fd, PAGE_SIZE + 2 * ring.size, mmap.MAP_SHARED,
                  mmap.PROT_READ | mmap.PROT_WRITE, offset=PAGE_SIZE)


def test_record_is_visible_at_its_position_and_through_the_double_map(ring):
    result = run_script(ring, [Reserve(0, 0x3ff0 - 0x20), Submit(0), Reserve(0, 20), Write(0, 0xAB), Submit(0)])
    position = result[2].value
    assert position == record_length(0x3ff0 - 0x20)
    assert ring.producer_pos == position + record_length(20)
    assert ring.header(position) == (20, 3 + (position >> 12))
    assert ring.data(position + 8, 20) == b"\xab" * 20
    assert ring.data(position + 8 + ring.size, 20) == b"\xab" * 20


def test_record_wrapping_the_end_reads_contiguously(ring):
    ring.consumer_pos = 0x3000
    run_script(ring, [Reserve(0, 0x2ff8), Submit(0)])
    result = run_script(ring, [Reserve(0, 0x1ff8), Write(0, 0x5A), Submit(0)])
    assert result[0].value == 0x3000
    assert ring.data(0x3008, 0x1ff8) == b"\x5a" * 0x1ff8


def test_bad_ring_sizes_are_refused_before_the_kernel():
    for size in (0, 0x1800, 0x800):
        with pytest.raises(ValueError):
            RingMap(size)


def test_close_unmaps_and_is_idempotent():
    ring = RingMap(0x1000)
    ring.close()
    ring.close()
    assert ring.closed
    with pytest.raises(ValueError):
        ring.consumer_pos

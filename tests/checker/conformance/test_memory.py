"""The data area aliases offset i and i + size, for real mappings and the emulation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.conformance.memory import (
    PAGE_SIZE,
    EmulatedMirror,
    MirroredMapping,
    RingMemory,
    map_ring_memory,
)

REAL_SIZES = [PAGE_SIZE, 4 * PAGE_SIZE]


@pytest.mark.parametrize("size", REAL_SIZES)
def test_write_in_first_half_is_visible_in_second(size: int) -> None:
    with MirroredMapping(size) as memory:
        for offset in (0, 1, size // 2, size - 8):
            memory.write(offset, b"ringdata")
            assert memory.read(offset + size, 8) == b"ringdata"


@pytest.mark.parametrize("size", REAL_SIZES)
def test_write_in_second_half_is_visible_in_first(size: int) -> None:
    with MirroredMapping(size) as memory:
        memory.set_u64(size + 16, 0x1122334455667788)
        assert memory.u64(16) == 0x1122334455667788


@pytest.mark.parametrize("size", REAL_SIZES)
def test_access_straddling_the_seam_wraps_to_the_start(size: int) -> None:
    with MirroredMapping(size) as memory:
        memory.write(size - 4, b"ABCDEFGH")
        assert memory.read(0, 4) == b"EFGH"
        assert memory.read(size - 4, 4) == b"ABCD"
        assert memory.u32(size - 2) == int.from_bytes(b"CDEF", "little")


def test_selection_by_size() -> None:
    with map_ring_memory(PAGE_SIZE) as memory:
        assert isinstance(memory, MirroredMapping)
    with map_ring_memory(16) as memory:
        assert isinstance(memory, EmulatedMirror)
    with map_ring_memory(PAGE_SIZE, emulate=True) as memory:
        assert isinstance(memory, EmulatedMirror)


def test_real_mapping_needs_whole_pages() -> None:
    with pytest.raises(ValueError):
        MirroredMapping(PAGE_SIZE // 2)


@pytest.mark.parametrize("size", [16, PAGE_SIZE])
@pytest.mark.parametrize("offset, length", [(-1, 1), (0, -1), (0, 0x7FFFFFFF)])
def test_out_of_range_access_is_refused(size: int, offset: int, length: int) -> None:
    with map_ring_memory(size) as memory:
        with pytest.raises(IndexError):
            memory.read(offset, length)
        with pytest.raises(IndexError):
            memory.read(2 * size - 3, 4)
        with pytest.raises(IndexError):
            memory.write(2 * size, b"x")


def test_close_is_idempotent() -> None:
    memory = MirroredMapping(PAGE_SIZE)
    memory.close()
    memory.close()
    with pytest.raises(ValueError):
        memory.read(0, 1)


@pytest.mark.parametrize("size", [16, 64])
def test_emulation_aliases_small_rings(size: int) -> None:
    with EmulatedMirror(size) as memory:
        memory.write(size - 2, b"wxyz")
        assert memory.read(2 * size - 2, 2) == b"wx"
        assert memory.read(0, 2) == b"yz"
        assert memory.read(0, 2 * size) == memory.read(size, size) * 2


def test_wrapped_write_longer_than_the_ring_keeps_the_last_lap() -> None:
    with map_ring_memory(16) as memory:
        memory.write_wrapped(8, bytes(range(40)))
        last_lap = bytes(range(24, 40))
        assert memory.read(0, 16) == last_lap
        assert memory.read_wrapped(8, 40) == (last_lap[8:] + last_lap[:8]) * 2 + last_lap[8:]


def _apply(memory: RingMemory, operations: list[tuple[int, bytes]]) -> bytes:
    for offset, data in operations:
        memory.write(offset % (2 * memory.size - len(data) + 1), data)
    return memory.read(0, 2 * memory.size)


RANDOM_WRITES = st.lists(st.tuples(st.integers(0, 1 << 20), st.binary(min_size=1, max_size=64)), max_size=30)


@settings(max_examples=50, deadline=None)
@given(RANDOM_WRITES)
def test_emulation_matches_real_mapping(operations: list[tuple[int, bytes]]) -> None:
    with MirroredMapping(PAGE_SIZE) as real, EmulatedMirror(PAGE_SIZE) as emulated:
        contents = _apply(real, operations)
        assert contents == _apply(emulated, operations)
        assert contents[:PAGE_SIZE] == contents[PAGE_SIZE:]

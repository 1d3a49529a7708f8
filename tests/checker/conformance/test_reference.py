"""The reference ring buffer against docs/protocol.md and KERNEL.md's observed behaviour."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checker.conformance import reference
from checker.conformance.adapter import (
    BUSY_BIT,
    DISCARD_BIT,
    FORCE_WAKEUP,
    NO_WAKEUP,
    VARIANTS,
    Adapter,
    Handle,
)
from checker.conformance.memory import PAGE_SIZE
from checker.conformance.reference import ReferenceRingBuffer, make_reference

KERNEL_RING = 0x4000


@pytest.fixture
def open_rings() -> Iterator[list[ReferenceRingBuffer]]:
    rings: list[ReferenceRingBuffer] = []
    yield rings
    for ring in rings:
        ring.close()


@pytest.fixture
def ring_factory(open_rings: list[ReferenceRingBuffer]):
    def build(ring_size: int, variant: str) -> ReferenceRingBuffer:
        ring = make_reference(ring_size, variant)
        open_rings.append(ring)
        return ring

    return build


def submit(ring: ReferenceRingBuffer, size: int, fill: int) -> Handle:
    handle = ring.reserve(0, size)
    assert handle is not None
    ring.write(handle, bytes([fill]) * size)
    ring.commit(handle)
    return handle


def test_reference_is_an_adapter(ring_factory) -> None:
    assert isinstance(ring_factory(64, "v6.10"), Adapter)


@pytest.mark.parametrize("ring_size, variant", [(8, "v6.10"), (48, "v6.10"), (64, "v4.0")])
def test_bad_parameters_are_refused(ring_size: int, variant: str) -> None:
    with pytest.raises(ValueError):
        ReferenceRingBuffer(ring_size, variant)


class TestObservedKernelBehaviour:
    """KERNEL.md 'Observed behaviour', scaled to the ring size where it depends on it."""

    @pytest.mark.parametrize("variant", VARIANTS)
    @pytest.mark.parametrize("ring_size", [16, 64, PAGE_SIZE, KERNEL_RING])
    def test_largest_record_on_an_empty_ring_is_ring_size_minus_8(
        self, ring_factory, ring_size: int, variant: str
    ) -> None:
        largest = ring_factory(ring_size, variant).reserve(0, ring_size - 16)
        assert largest is not None and largest.position == 0
        assert ring_factory(ring_size, variant).reserve(0, ring_size - 15) is None

    def test_kernel_sized_largest_payload_is_0x3ff0(self, ring_factory) -> None:
        ring = ring_factory(KERNEL_RING, "v6.10")
        assert ring.reserve(0, 0x3FF0) is not None
        assert ring.observe().producer_pos == 0x3FF8

    @pytest.mark.parametrize("variant", VARIANTS)
    def test_size_zero_takes_an_8_byte_record(self, ring_factory, variant: str) -> None:
        ring = ring_factory(KERNEL_RING, variant)
        handle = ring.reserve(0, 0)
        assert handle == Handle(position=0, size=0)
        assert ring.observe().producer_pos == 8
        assert ring.header(0) == (BUSY_BIT, 3)

    def test_header_holds_the_unrounded_size(self, ring_factory) -> None:
        ring = ring_factory(KERNEL_RING, "v6.10")
        ring.reserve(0, 5)
        assert ring.header(0) == (5 | BUSY_BIT, 3)
        assert ring.observe().producer_pos == 16

    def test_producer_pos_moves_at_reserve_not_at_commit(self, ring_factory) -> None:
        ring = ring_factory(KERNEL_RING, "v6.10")
        handle = ring.reserve(0, 100)
        assert ring.observe().producer_pos == 112
        ring.write(handle, bytes(100))
        ring.commit(handle)
        assert ring.observe().producer_pos == 112

    def test_pg_off_counts_pages_from_the_ring_struct(self, ring_factory) -> None:
        ring = ring_factory(KERNEL_RING, "v6.10")
        pg_offs = []
        for _ in range(3):
            handle = submit(ring, 0xFF8, 0)
            pg_offs.append(ring.header(handle.position)[1])
        assert pg_offs == [3, 4, 5]

    @pytest.mark.parametrize("variant", VARIANTS)
    def test_consumer_slightly_ahead_still_allows_two_records(
        self, ring_factory, variant: str
    ) -> None:
        ring = ring_factory(KERNEL_RING, variant)
        ring.set_consumer_pos(8)
        first, second = ring.reserve(0, 16), ring.reserve(0, 16)
        assert first is not None and first.position == 0
        assert second is not None and second.position == 24

    @pytest.mark.parametrize("variant", VARIANTS)
    @pytest.mark.parametrize("ahead", [0x100, 1 << 63])
    def test_consumer_far_ahead_refuses(self, ring_factory, variant: str, ahead: int) -> None:
        ring = ring_factory(KERNEL_RING, variant)
        ring.set_consumer_pos(ahead)
        assert ring.reserve(0, 16) is None

    @pytest.mark.parametrize("variant", VARIANTS)
    @pytest.mark.parametrize(
        "size, flags", [(16, 1), (16, 2), (16, -1), (-1, 0), (1 << 20, 0), (0x7FFFFFFF, 0)]
    )
    def test_invalid_reservations_are_null(
        self, ring_factory, variant: str, size: int, flags: int
    ) -> None:
        ring = ring_factory(KERNEL_RING, variant)
        assert ring.reserve(0, size, flags) is None
        assert ring.observe().producer_pos == 0


class TestCve2024_41009:
    """A lying consumer_pos lets a second reservation overlap the first, busy one."""

    def reserve_twice(self, ring: ReferenceRingBuffer) -> tuple[Handle | None, Handle | None]:
        ring.set_consumer_pos(0x3000)
        first = ring.reserve(0, 0x2FF8)
        assert first is not None and first.position == 0
        return first, ring.reserve(0, 0x2FF8)

    @pytest.mark.parametrize("variant", ["v5.8", "v5.13"])
    def test_old_variants_accept_an_overlapping_second_record(
        self, ring_factory, variant: str
    ) -> None:
        ring = ring_factory(KERNEL_RING, variant)
        first, second = self.reserve_twice(ring)
        assert second is not None and second.position == 0x3000
        second_span = {(second.position + i) % KERNEL_RING for i in range(0x3000)}
        assert 0 in second_span and 4 in second_span, "second record covers the first header"
        ring.write(second, b"\xaa" * 0x2FF8)
        assert ring.header(first.position) == (0xAAAAAAAA, 0xAAAAAAAA)

    def test_clobbered_header_is_what_commit_flips(self, ring_factory) -> None:
        ring = ring_factory(KERNEL_RING, "v5.13")
        first, second = self.reserve_twice(ring)
        ring.write(second, b"\x00" * 0x2FF8)
        ring.commit(first)
        assert ring.header(first.position)[0] == BUSY_BIT

    def test_pending_fix_refuses_the_second_record(self, ring_factory) -> None:
        ring = ring_factory(KERNEL_RING, "v6.10")
        _, second = self.reserve_twice(ring)
        assert second is None
        assert ring.pending_pos == 0
        assert ring.observe().producer_pos == 0x3000


class TestCve2021_3489:
    """A consumer_pos far ahead lets v5.8 reserve a record longer than the ring."""

    @pytest.mark.parametrize("ring_size", [64, KERNEL_RING])
    def test_v5_8_accepts_a_record_longer_than_the_ring(
        self, ring_factory, ring_size: int
    ) -> None:
        ring = ring_factory(ring_size, "v5.8")
        size = ring_size + ring_size // 4
        ring.set_consumer_pos(size)
        handle = ring.reserve(0, size)
        assert handle is not None and handle.position == 0
        assert reference.record_length(handle.size) > ring_size

    @pytest.mark.parametrize("ring_size", [64, KERNEL_RING])
    def test_long_record_payload_wraps_over_its_own_header(
        self, ring_factory, ring_size: int
    ) -> None:
        ring = ring_factory(ring_size, "v5.8")
        size = ring_size + ring_size // 4
        ring.set_consumer_pos(size)
        handle = ring.reserve(0, size)
        payload = bytes(i & 0xFF for i in range(size))
        ring.write(handle, payload)
        lap = ring_size - 8
        assert ring.observe().data[:8] == payload[lap : lap + 8]

    @pytest.mark.parametrize("variant", ["v5.13", "v6.10"])
    def test_later_variants_refuse(self, ring_factory, variant: str) -> None:
        ring = ring_factory(KERNEL_RING, variant)
        ring.set_consumer_pos(0x5000)
        assert ring.reserve(0, 0x5000) is None


@pytest.mark.parametrize("variant", VARIANTS)
class TestConsumer:
    def test_delivers_in_reservation_order_whatever_the_commit_order(
        self, ring_factory, variant: str
    ) -> None:
        ring = ring_factory(256, variant)
        handles = [ring.reserve(0, n) for n in (3, 8, 13)]
        for fill, handle in enumerate(handles):
            ring.write(handle, bytes([fill + 1]) * handle.size)
        for index in (2, 0, 1):
            ring.commit(handles[index])
        assert ring.consume() == [b"\x01" * 3, b"\x02" * 8, b"\x03" * 13]
        observation = ring.observe()
        assert observation.consumer_pos == observation.producer_pos == 16 + 16 + 24

    def test_skips_discarded_records(self, ring_factory, variant: str) -> None:
        ring = ring_factory(256, variant)
        kept = submit(ring, 4, 1)
        dropped = ring.reserve(0, 4)
        ring.write(dropped, b"\x02" * 4)
        ring.commit(dropped, discard=True)
        submit(ring, 4, 3)
        assert ring.header(dropped.position)[0] == 4 | DISCARD_BIT
        assert ring.header(kept.position)[0] == 4
        assert ring.consume() == [b"\x01" * 4, b"\x03" * 4]
        assert ring.observe().consumer_pos == 48

    def test_stops_at_a_busy_record(self, ring_factory, variant: str) -> None:
        ring = ring_factory(256, variant)
        submit(ring, 4, 1)
        held = ring.reserve(0, 4)
        submit(ring, 4, 3)
        assert ring.consume() == [b"\x01" * 4]
        assert ring.observe().consumer_pos == held.position
        assert ring.consume() == []
        ring.write(held, b"\x02" * 4)
        ring.commit(held)
        assert ring.consume() == [b"\x02" * 4, b"\x03" * 4]

    @pytest.mark.parametrize("ring_size", [64, PAGE_SIZE])
    def test_record_across_the_seam_is_delivered_whole(
        self, ring_factory, variant: str, ring_size: int
    ) -> None:
        ring = ring_factory(ring_size, variant)
        submit(ring, ring_size - 24, 0)
        assert len(ring.consume()) == 1
        payload = bytes(range(1, 25))
        handle = ring.reserve(0, len(payload))
        assert handle.position % ring_size == ring_size - 16
        ring.write(handle, payload)
        ring.commit(handle)
        assert ring.consume() == [payload]
        assert ring.observe().data[:16] == payload[8:]

    def test_garbage_length_is_cut_at_the_end_of_the_mapping(
        self, ring_factory, variant: str
    ) -> None:
        ring = ring_factory(64, variant)
        handle = ring.reserve(0, 16)
        ring.write(handle, (0x3FFFFFFF).to_bytes(4, "little") + bytes(12))
        ring.commit(handle)
        ring.set_consumer_pos(8)
        (sample,) = ring.consume()
        assert len(sample) == 2 * 64 - 16
        assert ring.observe().consumer_pos == 8 + reference.record_length(0x3FFFFFFF)

    def test_one_call_processes_at_most_the_limit(
        self, ring_factory, variant: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(reference, "CONSUME_LIMIT", 3)
        ring = ring_factory(64, variant)
        for _ in range(5):
            submit(ring, 0, 0)
        assert ring.consume() == [b""] * 3
        assert ring.observe().consumer_pos == 24
        assert ring.consume() == [b""] * 2


@pytest.mark.parametrize("variant", VARIANTS)
class TestWakeups:
    def test_commit_at_the_consumer_wakes_it(self, ring_factory, variant: str) -> None:
        ring = ring_factory(64, variant)
        submit(ring, 8, 0)
        submit(ring, 8, 0)
        assert ring.wakeups == 1

    def test_no_wakeup_flag_suppresses_it(self, ring_factory, variant: str) -> None:
        ring = ring_factory(64, variant)
        handle = ring.reserve(0, 8)
        ring.commit(handle, flags=NO_WAKEUP)
        assert ring.wakeups == 0

    def test_force_wakeup_flag_always_wakes(self, ring_factory, variant: str) -> None:
        ring = ring_factory(64, variant)
        ring.reserve(0, 8)
        handle = ring.reserve(0, 8)
        ring.commit(handle, flags=FORCE_WAKEUP | NO_WAKEUP)
        assert ring.wakeups == 1

    def test_discard_at_the_consumer_also_wakes(self, ring_factory, variant: str) -> None:
        ring = ring_factory(64, variant)
        ring.commit(ring.reserve(0, 8), discard=True)
        assert ring.wakeups == 1


def test_pending_scan_stops_at_the_first_busy_record(ring_factory) -> None:
    ring = ring_factory(256, "v6.10")
    submit(ring, 8, 0)
    discarded = ring.reserve(0, 8)
    ring.commit(discarded, discard=True)
    held = ring.reserve(0, 8)
    submit(ring, 8, 0)
    probe = ring.reserve(0, 0)
    assert ring.pending_pos == held.position
    ring.commit(held)
    ring.reserve(0, 0)
    assert ring.pending_pos == probe.position


class TestMisuse:
    def test_commit_twice_is_an_error(self, ring_factory) -> None:
        ring = ring_factory(64, "v6.10")
        handle = ring.reserve(0, 8)
        ring.commit(handle)
        with pytest.raises(ValueError):
            ring.commit(handle)
        with pytest.raises(ValueError):
            ring.write(handle, bytes(8))

    def test_payload_must_match_the_size(self, ring_factory) -> None:
        ring = ring_factory(64, "v6.10")
        with pytest.raises(ValueError):
            ring.write(ring.reserve(0, 8), bytes(7))

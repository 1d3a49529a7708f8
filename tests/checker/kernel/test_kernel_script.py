"""Scripts of ring buffer helper calls, run inside one program on the live kernel."""

from __future__ import annotations

import pytest

from checker.kernel.bpf import (
    BPF_RB_AVAIL_DATA,
    BPF_RB_CONS_POS,
    BPF_RB_FORCE_WAKEUP,
    BPF_RB_NO_WAKEUP,
    BPF_RB_PROD_POS,
    BPF_RB_RING_SIZE,
    BPF_RINGBUF_DISCARD_BIT,
    kernel_available,
)
from checker.kernel.consumer import consume
from checker.kernel.program import ScriptRunner, run_script
from checker.kernel.ringmap import RingMap, record_length
from checker.kernel.script import MAX_WRITE_SIZE, Discard, Output, Query, Reserve, Submit, Write

AVAILABLE, REASON = kernel_available()
pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not AVAILABLE, reason=REASON)]

EAGAIN, EINVAL = 11, 22


def test_reserve_write_submit(ring):
    result = run_script(ring, [Reserve(0, 10), Write(0, 0x11), Submit(0)])
    assert [r.ok for r in result] == [True, True, True]
    assert result[0].value == 0
    assert ring.producer_pos == record_length(10) == 24
    assert ring.header(0) == (10, 3)
    assert consume(ring) == [(10, b"\x11" * 10)]


def test_reserve_of_size_zero_takes_one_header(ring):
    result = run_script(ring, [Reserve(0, 0), Submit(0), Reserve(0, 0), Submit(0)])
    assert [r.value for r in result if isinstance(r.op, Reserve)] == [0, 8]
    assert consume(ring) == [(0, b""), (0, b"")]


def test_discard_sets_the_discard_bit(ring):
    run_script(ring, [Reserve(0, 4), Write(0, 1), Discard(0, BPF_RB_NO_WAKEUP)])
    assert ring.header(0) == (4 | BPF_RINGBUF_DISCARD_BIT, 3)
    assert consume(ring) == []
    assert ring.consumer_pos == 16


def test_output_copies_bytes_from_the_stack(ring):
    result = run_script(ring, [Output(256, 0x7E), Output(0, 1), Output(3, 2, BPF_RB_FORCE_WAKEUP)])
    assert [r.value for r in result] == [0, 0, 0]
    assert consume(ring) == [(256, b"\x7e" * 256), (0, b""), (3, b"\x02\x02\x02")]


def test_query_selectors(ring):
    ring.consumer_pos = 8
    result = run_script(ring, [Output(8, 0), Reserve(0, 1), Query(BPF_RB_AVAIL_DATA), Query(BPF_RB_RING_SIZE),
                               Query(BPF_RB_CONS_POS), Query(BPF_RB_PROD_POS), Query(4), Query(-1), Submit(0)])
    assert [r.value for r in result[2:8]] == [32 - 8, 0x4000, 8, 32, 0, 0]


def test_several_reservations_committed_out_of_order(ring):
    script = [Reserve(slot, 8 * slot + 1) for slot in range(6)]
    script += [Write(slot, slot + 1) for slot in range(6)]
    script += [Submit(3), Discard(0), Submit(5), Submit(1), Discard(4), Submit(2)]
    result = run_script(ring, script)
    lengths = [record_length(8 * slot + 1) for slot in range(6)]
    assert result.positions() == [sum(lengths[:slot]) for slot in range(6)]
    assert all(r.ok for r in result)
    assert result.auto_discarded == ()
    assert consume(ring) == [(8 * slot + 1, bytes([slot + 1]) * (8 * slot + 1)) for slot in (1, 2, 3, 5)]


def test_uncommitted_slots_are_discarded_and_reported(ring):
    result = run_script(ring, [Reserve(0, 8), Reserve(1, 8), Submit(0), Reserve(2, 8)])
    assert result.auto_discarded == (1, 2)
    assert ring.header(16)[0] == 8 | BPF_RINGBUF_DISCARD_BIT
    assert ring.header(32)[0] == 8 | BPF_RINGBUF_DISCARD_BIT
    assert consume(ring) == [(8, bytes(8))]


@pytest.mark.parametrize("size,flags", [
    (0x3ff1, 0), (0x4000, 0), (1 << 20, 0), (0x7FFFFFFF, 0), (-1, 0),
    (8, BPF_RB_NO_WAKEUP), (8, BPF_RB_FORCE_WAKEUP), (8, 1 << 40),
])
def test_reserve_returns_null_and_dependent_ops_are_skipped(ring, size, flags):
    writable = 0 <= size <= MAX_WRITE_SIZE
    result = run_script(ring, [Reserve(0, size, flags), Write(0, 9) if writable else Query(0), Submit(0)])
    assert not result[0].ok and result[0].value is None
    assert result[1].ok is not writable
    assert not result[2].ok
    assert ring.producer_pos == 0


def test_largest_record_fits_only_on_an_empty_ring(ring):
    result = run_script(ring, [Reserve(0, 0x3ff0), Reserve(1, 0), Submit(0), Output(0, 0)])
    assert [r.ok for r in result[:3]] == [True, False, True]
    assert result[3].value == -EAGAIN
    assert consume(ring) == [(0x3ff0, bytes(0x3ff0))]
    assert run_script(ring, [Reserve(0, 0x3ff0), Discard(0)]).positions() == [0x3ff8]


def test_reserve_fails_when_there_is_no_space(ring):
    result = run_script(ring, [Reserve(0, 0x2000), Reserve(1, 0x1ff0), Reserve(2, 0x1000), Submit(1), Discard(0)])
    assert [r.ok for r in result[:3]] == [True, False, True]


def test_output_return_codes(ring):
    result = run_script(ring, [
        Output(8, 1, 3), Output(8, 1, 4), Output(8, 1, -1),
        Reserve(0, 0x3f00), Output(256, 1), Output(0, 1), Discard(0), Output(256, 1),
    ])
    assert [r.value for r in result if isinstance(r.op, Output)] == [0, -EINVAL, -EINVAL, -EAGAIN, 0, -EAGAIN]


def test_discarded_space_returns_only_when_the_consumer_passes_it(ring):
    run_script(ring, [Reserve(0, 0x3f00), Discard(0)])
    assert run_script(ring, [Output(256, 1)])[0].value == -EAGAIN
    assert consume(ring) == []
    assert run_script(ring, [Output(256, 1)])[0].value == 0


def test_consumer_far_ahead_blocks_every_producer(ring):
    ring.consumer_pos = 1 << 63
    result = run_script(ring, [Reserve(0, 16), Output(8, 1)])
    assert not result[0].ok and result[1].value == -EAGAIN


def test_submit_accepts_any_flags(ring):
    result = run_script(ring, [Reserve(0, 1), Submit(0, 0xFFFF)])
    assert result[1].ok
    assert consume(ring) == [(1, b"\x00")]


def test_runner_reuses_the_loaded_program(ring):
    script = [Output(4, 3), Query(BPF_RB_PROD_POS)]
    with ScriptRunner(ring) as runner:
        values = [runner.run(script)[1].value for _ in range(3)]
        assert runner.compiled(script) is runner.compiled(list(script))
    assert values == [16, 32, 48]


def test_write_fills_records_longer_than_a_store_offset_reaches():
    with RingMap(0x20000) as big:
        result = run_script(big, [Reserve(0, 0x10000), Write(0, 0xC3), Submit(0)])
        assert result[1].ok
        assert consume(big) == [(0x10000, b"\xc3" * 0x10000)]

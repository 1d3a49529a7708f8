"""The user ring on the live kernel by itself: the mapping, the drain program, the two honest producers."""

from __future__ import annotations

import errno
import mmap
import os

import pytest
from hypothesis import HealthCheck, given, settings

from checker.kernel.bpf import kernel_available
from checker.kernel.user.drain import DrainRecorder
from checker.kernel.user.producer import LibbpfProducer, PythonProducer, libbpf_user_available
from checker.kernel.user.run import UserRingRunner
from checker.kernel.user.scenario import (Drain, Fill, Reserve, SetProducerPos, Submit, WriteWord,
                                          check_scenario)
from checker.kernel.user.strategies import scenarios
from checker.kernel.user.usermap import PAGE_SIZE, UserRingMap

AVAILABLE, REASON = kernel_available()
LIBBPF, LIBBPF_REASON = libbpf_user_available()
pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not AVAILABLE, reason=REASON)]
S = 0x1000
BUSY, DISCARD = 1 << 31, 1 << 30


@pytest.fixture(scope="module")
def recorder():
    with DrainRecorder() as maps:
        yield maps


def test_the_consumer_page_cannot_be_mapped_writable_and_the_data_is_mapped_twice():
    with UserRingMap(S) as ring:
        with pytest.raises(PermissionError):
            mmap.mmap(ring.fd, PAGE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        ring.write_word(S - 8, 0x1122334455667788)
        assert ring.second_copy_word(S - 8) == 0x1122334455667788


def test_the_callback_sees_every_length_and_first_word_exactly(recorder):
    lengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 0x100]
    with UserRingMap(S) as ring, recorder.program(ring) as drain:
        pos = 0
        for i, length in enumerate(lengths):
            ring.write_word(pos, length)
            if length:
                ring.write_word(pos + 8, 0x0807060504030201 + i)
            pos += (length + 15) // 8 * 8
        ring.producer_pos = pos
        seen = drain.run()
        assert seen.ret == len(lengths) and ring.consumer_pos == pos
        assert [length for length, _ in seen.samples] == lengths
        for i, (length, word) in enumerate(seen.samples):
            assert word == (0x0807060504030201 + i) & ((1 << 8 * min(length, 8)) - 1)
        ring.write_word(pos, S - 8)
        ring.producer_pos = pos + S
        assert drain.run().samples == ((S - 8, 0),)


def test_the_kernel_refuses_each_hostile_header_kind(recorder):
    """Kernel facts the model must predict (test_user_diff holds the model to them)."""
    def drain_once(len_word: int, advertised: int) -> tuple[int, int]:
        with UserRingMap(S) as ring, recorder.program(ring) as drain:
            ring.write_word(0, len_word)
            ring.producer_pos = advertised
            return drain.run().ret, ring.consumer_pos

    assert drain_once(8, 20) == (-errno.EINVAL, 0)           # producer_pos not a multiple of 8
    assert drain_once(24, 16) == (-errno.EINVAL, 0)          # longer than producer_pos - consumer_pos
    assert drain_once(S - 7, 2 * S) == (-errno.E2BIG, 0)     # longer than the ring
    assert drain_once(8 | BUSY, 16) == (0, 0)                 # BUSY: nothing yet
    assert drain_once(8 | DISCARD, 16) == (0, 16)             # DISCARD: consumed, not counted
    assert drain_once(8 | BUSY | DISCARD, 16) == (0, 16)      # DISCARD is checked before BUSY


def test_a_callback_returning_one_stops_the_drain_after_consuming_its_sample(recorder):
    with UserRingMap(S) as ring, recorder.program(ring) as drain:
        ring.producer_pos = 80  # ten empty samples on a zeroed ring
        seen = drain.run(0, (0, 0, 1))
        assert (seen.ret, len(seen.samples), ring.consumer_pos) == (3, 3, 24)
        assert drain.run(flags=4).ret == -errno.EINVAL and ring.consumer_pos == 24


def test_one_drain_stops_at_the_sample_limit(recorder):
    with UserRingMap(S) as ring, recorder.program(ring) as drain:
        ring.producer_pos = 1 << 21
        seen = drain.run()
        assert seen.ret == len(seen.samples) == 131072 and ring.consumer_pos == 8 * 131072


@pytest.mark.parametrize("producer", [PythonProducer, pytest.param(LibbpfProducer, marks=pytest.mark.skipif(
    not LIBBPF, reason=LIBBPF_REASON))])
def test_the_honest_producer_fills_the_ring_completely_and_refuses_what_does_not_fit(producer, recorder):
    with UserRingMap(S) as ring, recorder.program(ring) as drain:
        user = producer(ring)
        try:
            assert user.reserve(S - 8) == (0, 0)
            assert user.reserve(0) == (None, errno.ENOSPC)
            assert user.reserve(S - 7) == (None, errno.E2BIG)
            assert user.reserve(1 << 30) == (None, errno.E2BIG)
            assert drain.run().ret == 0                       # still BUSY
            user.fill(0, 0xABCD)
            user.submit(0)
            assert drain.run().samples == ((S - 8, 0xABCD),) and ring.consumer_pos == S
            assert user.reserve(16) == (S, 0)
        finally:
            user.close()


@pytest.mark.skipif(not LIBBPF, reason=LIBBPF_REASON)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(scenarios())
def test_the_python_producer_does_what_libbpf_does(scenario):
    with UserRingRunner("python") as python, UserRingRunner("libbpf") as library:
        assert python.observe(scenario) == library.observe(scenario)


def test_bad_scenarios_are_refused_in_one_line():
    for bad, message in [((Fill(0, 1),), "no reservation"), ((Reserve(0), Fill(0, 1)), "no payload word"),
                         ((Reserve(8), Submit(0), Submit(0)), "already committed"),
                         ((WriteWord(4, 0),), "multiple of 8"), ((SetProducerPos(8, "middle"),), "base"),
                         ((Drain(0, (2,)),), "0 or 1"), ((Reserve(1 << 32),), "32 bits")]:
        with pytest.raises(ValueError, match=message):
            check_scenario(bad)


def test_two_hundred_scenarios_leave_no_fd_or_mapping_behind():
    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    def mappings() -> int:
        with open("/proc/self/maps") as maps:
            return sum(1 for line in maps if "anon_inode:bpf" in line)

    before = fds(), mappings()
    for producer in ("python",) + (("libbpf",) if LIBBPF else ()):
        with UserRingRunner(producer) as runner:
            for index in range(100):
                runner.observe((Reserve(index % 40), Submit(0), Drain(), SetProducerPos(8, "consumer"), Drain()))
    assert (fds(), mappings()) == before

"""Must show 6: libbpf's user producer (libbpf.so.1 through ctypes) conforms to the model's honest producer.

libbpf and ``UserRingOperations`` are driven call by call with the same
generated calls: every reservation's position or errno, the ring filled
completely and refused when full, submit and discard in any order, and after
each drain what the kernel's callback saw.  Each granted sample's first
payload word is set to its own position, so a delivered sample names where
the kernel found it, and is compared with the position the model delivers.
"""

from __future__ import annotations

import ctypes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.kernel.bpf import kernel_available
from checker.kernel.user.drain import DrainRecorder
from checker.kernel.user.predict import model_config
from checker.kernel.user.producer import LibbpfProducer, libbpf_user_available
from checker.kernel.user.scenario import Reserve
from checker.kernel.user.usermap import UserRingMap
from model.userring.operations import UserRingOperations

AVAILABLE, REASON = kernel_available()
LIBBPF, LIBBPF_REASON = libbpf_user_available()
pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not AVAILABLE, reason=REASON),
              pytest.mark.skipif(not LIBBPF, reason=LIBBPF_REASON)]
S = 0x1000
SIZES = (4, 5, 8, 12, 16, 40, 0x3F8, 0x7F8, S - 16, S - 8, S - 7, S, 1 << 30, 0xFFFFFFFF)


@pytest.fixture(scope="module")
def recorder():
    with DrainRecorder() as maps:
        yield maps


class Lockstep:
    """libbpf on a live ring and the model, fed the same calls."""

    def __init__(self, recorder: DrainRecorder, ring: UserRingMap, reserves: int) -> None:
        self.ring = ring
        self.libbpf = LibbpfProducer(ring)
        self.drain = recorder.program(ring)
        self.ops = UserRingOperations(model_config([Reserve(8)] * reserves, S))
        self.state = self.ops.initial()
        self.positions: list[int] = []
        self.open: list[int] = []

    def reserve(self, size: int) -> None:
        kernel = self.libbpf.reserve(size)
        self.state, pos = self.ops.reserve(self.state, size)
        model = (pos, 0 if pos is not None else self.ops.last_errno)
        assert kernel == model, f"reserve({size:#x}): libbpf {kernel}, model {model}"
        if pos is not None:
            slot = len(self.libbpf._pointers) - 1
            ctypes.memset(self.libbpf._pointers[slot], 0, (size + 7) // 8 * 8)  # the application's write
            self.libbpf.fill(slot, pos)
            self.state = self.ops.write_word(self.state, (pos + 8) % S, pos)
            self.open.append(slot)
        self.positions.append(pos)

    def commit(self, index: int, discard: bool) -> None:
        slot = self.open.pop(index % len(self.open))
        pos = self.positions[slot]
        if discard:
            self.libbpf.discard(slot)
            self.state = self.ops.discard(self.state, pos)
        else:
            self.libbpf.submit(slot)
            self.state = self.ops.submit(self.state, pos)

    def drain_once(self, returns: tuple[int, ...]) -> None:
        seen = self.drain.run(0, returns)
        self.state, result = self.ops.drain(self.state, 0, returns)
        kernel = (seen.ret, self.ring.consumer_pos, [(word & 0xFFFFFFFF, length) for length, word in seen.samples])
        model = (result.ret, result.consumer_pos, [((pos & 0xFFFFFFFF), length) for pos, length in result.samples])
        assert kernel == model, f"drain: kernel {kernel}, model {model}"
        assert (self.ring.producer_pos, self.ring.consumer_pos) == (self.state.producer_pos, self.state.consumer_pos)

    def close(self) -> None:
        self.drain.close()
        self.libbpf.close()


calls = st.lists(st.one_of(
    st.tuples(st.just("reserve"), st.sampled_from(SIZES)),
    st.tuples(st.just("reserve"), st.integers(4, 0x200)),
    st.tuples(st.just("commit"), st.integers(0, 7), st.booleans()),
    st.tuples(st.just("drain"), st.lists(st.integers(0, 1), max_size=4).map(tuple))), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(calls)
def test_libbpf_reserve_submit_discard_and_the_drain_agree_with_the_model(recorder, script):
    reserves = sum(call[0] == "reserve" for call in script)
    with UserRingMap(S) as ring:
        lockstep = Lockstep(recorder, ring, reserves)
        try:
            for call in script:
                if call[0] == "reserve":
                    lockstep.reserve(call[1])
                elif call[0] == "commit" and lockstep.open:
                    lockstep.commit(call[1], call[2])
                elif call[0] == "drain":
                    lockstep.drain_once(call[1])
            while lockstep.open:
                lockstep.commit(0, False)
            lockstep.drain_once(())
        finally:
            lockstep.close()


def test_libbpf_fills_the_ring_completely_is_refused_when_full_and_reserves_again_after_a_drain(recorder):
    with UserRingMap(S) as ring:
        lockstep = Lockstep(recorder, ring, 8)
        try:
            for size in (0x7F8, 0x3F8, 0x3F8):   # 0x800 + 0x400 + 0x400: the whole ring
                lockstep.reserve(size)
            assert lockstep.positions == [0, 0x800, 0xC00] and ring.producer_pos - ring.consumer_pos == S
            lockstep.reserve(4)                    # full: ENOSPC, on both sides
            assert lockstep.positions[-1] is None
            lockstep.commit(1, True)
            lockstep.commit(0, False)
            lockstep.drain_once(())                # the first sample; the discarded one skipped; the third is BUSY
            assert ring.consumer_pos == 0xC00
            lockstep.reserve(0xBF8)                # wraps past the end of the ring
            assert lockstep.positions[-1] == S
            lockstep.commit(0, False)
            lockstep.commit(0, False)
            lockstep.drain_once(())
            assert ring.consumer_pos == ring.producer_pos == S + 0xC00
        finally:
            lockstep.close()

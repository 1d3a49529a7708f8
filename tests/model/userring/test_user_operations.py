"""The sequential API predicts what libbpf's user producer and bpf_user_ringbuf_drain return.

Each case is one fact of ../shared KERNEL.md's "Observed behaviour" (the live
kernel's answers), stated against the model's own steps.
"""

import pytest
from hypothesis import given, settings, strategies as st

from model import Config
from model.constants import BUSY_BIT, DISCARD_BIT
from model.userring.operations import OperationError, UserRingOperations

S = 64
CFG = Config(map="user", ring_size=S)


@pytest.fixture
def ops():
    return UserRingOperations(CFG)


def test_libbpf_reserves_up_to_a_full_ring_and_says_why_it_refuses(ops):
    s = ops.initial()
    s, a = ops.reserve(s, S - 8 - 8)          # 56 bytes on the ring
    assert a == 0 and ops.last_errno == 0
    s, b = ops.reserve(s, 0)                  # the last 8: the ring is now completely full
    assert b == 56 and s.producer_pos - s.consumer_pos == S
    s, c = ops.reserve(s, 0)
    assert c is None and ops.last_errno == 28  # ENOSPC
    s, d = ops.reserve(s, S)
    assert d is None and ops.last_errno == 7   # E2BIG: larger than the ring
    s, e = ops.reserve(s, 8 | BUSY_BIT)
    assert e is None and ops.last_errno == 7   # a flag bit in the size


def test_drain_counts_samples_skips_discards_and_consumes_what_it_hands_over(ops):
    s = ops.initial()
    s, a = ops.reserve(s, 8)
    s, b = ops.reserve(s, 0)
    s, c = ops.reserve(s, 16)
    s = ops.submit(ops.discard(ops.submit(s, a), b), c)
    s, r = ops.drain(s, callback_returns=[0, 1])
    assert (r.ret, r.samples, r.discarded, r.consumer_pos, r.wakeup) == (2, [(0, 8), (24, 16)], 1, 48, True)


def test_a_busy_first_sample_drains_nothing_and_a_callback_stop_still_consumes(ops):
    s = ops.initial()
    s, a = ops.reserve(s, 8)
    s, b = ops.reserve(s, 8)
    s, r = ops.drain(s)
    assert (r.ret, r.consumer_pos, r.wakeup) == (0, 0, False)
    s = ops.submit(ops.submit(s, a), b)
    s, r = ops.drain(s, callback_returns=[1])
    assert (r.ret, r.samples, r.consumer_pos) == (1, [(0, 8)], 16)


@pytest.mark.parametrize("prod,header,ret", [
    (12, 0, -22),                       # producer_pos not a multiple of 8
    (8, 8, -22),                        # a sample longer than producer_pos - consumer_pos
    (2 * S, S - 7, -7),                 # a sample longer than the ring
    (2 * S, 8 | BUSY_BIT, 0),           # BUSY: nothing yet
    (2 * S, 8 | BUSY_BIT | DISCARD_BIT, 0),  # DISCARD is checked before BUSY: skipped, then zero headers
])
def test_hostile_headers_and_positions_get_the_kernels_answers(ops, prod, header, ret):
    s = ops.write_word(ops.write_producer_pos(ops.initial(), prod), 0, header)
    s, r = ops.drain(s)
    if header & DISCARD_BIT:
        # the header is met again on the second lap of the double-mapped area
        assert r.discarded == 2 and r.ret == (2 * S - 2 * 16) // 8 and r.consumer_pos == 2 * S
    else:
        assert r.ret == ret and r.consumer_pos == 0


def test_an_error_after_good_samples_returns_the_error_with_them_consumed(ops):
    s = ops.write_producer_pos(ops.initial(), 16)
    s = ops.write_word(s, 8, 64)              # the second sample is too long for what is advertised
    s, r = ops.drain(s)
    assert (r.ret, r.samples, r.consumer_pos, r.wakeup) == (-22, [(0, 0)], 8, True)


def test_bad_flags_a_held_busy_word_and_the_sample_limit():
    ops = UserRingOperations(Config(map="user", ring_size=S, drain_limit=3))
    s = ops.write_producer_pos(ops.initial(), 40)
    s2, r = ops.drain(s, flags=4)
    assert (r.ret, s2) == (-22, s)
    s2, r = ops.drain(s._replace(busy=1))
    assert r.ret == -16
    s, r = ops.drain(s)
    assert (r.ret, r.consumer_pos) == (3, 24)
    s, r = ops.drain(s, flags=1)
    assert (r.ret, r.consumer_pos, r.wakeup) == (2, 40, False)
    s, r = ops.drain(s, flags=2)
    assert (r.ret, r.wakeup) == (0, True)


def test_misuse_is_an_operation_error(ops):
    with pytest.raises(OperationError):
        ops.submit(ops.initial(), 0)
    with pytest.raises(OperationError):
        ops.write_word(ops.initial(), 4, 0)
    with pytest.raises(OperationError):
        ops.drain(ops.initial(), callback_returns=[2])
    with pytest.raises(OperationError, match="misaligned"):   # libbpf would write its header inside a word
        ops.reserve(ops.write_producer_pos(ops.initial(), 1), 0)
    s, pos = ops.reserve(ops.write_producer_pos(ops.initial(), 1), 2 * S)   # a refusal is still predicted
    assert pos is None and ops.last_errno == 7


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["reserve", "submit", "discard", "drain"]), st.integers(0, 40)),
                max_size=12))
def test_honest_calls_deliver_every_submitted_sample_once_in_order(calls):
    ops = UserRingOperations(CFG)
    s = ops.initial()
    held, submitted, seen = [], [], []
    for op, arg in calls:
        if op == "reserve":
            s, pos = ops.reserve(s, arg)
            if pos is not None:
                held.append((pos, arg))
        elif op in ("submit", "discard") and held:
            pos, size = held.pop(arg % len(held))
            s = ops.submit(s, pos) if op == "submit" else ops.discard(s, pos)
            if op == "submit":
                submitted.append((pos, size))
        elif op == "drain":
            s, r = ops.drain(s)
            assert r.ret == len(r.samples) >= 0
            seen += r.samples
    assert all(x in submitted for x in seen) and len(set(seen)) == len(seen)
    assert seen == sorted(seen)
    assert s.producer_pos - s.consumer_pos <= S

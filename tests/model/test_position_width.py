"""Position width (Config.position_bits): arithmetic modulo 2**32 as on a 32-bit machine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import Config, RingBufModel
from model.config import ConfigError
from model.constants import distance, is_ahead, u64, wrap
from model.operations import Operations

positions = st.integers(0, 2**64 - 1)


@given(positions, positions)
def test_32_bit_arithmetic_is_the_64_bit_one_reduced(a, b):
    assert wrap(a, 64) == u64(a)
    assert distance(a, b, 32) == distance(a, b) & 0xFFFFFFFF
    assert wrap(a + b, 32) == u64(a + b) & 0xFFFFFFFF
    assert is_ahead(a, b, 32) == (((a - b) & 0xFFFFFFFF) < 2**31)


def test_the_default_is_64_bits_and_is_not_written():
    assert Config().position_bits == 64 and "position_bits" not in Config().to_dict()
    c = Config(position_bits=32)
    assert c.to_dict()["position_bits"] == 32 and "position_bits=32" in c.describe()


@pytest.mark.parametrize("bits", [16, 48, "32", True])
def test_other_widths_are_one_line_errors(bits):
    with pytest.raises(ConfigError, match="position_bits: .* use 64 or 32"):
        Config(position_bits=bits)


def test_a_start_beyond_the_width_is_refused():
    with pytest.raises(ConfigError, match=r"start: 4294967296 must be a multiple of 8 in \[0, 2\*\*32\)"):
        RingBufModel(Config(position_bits=32), start=2**32)
    assert RingBufModel(Config(position_bits=32), start=2**32 - 8).initial_states()[0].producer_pos == 2**32 - 8


def test_positions_wrap_at_2_32():
    """A record reserved at 2**32 - 16 moves producer_pos to 0, as a 32-bit unsigned long does."""
    cfg = Config(position_bits=32, sizes=(8,))
    ops = Operations(cfg, start=2**32 - 16)
    s, rec = ops.reserve(ops.initial(), 0, 8)
    assert rec == 0 and s.records[0].pos == 2**32 - 16 and s.producer_pos == 0
    assert ops.query(s, 0) == 16                     # AVAIL_DATA = producer_pos - consumer_pos at 32 bits
    ops64 = Operations(cfg.with_(position_bits=64), start=2**32 - 16)
    s64, _ = ops64.reserve(ops64.initial(), 0, 8)
    assert s64.producer_pos == 2**32


def test_the_v6_10_kernel_refuses_every_reservation_once_producer_pos_wrapped_past_pending_pos():
    """The kernel side at 32 bits: the pending scan `pend < prod` compares plainly, so once producer_pos has
    wrapped and pending_pos has not, the scan never runs again and `new - pending_pos > mask` refuses every
    reservation, although consumer_pos says the ring is empty: the ring is full for good (no memory-safety
    property is violated; the same happens at 2**64)."""
    for bits in (32, 64):
        cfg = Config(consumer="adversarial", position_bits=bits, records=3, sizes=(8,))
        ops = Operations(cfg, start=2**bits - 32)
        s = ops.initial()
        for _ in range(2):
            s, rec = ops.reserve(s, 0, 8)
            s = ops.commit(ops.write(s, 0), 0, rec)
            s = ops.set_consumer_pos(s, s.producer_pos)  # a consumer that has read everything
        assert s.producer_pos == 0 == s.consumer_pos and s.pending_pos == 2**bits - 16
        s, rec = ops.reserve(s, 0, 8)
        assert rec is None and s.pending_pos == 2**bits - 16, "refused: pending_pos is stuck behind the wrap"

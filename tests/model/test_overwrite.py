"""Overwrite mode (v6.19-overwrite) in the explicit model: the reserve path, overwrite_pos, the query,
the overwrite-safe consumer's configuration, and that no other configuration sees any of it."""

import pytest

from model.codec import state_from_dict, state_to_dict
from model.config import Config, ConfigError
from model.consumer_overwrite import kernel_ready
from model.constants import distance
from model.operations import BPF_RB_AVAIL_DATA, BPF_RB_OVERWRITE_POS, Operations
from model.ringbuf import RingBufModel
from model.state import P_OVER_CLAIM, P_OVER_SCAN
from model.variants import rules_of

OVERWRITE = Config(variant="v6.19-overwrite", consumer="adversarial", ring_size=32, producers=1, records=4,
                   hold=2, sizes=(8, 16))


def reachable(cfg: Config, limit: int = 200_000) -> list:
    """Every reachable state (plain BFS over the model's successors)."""
    m = RingBufModel(cfg)
    seen = set(m.initial_states())
    todo = list(seen)
    while todo:
        s = todo.pop()
        for _, nxt in m.successors(s):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
        assert len(seen) < limit
    return list(seen)


def output(ops: Operations, s, size: int):
    s, rec = ops.reserve(s, 0, size)
    assert rec is not None
    return ops.commit(ops.write(s, 0), 0, rec)


def test_the_variant_is_data():
    r = rules_of("v6.19-overwrite")
    assert r.overwrite and r.pending_scan and r.checks_record_size
    assert not any(rules_of(v).overwrite for v in ("v5.8", "v5.13", "v6.10"))


def test_producers_ignore_the_consumer_and_overwrite_the_oldest_record():
    ops = Operations(OVERWRITE)
    s = output(ops, ops.initial(), 16)          # record 0 at 0..24
    assert s.overwrite_pos == 0
    s = output(ops, s, 16)                      # record 1 at 24..48: 48 - 0 > 31, record 0 is overwritten
    assert (s.consumer_pos, s.producer_pos, s.overwrite_pos) == (0, 48, 24)
    assert ops.query(s, BPF_RB_OVERWRITE_POS) == 24
    assert ops.query(s, BPF_RB_AVAIL_DATA) == 48 - 24
    v610 = Operations(OVERWRITE.with_(variant="v6.10"))
    t = output(v610, v610.initial(), 16)
    assert v610.reserve(t, 0, 16)[1] is None     # without overwrite the consumer at 0 blocks it
    assert v610.query(t, BPF_RB_OVERWRITE_POS) == 0


def test_the_overwrite_loop_reads_one_header_per_step():
    ops = Operations(OVERWRITE.with_(ring_size=64, sizes=(8, 24)))
    s = ops.initial()
    for _ in range(3):
        s = output(ops, s, 8)                            # 0..16, 16..32, 32..48: all fit, nothing overwritten
    assert s.overwrite_pos == 0
    ops.steps = []
    s = output(ops, s, 24)                               # 48..80 needs overwrite_pos >= 17: past two records
    names = [a.step for a, _ in ops.steps]
    assert names.count("reserve.overwrite_scan") == 2
    assert names.index("reserve.room") < names.index("reserve.overwrite_scan") < names.index("reserve.overwrite_claim")
    assert "reserve.claim" not in names
    assert s.overwrite_pos == 32


def test_a_busy_record_refuses_the_reservation_rather_than_being_overwritten():
    ops = Operations(OVERWRITE)
    s, held = ops.reserve(ops.initial(), 0, 16)          # BUSY at 0..24
    s = ops.write(s, 0)
    s, rec = ops.reserve(s, 0, 16)                       # 24..48 would cover it: pending_pos check says no
    assert rec is None and s.overwrite_pos == 0 and s.records[held].status == 2


def test_other_configurations_never_touch_overwrite_pos():
    for cfg in (Config(variant="v6.10", consumer="level", ring_size=32, records=2),
                Config(variant="v5.8", consumer="adversarial", ring_size=16, records=1, sizes=(8,))):
        for s in reachable(cfg):
            assert s.overwrite_pos == 0
            assert all(p.pc not in (P_OVER_SCAN, P_OVER_CLAIM) and p.over == 0 for p in s.producers)
            assert "overwrite_pos" not in state_to_dict(s)


def test_states_round_trip_through_the_codec():
    cfg = Config(variant="v6.19-overwrite", consumer="overwrite-safe", ring_size=32, records=2, sizes=(8, 16))
    states = reachable(cfg)
    assert any(s.overwrite_pos for s in states) and any(s.consumer.copy_rec != -1 for s in states)
    for s in states:
        assert state_from_dict(state_to_dict(s)) == s


@pytest.mark.slow
def test_libbpf_poll_readiness_is_the_kernel_overwrite_readiness_on_reachable_states():
    """ringbuf_map_poll_kern tests prod - max(cons, over) in overwrite mode; the libbpf consumer's poll.wait
    tests prod - cons. On every reachable state they agree, so poll.wait needs no overwrite branch."""
    for consumer in ("level", "edge"):
        cfg = Config(variant="v6.19-overwrite", consumer=consumer, ring_size=32, records=3, sizes=(8, 16))
        states = reachable(cfg)
        assert any(s.consumer_pos < s.overwrite_pos for s in states)
        for s in states:
            assert (distance(s.producer_pos, s.consumer_pos) != 0) == kernel_ready(s.producer_pos, s.consumer_pos,
                                                                                   s.overwrite_pos)


@pytest.mark.parametrize("fields, message", [
    (dict(variant="v6.10", consumer="overwrite-safe"), "consumer: overwrite-safe reads overwrite_pos"),
    (dict(variant="v6.19-overwrite", memory="tso"), "memory: v6.19-overwrite is modelled under sc only"),
])
def test_configurations_overwrite_mode_does_not_model_are_refused_in_one_line(fields, message):
    with pytest.raises(ConfigError, match=message) as e:
        Config(**fields)
    assert "\n" not in str(e.value)

"""Producer steps against hand-computed kernel behaviour.

Each case is a fact of ../shared/KERNEL.md ("Observed behaviour", measured on
a 0x4000-byte ring) scaled down to a 32- or 64-byte ring, or a rule of
docs/protocol.md#3 computed by hand.
"""

import pytest

from model import Config
from model.constants import BUSY_BIT, DISCARD_BIT
from model.operations import EAGAIN, EINVAL, Operations
from model.producer import (commit_wakeup, commit_xchg, refused_early, reserve_check, reserve_claim,
                            reserve_load_cons, reserve_lock, reserve_scan)
from model.state import (BUSY, DISCARDED, FAILED, P_CLAIM, P_LOCK, P_SCAN, P_WRITE, SUBMITTED,
                         header_word, initial_state, read_len)


def ops(**kw):
    base = dict(variant="v6.10", ring_size=32, records=4, hold=2, sizes=(8,), consumer="adversarial")
    base.update(kw)
    return Operations(Config(**base))


# ------------------------------------------------------------ reserve step 0


@pytest.mark.parametrize("variant", ["v5.8", "v5.13", "v6.10"])
def test_nonzero_flags_and_huge_sizes_are_refused_at_once(variant):
    cfg = Config(variant=variant, ring_size=32)
    assert refused_early(cfg, 8, flags=1)
    assert refused_early(cfg, 2**64 - 1)          # size -1
    assert refused_early(cfg, 0xFFFFFFFF // 4 + 1)
    assert not refused_early(cfg, 0xFFFFFFFF // 4) or cfg.checks_record_size


def test_record_longer_than_ring_refused_from_v5_13_only():
    assert not refused_early(Config(variant="v5.8", ring_size=32), 40)
    assert refused_early(Config(variant="v5.13", ring_size=32), 40)
    assert refused_early(Config(variant="v6.10", ring_size=32), 25)     # 25+8 -> 40 > 32
    assert not refused_early(Config(variant="v6.10", ring_size=32), 24)  # 24+8 = 32, not longer


def test_reserve_check_failure_uses_up_the_attempt():
    o = ops(variant="v5.13")
    s, rec = o.reserve(o.initial(), 0, 1 << 20)
    assert rec is None
    assert s.records[0].status == FAILED and s.producers[0].attempts == 1
    assert s.producer_pos == 0


# ------------------------------------------------------------ reserve steps 1-4


def test_header_holds_unrounded_size_and_position_moves_at_reserve():
    o = ops()
    s, rec = o.reserve(o.initial(), 0, 5)
    assert rec == 0
    assert s.producer_pos == 16                       # round_up(5 + 8, 8)
    assert read_len(s.slots[0]) == 5 | BUSY_BIT
    s = o.commit(s, 0, rec)
    assert s.producer_pos == 16 and read_len(s.slots[0]) == 5


def test_size_zero_takes_one_header():
    o = ops()
    s, rec = o.reserve(o.initial(), 0, 0)
    assert rec == 0 and s.producer_pos == 8


def test_largest_record_on_empty_ring_is_S_minus_8_bytes():
    o = ops(ring_size=32)
    s, rec = o.reserve(o.initial(), 0, 16)            # 24 bytes <= mask 31
    assert rec == 0
    s, rec = ops(ring_size=32).reserve(o.initial(), 0, 17)   # 32 bytes > mask
    assert rec is None


def test_consumer_far_ahead_makes_reserve_fail():
    for ahead in (64, 1 << 63):
        o = ops()
        s = o.set_consumer_pos(o.initial(), ahead)
        s, rec = o.reserve(s, 0, 8)
        assert rec is None, ahead


def test_consumer_pos_8_lets_two_records_in_on_S64():
    o = ops(ring_size=64)
    s = o.set_consumer_pos(o.initial(), 8)
    s, a = o.reserve(s, 0, 16)
    s = o.write(s, 0)
    s, b = o.reserve(s, 0, 16)
    assert (a, b) == (0, 1)
    assert (s.records[0].pos, s.records[1].pos) == (0, 24)


def cve_2024_41009(variant):
    """Scaled from KERNEL.md: consumer_pos := 3/4 S, then two reservations of 3/4 S - 8 held at once."""
    o = ops(variant=variant, ring_size=32, sizes=(16,))
    s = o.set_consumer_pos(o.initial(), 24)
    s, a = o.reserve(s, 0, 16)
    s = o.write(s, 0)
    s, b = o.reserve(s, 0, 16)
    return s, a, b


def test_cve_2024_41009_accepted_by_v5_13_refused_by_v6_10():
    s, a, b = cve_2024_41009("v5.13")
    assert (a, b) == (0, 1) and s.records[1].pos == 24
    s, a, b = cve_2024_41009("v6.10")
    assert (a, b) == (0, None)
    assert s.pending_pos == 0                       # stopped at the busy first record


def test_cve_2021_3489_record_longer_than_ring_accepted_by_v5_8():
    o = ops(variant="v5.8", ring_size=32, sizes=(40,))
    s = o.set_consumer_pos(o.initial(), 24)
    s, rec = o.reserve(s, 0, 40)
    assert rec == 0 and s.producer_pos == 48
    s = o.write(s, 0)                               # wraps over its own header
    assert read_len(s.slots[0]) == 0


def test_reserve_steps_one_by_one():
    cfg = Config(ring_size=32, sizes=(8,), consumer="adversarial")
    s = initial_state(32, 1, 2, False)
    s = reserve_check(cfg, s, 0, 8)
    s = reserve_load_cons(cfg, s, 0)
    assert s.producers[0].pc == P_LOCK
    s = reserve_lock(cfg, s, 0)
    assert s.lock == 0 and s.producers[0].pc == P_CLAIM     # pending == producer: no scan
    s = reserve_claim(cfg, s, 0)
    assert s.lock == -1 and s.producer_pos == 16 and s.producers[0].pc == P_WRITE
    assert s.slots[0] == header_word(0, 8 | BUSY_BIT)


def test_lock_held_blocks_a_normal_reservation_and_fails_an_nmi_one():
    cfg = Config(ring_size=32, producers=2, sizes=(8,), consumer="adversarial", nmi=True)
    s = initial_state(32, 2, 2, False)
    s = reserve_lock(cfg, reserve_load_cons(cfg, reserve_check(cfg, s, 0, 8), 0), 0)
    assert s.lock == 0
    waiting = reserve_load_cons(cfg, reserve_check(cfg, s, 1, 8, nmi=False), 1)
    assert reserve_lock(cfg, waiting, 1) is None
    nmi = reserve_load_cons(cfg, reserve_check(cfg, s, 1, 8, nmi=True), 1)
    failed = reserve_lock(cfg, nmi, 1)
    assert failed.records[2].status == FAILED and failed.lock == 0


def test_pending_scan_steps_past_committed_and_discarded_records_and_stops_at_busy():
    o = ops(ring_size=64, records=4)
    s = o.initial()
    s, a = o.reserve(s, 0, 8)
    s = o.commit(s, 0, a, discard=True)
    s, b = o.reserve(s, 0, 8)
    s = o.commit(s, 0, b)
    s, c = o.reserve(s, 0, 8)
    s = o.write(s, 0)
    assert s.pending_pos == 32 and s.records[c].pos == 32   # scan moved past a and b, into c's claim
    cfg = o.config
    s = reserve_lock(cfg, reserve_load_cons(cfg, reserve_check(cfg, s, 0, 8), 0), 0)
    assert s.producers[0].pc == P_SCAN
    s = reserve_scan(cfg, s, 0)
    assert s.producers[0].pc == P_CLAIM and s.producers[0].pend == 32   # c is busy: stop


def test_scan_is_absent_before_v6_10():
    o = ops(variant="v5.13", ring_size=64)
    s, a = o.reserve(o.initial(), 0, 8)
    s = o.commit(s, 0, a)
    cfg = o.config
    s = reserve_lock(cfg, reserve_load_cons(cfg, reserve_check(cfg, s, 0, 8), 0), 0)
    assert s.producers[0].pc == P_CLAIM and s.pending_pos == 0


# ------------------------------------------------------------ commit


def test_submit_clears_busy_discard_sets_discard():
    o = ops(ring_size=64)
    s, a = o.reserve(o.initial(), 0, 8)
    s = o.write(s, 0)
    s, b = o.reserve(s, 0, 8)
    s = o.write(s, 0)
    s = o.commit(s, 0, b, discard=True)                    # out of order
    s = o.commit(s, 0, a)
    assert read_len(s.slots[0]) == 8
    assert read_len(s.slots[2]) == 8 | DISCARD_BIT
    assert (s.records[a].status, s.records[b].status) == (SUBMITTED, DISCARDED)


@pytest.mark.parametrize("cons,flags,wake", [
    (0, 0, True),        # consumer waits at this record
    (16, 0, False),      # consumer elsewhere
    (0, 1, False),       # NO_WAKEUP
    (16, 2, True),       # FORCE_WAKEUP
])
def test_wakeup_decision(cons, flags, wake):
    cfg = Config(ring_size=32, sizes=(8,), consumer="level")
    o = Operations(cfg)
    s, rec = o.reserve(o.initial(), 0, 8)
    s = o.write(s, 0)
    s = s._replace(consumer_pos=cons)
    s = commit_wakeup(cfg, commit_xchg(cfg, s, 0, rec, False, flags), 0)
    assert s.irq_pending is wake


def test_no_wakeup_is_queued_without_an_honest_consumer():
    o = ops()
    s, rec = o.reserve(o.initial(), 0, 8)
    s = o.commit(s, 0, rec, flags=2)
    assert not s.irq_pending


# ------------------------------------------------------------ output and query


def test_output_return_codes():
    o = ops(records=4)
    s, rc = o.output(o.initial(), 0, 8, flags=4)
    assert rc == -EINVAL
    s, rc = o.output(s, 0, 8, flags=3)
    assert rc == 0 and s.records[0].status == SUBMITTED
    s = o.set_consumer_pos(s, s.producer_pos + 64)
    s, rc = o.output(s, 0, 8)
    assert rc == -EAGAIN


def test_query_selectors():
    o = ops()
    s, _ = o.reserve(o.initial(), 0, 8)
    s = o.set_consumer_pos(s, 8)
    assert [o.query(s, k) for k in range(5)] == [8, 32, 8, 16, 0]


def test_status_constants_order():
    assert FAILED < BUSY < SUBMITTED < DISCARDED


def test_operations_record_the_protocol_steps_they_take():
    """The steps Operations records are a real path of the explorer's model."""
    from model import RingBufModel

    o = ops(ring_size=64, discard=True)
    o.steps = []
    s0 = o.initial()
    s, a = o.reserve(s0, 0, 8)
    s = o.write(s, 0)
    s = o.set_consumer_pos(s, 8)
    s = o.commit(s, 0, a, discard=True)
    names = [str(act) for act, _ in o.steps]
    assert names[0] == "p0.reserve.check(size=8)" and "p0.write(rec=0)" in names
    assert names[-2:] == ["p0.commit.xchg(rec=0,discard=1,flags=0)", "p0.commit.wakeup"]
    m, cur = RingBufModel(o.config), s0
    for act, nxt in o.steps:
        cur = m.apply(cur, act)
        assert cur == nxt
    assert cur == s

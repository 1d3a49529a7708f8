"""The issue's must-show configurations: the two CVEs found, the fixed kernel proven."""

import pytest

from checker.run import check
from checker.search import Limits
from checker.suite import CVE_2021_3489, CVE_2024_41009
from model.state import BUSY
from specs import PROPERTY_ORDER


def test_cve_2021_3489_in_bounds_violated_on_v5_8_with_a_shortest_trace():
    v = check(CVE_2021_3489)
    assert v.kind == "violated" and v.property == "in_bounds"
    t = v.trace
    t.replay()
    assert len(t) == 5
    assert [a.step for a in (st.action for st in t.steps)] == [
        "reserve.check", "store_cons", "reserve.load_cons", "reserve.lock", "reserve.claim"]
    assert t.final.records[0].size == 40 and t.final.producer_pos == 48
    # shortest: nothing shorter violates in_bounds
    assert check(CVE_2021_3489, ["in_bounds"], limits=Limits(max_depth=4)).kind == "bounded"


def _assert_cve_2024_41009_shape(t, first_size, second_size):
    s = t.final
    first, second = s.records[0], s.records[1]
    assert first.status == BUSY and second.status == BUSY
    stores = [st for st in t.steps if st.action.step == "store_cons"]
    assert stores, "consumer_pos must be stored by user space"
    # consumer_pos was stored ahead: past the start of the first record, still busy
    assert any(st.state.consumer_pos > st.state.records[0].pos and st.state.records[0].status == BUSY
               for st in stores)
    # the second record's bytes wrap onto the first record's header
    end = second.pos + 8 + ((second.size + 7) & ~7)
    assert second.pos % 32 > first.pos % 32 and end - 32 > first.pos % 32


def test_cve_2024_41009_no_overlap_violated_on_v5_13():
    v = check(CVE_2024_41009)
    assert v.kind == "violated" and v.property == "no_overlap"
    t = v.trace
    t.replay()
    assert len(t) == 10
    s = t.final
    assert (s.consumer_pos, s.producer_pos) == (16, 40)
    assert (s.records[0].pos, s.records[1].pos) == (0, 16)
    _assert_cve_2024_41009_shape(t, 8, 16)


def test_cve_2024_41009_header_integrity_violated_on_v5_13():
    v = check(CVE_2024_41009, ["header_integrity"])
    assert v.kind == "violated" and v.property == "header_integrity"
    t = v.trace
    t.replay()
    assert len(t) == 11 and t.steps[-1].action.step == "write"
    s = t.final
    assert (s.consumer_pos, s.producer_pos) == (16, 40)
    assert "record 0" in v.reason


@pytest.mark.parametrize("cfg", [CVE_2021_3489, CVE_2024_41009], ids=["cve-2021-3489", "cve-2024-41009"])
def test_v6_10_holds_complete_on_the_cve_configurations(cfg):
    v = check(cfg.with_(variant="v6.10"))
    assert v.kind == "holds" and v.exit_code == 0
    assert v.properties == list(PROPERTY_ORDER)


def test_v5_13_fixes_cve_2021_3489():
    assert check(CVE_2021_3489.with_(variant="v5.13")).kind == "holds"


def test_limits_give_bounded_verdicts_naming_the_bound():
    cfg = CVE_2024_41009.with_(variant="v6.10")
    v = check(cfg, limits=Limits(max_states=500))
    assert v.kind == "bounded" and v.bound == "max_states=500" and v.exit_code == 3
    v = check(cfg, limits=Limits(max_depth=3))
    assert v.kind == "bounded" and v.bound == "max_depth=3"


def test_dfs_agrees_with_bfs():
    assert check(CVE_2024_41009, strategy="dfs").kind == "violated"
    v = check(CVE_2024_41009.with_(variant="v6.10"), strategy="dfs")
    assert v.kind == "holds"
    assert v.stats.states == check(CVE_2024_41009.with_(variant="v6.10")).stats.states


def test_random_simulation_is_seeded_and_never_complete():
    cfg = CVE_2024_41009.with_(variant="v6.10")
    a = check(cfg, strategy="random", seed=7, limits=Limits(max_states=2000))
    b = check(cfg, strategy="random", seed=7, limits=Limits(max_states=2000))
    assert a.kind == "bounded" and "seed 7" in a.bound
    assert a.stats.states == b.stats.states and a.stats.transitions == b.stats.transitions
    v = check(CVE_2024_41009, strategy="random", seed=1, limits=Limits(timeout=60))
    assert v.kind == "violated"
    v.trace.replay()


def test_terminal_properties_are_judged_and_can_fail(monkeypatch):
    """A planted lost wakeup (commit never queues irq_work) must be caught in a terminal state."""
    import model.producer as producer
    from model.state import P_IDLE, Producer

    cfg = CVE_2024_41009.with_(variant="v6.10", consumer="level", producers=1, records=1, hold=1, sizes=(8,))
    ok = check(cfg)
    assert ok.kind == "holds" and ok.stats.terminal > 0

    def never_wake(cfg, s, p):
        pr = s.producers[p]
        return s._replace(producers=(Producer(P_IDLE, pr.attempts, held=pr.held),))

    monkeypatch.setattr(producer, "commit_wakeup", never_wake)   # a change the compiled core does not see
    v = check(cfg, engine="python")
    assert v.kind == "violated" and v.property in ("exactly_once", "no_lost_wakeup")
    v = check(cfg, ["no_lost_wakeup"], engine="python")
    assert v.property == "no_lost_wakeup" and "sleeps for good" in v.reason


def test_deadlock_is_reported(monkeypatch):
    """A planted deadlock (the lock can never be taken) is a violation named 'deadlock'."""
    import model.producer as producer

    monkeypatch.setattr(producer, "reserve_lock", lambda cfg, s, p: None)   # the Python model only
    v = check(CVE_2024_41009.with_(variant="v6.10", consumer="level", hold=1), engine="python")
    assert v.kind == "violated" and v.property == "deadlock"
    from model.state import C_SLEEP, P_LOCK
    assert v.trace.final.producers[0].pc == P_LOCK and v.trace.final.consumer.pc == C_SLEEP


def test_64_bit_wrap_libbpf_consumer_stops_at_the_wrap():
    """Model finding: libbpf's `cons < prod` loop (and the kernel's `pend < prod` scan) compare
    positions as plain integers, so once producer_pos wraps past 2**64 the consumer sees no data.
    Unreachable in practice (2**64 bytes), but the model shows it when started near the wrap."""
    cfg = CVE_2024_41009.with_(variant="v6.10", consumer="edge", hold=1, records=3, sizes=(8,))
    assert check(cfg).kind == "holds"
    v = check(cfg, start=2**64 - 32)
    assert v.kind == "violated" and v.property == "exactly_once"
    assert v.trace.final.producer_pos == 0 and v.trace.final.consumer_pos == 2**64 - 16
    v.trace.replay()

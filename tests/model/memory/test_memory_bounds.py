"""A bound that cuts behaviours says so: TSO's buffer and RA's history are reported, never silent."""

from model.memory import make
from model.memory.litmus import MP, Load, Program, Store, explore
from model.steps import PLAIN

THREE_STORES = Program("three stores", {"x": 0, "y": 0}, (
    (Store("x", 1), Store("y", 1), Store("x", 2)),
    (Load("r0", "x"), Load("r1", "y")),
))


def test_a_full_tso_buffer_flushes_within_the_store_and_says_bounded():
    tso = make("tso", buffer=1)
    m = tso.store(tso.initial({"x": 0, "y": 0}, 2), 0, "x", 1, PLAIN)[0]
    assert not m.bounded
    w = tso.store(m.mem, 0, "y", 1, PLAIN)
    assert len(w) == 1 and w[0].bounded
    assert tso.value(w[0].mem, "x") == 1 and tso.panel(w[0].mem, 0) == {"buffer": [["y", 1]]}


def test_tso_exploration_reports_the_buffer_bound_only_when_it_is_hit():
    small, big = explore(THREE_STORES, make("tso", buffer=1)), explore(THREE_STORES, make("tso", buffer=3))
    assert small.bounded and not big.bounded
    assert small.outcomes <= big.outcomes
    assert make("tso", buffer=1).bound == "buffer=1"


def test_ra_history_bound_cuts_the_weak_mp_outcome_and_says_so():
    """With one message per location the stale x=0 is gone once x=1 is stored: MP's weak outcome is lost."""
    one, two = explore(MP, make("ra", history=1)), explore(MP, make("ra", history=2))
    assert one.bounded and not one.allows(MP.weak)
    assert not two.bounded and two.allows(MP.weak)
    assert one.outcomes <= two.outcomes
    assert make("ra", history=1).bound == "history=1"


def test_ra_store_and_rmw_results_carry_the_bounded_flag():
    """Actor 2 never reads, so it can still read every message that is not cut."""
    ra = make("ra", history=2)
    m = ra.initial({"x": 0}, 3)
    first = ra.store(m, 0, "x", 1, PLAIN)
    assert [w.bounded for w in first] == [False]
    second = ra.store(first[0].mem, 0, "x", 2, PLAIN)
    assert [w.bounded for w in second] == [True]
    assert ra.readable(second[0].mem, 1, "x") == [2, 1]
    rmw = ra.rmw(second[0].mem, 1, "x", lambda old: old + 1, PLAIN)
    assert [(r.value, r.bounded) for r in rmw] == [(2, True)]
    assert ra.readable(rmw[0].mem, 2, "x") == [3, 2]
    caught_up = ra.load(second[0].mem, 2, "x", PLAIN)[0].mem
    assert [(r.value, r.bounded) for r in ra.rmw(caught_up, 1, "x", lambda old: old + 1, PLAIN)] == [(2, False)]


def test_sc_has_no_bound():
    assert make("sc").bound is None and not explore(THREE_STORES, make("sc")).bounded

"""BMC of the user ring finds, with each per-sample check deleted, the violation the explicit model finds,
at the same (shortest) depth, with a trace that replays in the mutant model; with every check it finds none;
a trace the explicit model does not reproduce fails loudly."""

import pytest

from checker.bfs import bfs
from checker.search import Search
from checker.smt.bmc import ReplayMismatch
from checker.smt.user import drain as D
from checker.smt.user import transition
from checker.smt.user.bmc import bmc_user, replay_user_or_raise
from model.config import Config
from model.userring.drain import without
from model.userring.model import UserRingModel
from specs import get_property


HOSTILE = Config(map="user", ring_size=16, user_producer="adversarial", hostile_writes=2, sizes=(8,))
HONEST = Config(map="user", ring_size=32, records=2, hold=2, sizes=(0, 8), discard=True)
slow = pytest.mark.slow

LOSES = [
    pytest.param("fits_advertised", HOSTILE, "user_sample_bounds", id="fits_advertised"),
    pytest.param("fits_ring", HOSTILE, "user_sample_bounds", id="fits_ring"),
    pytest.param("busy_stops", HONEST, "user_committed_only", id="busy_stops"),
    pytest.param("data_available", HOSTILE, "user_sample_bounds", id="data_available", marks=slow),
    pytest.param("discard_skipped", HONEST, "user_discard_skipped", id="discard_skipped", marks=slow),
]
"""The checks whose deletion loses a property in the explicit model (tests/specs/test_user_ring.py)."""


@pytest.mark.parametrize("name, cfg, prop", LOSES)
def test_a_deleted_check_gives_the_explicit_models_violation(name, cfg, prop):
    mutant = UserRingModel(cfg, checks=without(name))
    explicit = bfs(Search(mutant, [get_property(prop)])).trace
    v = bmc_user(cfg, prop, len(explicit), checks=without(name)).verdict
    assert v.kind == "violated" and v.property == prop
    assert len(v.trace) == len(explicit)                         # both shortest
    s = mutant.initial_states()[0]
    for st in v.trace.steps:                                     # a path of the mutant model
        s = mutant.apply(s, st.action)
        assert s == st.state
    assert get_property(prop).check(cfg, s, mutant.is_terminal(s)) == v.reason is not None
    with pytest.raises(ReplayMismatch):                          # and not one of the kernel's
        replay_user_or_raise(v.trace, UserRingModel(cfg), prop)


@pytest.mark.slow
def test_with_every_check_nothing_is_found_up_to_the_depth():
    v = bmc_user(HOSTILE, "user_sample_bounds", 8).verdict
    assert v.kind == "bounded" and v.bound == "depth=8"


def load_cons_ahead(cfg, ring, s, d, checks):
    """drain.load_cons's z3 twin reading consumer_pos + 8 (a planted encoding bug)."""
    return D.drain_load_cons(cfg, ring, s._replace(consumer_pos=s.consumer_pos + 8), d, checks)._replace(
        consumer_pos=s.consumer_pos)


def test_a_trace_that_does_not_replay_fails_loudly(monkeypatch):
    monkeypatch.setitem(transition.STEP_TERMS, "drain.load_cons", load_cons_ahead)
    with pytest.raises(ReplayMismatch, match="drain.load_cons"):
        bmc_user(HOSTILE, "user_sample_bounds", 8)


def test_cli_bmc_and_crosscheck_map_user():
    from click.testing import CliRunner

    from checker.smt.cli import bmc_cmd, crosscheck_cmd

    small = ["--map", "user", "--user-producer", "adversarial", "--ring-size", "16", "--sizes", "0"]
    res = CliRunner().invoke(bmc_cmd, small + ["--property", "user_sample_bounds", "--depth", "4"])
    assert res.exit_code == 3 and "holds up to bound depth=4" in res.output, res.output
    wrong = CliRunner().invoke(bmc_cmd, small + ["--property", "no_overlap", "--depth", "4"])
    assert wrong.exit_code == 2 and "no_overlap is a property of map ringbuf, not of map user" in wrong.output
    res = CliRunner().invoke(crosscheck_cmd, small + ["--hostile-writes", "1"])
    assert res.exit_code == 0 and "0 disagreements on every reachable state" in res.output, res.output
    refused = CliRunner().invoke(crosscheck_cmd, small + ["--states", "10"])
    assert refused.exit_code == 2 and "--states is not supported with --map user" in refused.output


def test_without_the_busy_cmpxchg_bmc_finds_two_drains_at_once(monkeypatch):
    import model.userring.drain as drain_module
    from model.userring.state import D_LOAD_PROD, Drain, set_drain

    def no_cmpxchg(cfg, s, d, flags=0, mem=None):
        """drain.begin that never looks at the busy word (the explicit model's planted mutant)."""
        return s._replace(drains=set_drain(s, d, Drain(D_LOAD_PROD, flags)))

    def no_cmpxchg_term(cfg, ring, s, d, flags):
        """Its z3 twin."""
        return D.drain_begin(cfg, ring, s._replace(busy=s.busy & 0), d, flags)._replace(busy=s.busy)

    monkeypatch.setattr(drain_module, "drain_begin", no_cmpxchg)
    monkeypatch.setitem(transition.STEP_TERMS, "drain.begin", no_cmpxchg_term)
    cfg = HONEST.with_(drains=2)
    v = bmc_user(cfg, "user_exclusive_drain", 3).verdict
    assert v.kind == "violated" and sorted(str(st.action) for st in v.trace.steps) == ["d0.drain.begin",
                                                                                     "d1.drain.begin"]

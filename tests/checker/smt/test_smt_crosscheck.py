"""The cross-check covers every reachable state, finds no disagreement on correct encodings,
catches each planted bug, and its fast evaluation path agrees with the per-state reference path."""

import dataclasses
import functools
import json

import z3
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import specs
from checker.smt import consumer as C
from checker.smt import transition
from checker.smt.cli import crosscheck_cmd
from checker.smt.codec import encode_state
from checker.smt.concrete import flat_values
from checker.smt.crosscheck import (
    CompiledChecks,
    action_key,
    check_successors,
    crosscheck,
    reachable_states,
)
from model import Config
from model.ringbuf import RingBufModel
from specs import all_properties, memory_safety
from specs.smt import Ring, bv

CVE_41009 = Config(variant="v5.13", consumer="adversarial", ring_size=32, hold=2, sizes=(8, 16),
                   adversary_reach=16)
"""Small enough for a full run in about a second; reaches the no_overlap violation."""
HONEST = Config(variant="v6.10", consumer="level", ring_size=32, hold=2, sizes=(8, 16), discard=True)


def test_every_reachable_state_is_checked_and_nothing_disagrees():
    reports = {}
    for cfg in (CVE_41009, HONEST):
        rep = reports[cfg] = crosscheck(cfg)
        model = RingBufModel(cfg)
        order = reachable_states(cfg)
        assert rep.reachable == len(order)
        assert rep.checked == rep.successor_checked == rep.reachable and not rep.sampled
        assert rep.transitions == sum(len(model.successors(s)) for s in order)
        assert rep.disagreements == []
        assert "all states" in rep.line() and "sampled" not in rep.line()
    assert reports[CVE_41009].violating > 0


def test_sampling_is_opt_in_and_said():
    rep = crosscheck(CVE_41009, states=60, successor_states=6)
    assert (rep.checked, rep.successor_checked) == (60, 6) and rep.sampled
    assert "sampled" in rep.line() and "all states" not in rep.line()
    assert rep.to_dict()["sampled"] is True
    assert not crosscheck(CVE_41009, states=10**6, successor_states=10**6).sampled


def test_planted_off_by_one_in_smt_no_overlap_is_caught(monkeypatch):
    def overlap_off_by_one(ring, a, len_a, b, len_b):
        d = (b - a) & ring.mask
        return z3.Or(z3.UGE(len_a, ring.size), z3.UGE(len_b, ring.size),
                     z3.ULT(d, len_a), z3.UGT(d + len_b, ring.size + 8))

    monkeypatch.setattr(memory_safety, "ranges_overlap_smt", overlap_off_by_one)
    rep = crosscheck(CVE_41009)
    names = {(d.check, d.name) for d in rep.disagreements}
    assert ("property", "no_overlap") in names
    d = next(d for d in rep.disagreements if d.name == "no_overlap")
    assert "Python predicate: violated" in d.detail and "SMT encoding: holds" in d.detail


def test_planted_transition_that_forgets_busy_is_caught_by_b_and_c(plant_claim_without_busy):
    plant_claim_without_busy()
    rep = crosscheck(HONEST)
    kinds = {(d.check, d.name) for d in rep.disagreements}
    assert ("transition", "p0.reserve.claim") in kinds
    assert ("successors", "p0.reserve.claim") in kinds
    d = next(d for d in rep.disagreements if d.check == "transition")
    assert "BUSY" in d.detail
    d = next(d for d in rep.disagreements if d.check == "successors")
    assert "leads elsewhere" in d.detail and "BUSY" in d.detail


def test_planted_wrong_property_encoding_via_registry(monkeypatch):
    prop = specs.PROPERTIES["aligned"]
    monkeypatch.setitem(specs.PROPERTIES, "aligned",
                        dataclasses.replace(prop, smt=lambda cfg, ring, s, t: s.producer_pos & 15 == 0))
    rep = crosscheck(HONEST)
    assert [d.name for d in rep.disagreements] == ["aligned"]


def test_planted_too_permissive_guard_is_caught_by_c_only(monkeypatch):
    def allows_the_current_value_too(cfg, s, value):
        d = value - s.producer_pos
        return z3.And(z3.ULE(d + cfg.reach, bv(2 * cfg.reach)), d & 7 == 0)

    monkeypatch.setattr(C, "adversary_allows", allows_the_current_value_too)
    rep = crosscheck(CVE_41009)
    assert [(d.check, d.name) for d in rep.disagreements] == [("successors", "user.store_cons")]
    d = rep.disagreements[0]
    assert "explicit model does not offer it" in d.detail
    assert d.action == f"user.store_cons(value={d.state.consumer_pos})"


@functools.cache
def _compiled(cfg: Config):
    order = reachable_states(cfg)
    cap = max(len(s.delivered) for s in order) + 1
    checks = CompiledChecks(cfg, cap, transition.action_kinds(cfg))
    return order, cap, checks


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=st.sampled_from([CVE_41009, HONEST]), picks=st.lists(st.integers(0, 10**9), min_size=1, max_size=6),
       other=st.integers(0, 10**9))
def test_fast_path_gives_the_verdicts_of_the_reference_path(cfg, picks, other):
    """Any order of states (so stale values in the shared z3 model would show), true and false verdicts."""
    order, cap, checks = _compiled(cfg)
    model, ring, kinds = RingBufModel(cfg), Ring.of(cfg), checks.kinds
    index = {(k.actor, k.step): i for i, k in enumerate(kinds)}
    for pick in picks:
        s = order[pick % len(order)]
        terminal = model.is_terminal(s)
        checks.set_state(flat_values(cfg, s, cap))
        sym = encode_state(cfg, s, cap)
        reference = [z3.is_true(z3.simplify(p.smt(cfg, ring, sym, terminal))) for p in all_properties()]
        assert checks.properties(terminal) == reference
        assert reference == [p.check(cfg, s, terminal) is None for p in all_properties()]
        succ = model.successors(s)
        wrong = order[other % len(order)]
        for a, nxt in succ:
            key = action_key(index, a)
            kind, sa = kinds[key[0]], transition.SymAction(bv(key[0]), dict(zip(transition.ARG_NAMES, map(bv, key[1:]))))
            for target in (nxt, wrong):
                want = z3.is_true(z3.simplify(transition.action_formula(cfg, ring, sym, kind, sa,
                                                                        encode_state(cfg, target, cap))))
                in_formula, in_relation = checks.transition(key, flat_values(cfg, target, cap))
                assert in_formula == in_relation == want
        smt, over = checks.smt_actions(500)
        assert not over and smt == {action_key(index, a) for a, _ in succ}
        assert check_successors(cfg, ring, kinds, s, succ, cap) == []


def test_cli_checks_every_state_by_default_and_says_when_it_samples():
    args = ["--variant", "v6.10", "--consumer", "edge"]
    r = CliRunner().invoke(crosscheck_cmd, args)
    assert r.exit_code == 0, r.output
    assert "all states" in r.output and "0 disagreements on every reachable state" in r.output
    r = CliRunner().invoke(crosscheck_cmd, args + ["--json"])
    out = json.loads(r.output)
    assert r.exit_code == 0 and out["disagreements"] == 0 and out["configs"][0]["sampled"] is False
    c = out["configs"][0]
    assert c["checked"] == c["successor_checked"] == c["reachable"]
    r = CliRunner().invoke(crosscheck_cmd, args + ["--states", "20", "--successor-states", "2"])
    assert r.exit_code == 0, r.output
    assert "sampled" in r.output and "not on every reachable state" in r.output


def test_cli_exit_code_1_on_a_disagreement(monkeypatch):
    prop = specs.PROPERTIES["aligned"]
    monkeypatch.setitem(specs.PROPERTIES, "aligned",
                        dataclasses.replace(prop, smt=lambda cfg, ring, s, t: s.producer_pos & 15 == 0))
    r = CliRunner().invoke(crosscheck_cmd, ["--variant", "v6.10", "--consumer", "edge"])
    assert r.exit_code == 1
    assert "disagreement [property] aligned" in r.output and "1 disagreements" in r.output

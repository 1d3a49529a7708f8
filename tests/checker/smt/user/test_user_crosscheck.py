"""The user ring's cross-check covers every reachable state, finds nothing on the real encodings, and
catches a planted broken step, a planted forgotten check and a check deleted on one side only."""

import dataclasses

import pytest
import z3

from checker.smt.user import drain as D
from checker.smt.user import transition
from checker.smt.user.crosscheck import crosscheck_user, default_user_configs, reachable_user_states
from checker.smt.user.state import sample_len
from model.config import Config
from model.state import SUBMITTED
from model.userring.drain import without
from model.userring.model import UserRingModel
from specs.property import PROPERTIES
from specs.smt import pick
from specs.user_ring import _log_places_smt

from .conftest import LIBBPF

HOSTILE2 = Config(map="user", ring_size=16, user_producer="adversarial", hostile_writes=2, adversary_reach=8,
                  sizes=(0,))
"""Two hostile writes (a producer_pos and a header): about 1,450 states, some violating without fits_advertised."""


pytestmark = pytest.mark.slow  # seconds each: the README's test command stays under 5 minutes; .ci/run runs them


def release_without_rounding(cfg, ring, s, d):
    """drain.release's z3 twin moving consumer_pos by the bare sample length (no header, no rounding)."""
    nxt = D.drain_release(cfg, ring, s, d)
    return nxt._replace(consumer_pos=s.consumer_pos + sample_len(s.drains[d].len))


def test_every_reachable_state_agrees(small_user_config):
    cfg = small_user_config
    rep = crosscheck_user(cfg)
    model = UserRingModel(cfg)
    order = reachable_user_states(model)
    assert rep.reachable == len(order) > 300
    assert rep.checked == rep.successor_checked == rep.reachable and not rep.sampled
    assert rep.transitions == sum(len(model.successors(s)) for s in order)
    assert rep.disagreements == [], [d.format(cfg) for d in rep.disagreements]
    assert "all states" in rep.line()


def test_planted_release_without_rounding_is_caught_by_b_and_c(monkeypatch):
    monkeypatch.setitem(transition.STEP_TERMS, "drain.release", release_without_rounding)
    rep = crosscheck_user(LIBBPF)
    found = {(d.check, d.name) for d in rep.disagreements}
    assert ("transition", "d0.drain.release") in found and ("successors", "d0.drain.release") in found
    assert all(d.name == "d0.drain.release" for d in rep.disagreements)


def test_a_planted_property_encoding_is_caught_on_violating_states(monkeypatch):
    right = PROPERTIES["user_discard_skipped"]

    def wrong(cfg, ring, s, terminal):
        """discard_skipped's encoding with the DISCARDED test turned into a SUBMITTED one."""
        return z3.And([z3.Implies(there, pick(s.records, rec).status != SUBMITTED)
                       for there, rec in _log_places_smt(s)])

    monkeypatch.setitem(PROPERTIES, "user_discard_skipped", dataclasses.replace(right, smt=wrong))
    rep = crosscheck_user(LIBBPF, checks=without("discard_skipped"))
    assert rep.violating > 0
    assert [(d.check, d.name) for d in rep.disagreements] == [("property", "user_discard_skipped")]
    assert "Python predicate: holds; SMT encoding: violated" in rep.disagreements[0].detail


@pytest.mark.slow
def test_a_check_the_smt_side_forgets_is_caught(monkeypatch):
    monkeypatch.setitem(D.CHECK_TERMS, "fits_advertised", lambda cfg, ring, d: True)
    rep = crosscheck_user(HOSTILE2)
    assert {d.name for d in rep.disagreements if d.check != "property"} == {"d0.drain.read_header"}


@pytest.mark.slow
def test_a_deleted_check_is_deleted_on_both_sides():
    rep = crosscheck_user(HOSTILE2, checks=without("fits_advertised"))
    assert rep.disagreements == [] and rep.violating > 0


@pytest.mark.slow
def test_default_user_configurations_agree():
    for cfg in default_user_configs():
        rep = crosscheck_user(cfg)
        assert rep.disagreements == [] and not rep.sampled, rep.line()


def test_across_the_64_bit_wrap_including_its_terminal_states(monkeypatch):
    from checker.smt.user import crosscheck as X

    near_wrap = 2**64 - 16
    rep = crosscheck_user(LIBBPF, start=near_wrap)
    assert rep.disagreements == [] and rep.violating > 0       # user_exactly_once is lost past the wrap

    def equal_positions(cfg, s):
        """The terminal test as it was before the wrap was seen: consumer_pos == producer_pos."""
        pr = s.producer
        done = z3.And(pr.pc == 0, pr.attempts == cfg.records, pr.held_n == 0)
        return z3.And([done, s.consumer_pos == s.producer_pos] + [d.pc == 0 for d in s.drains])

    monkeypatch.setattr(X, "is_terminal", equal_positions)
    rep = crosscheck_user(LIBBPF, start=near_wrap)
    assert ("terminal", "is_terminal") in {(d.check, d.name) for d in rep.disagreements}

"""The user ring model predicts the live kernel: each hostile header kind, generated scenarios, a planted bug."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings

from checker.kernel.bpf import kernel_available
from checker.kernel.user.campaign import run_user_campaign
from checker.kernel.user.diff import compare, diff_scenario
from checker.kernel.user.predict import model_config, predict
from checker.kernel.user.run import UserRingRunner
from checker.kernel.user.scenario import (Discard, Drain, Fill, Reserve, SetProducerPos, Submit, WriteWord)
from checker.kernel.user.strategies import scenarios

AVAILABLE, REASON = kernel_available()
pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not AVAILABLE, reason=REASON)]
S = 0x1000
BUSY, DISCARD = 1 << 31, 1 << 30
EINVAL, E2BIG = -22, -7


@pytest.fixture(scope="module")
def runner():
    with UserRingRunner("python") as shared:
        yield shared


def agrees_and_predicts(runner, scenario, drain_at, ret, consumer_pos):
    """The diff agrees, and what it agreed on is the kernel's documented answer."""
    prediction = predict(scenario)
    result = compare(tuple(scenario), prediction, runner.observe(scenario))
    assert result.agrees, result.disagreement.format()
    predicted = {e.where: e.value for e in prediction.expects}
    assert (predicted[("ret", drain_at)], predicted[("consumer_pos", drain_at)]) == (ret, consumer_pos)


def test_a_misaligned_producer_pos_is_refused_as_predicted(runner):
    honest_then_hostile = (Reserve(8), Fill(0, 0x11), Submit(0), SetProducerPos(4, "producer"), Drain())
    agrees_and_predicts(runner, honest_then_hostile, 4, EINVAL, 0)
    agrees_and_predicts(runner, (WriteWord(0, 8), SetProducerPos(12), Drain()), 2, EINVAL, 0)


def test_a_sample_longer_than_the_advertised_data_is_refused_as_predicted(runner):
    agrees_and_predicts(runner, (WriteWord(0, 24), SetProducerPos(16), Drain()), 2, EINVAL, 0)
    good_then_long = (WriteWord(0, 4), WriteWord(16, 0x100), SetProducerPos(0x40), Drain())
    agrees_and_predicts(runner, good_then_long, 3, EINVAL, 16)  # the good sample is consumed


def test_a_sample_larger_than_the_ring_is_refused_as_predicted(runner):
    agrees_and_predicts(runner, (WriteWord(0, S - 7), SetProducerPos(2 * S), Drain()), 2, E2BIG, 0)
    agrees_and_predicts(runner, (WriteWord(0, 1 << 24), SetProducerPos(1 << 63), Drain()), 2, E2BIG, 0)
    agrees_and_predicts(runner, (WriteWord(0, S - 8), SetProducerPos(S), Drain()), 2, 1, S)  # exactly the ring


def test_a_busy_sample_stops_the_drain_as_predicted(runner):
    agrees_and_predicts(runner, (WriteWord(0, 8 | BUSY), SetProducerPos(16), Drain()), 2, 0, 0)
    held = (Reserve(8), Reserve(16), Fill(1, 7), Submit(1), Drain(), Submit(0), Drain())
    agrees_and_predicts(runner, held, 4, 0, 0)
    agrees_and_predicts(runner, held, 6, 2, 40)


def test_a_discarded_sample_is_skipped_and_consumed_as_predicted(runner):
    agrees_and_predicts(runner, (WriteWord(0, 8 | DISCARD), SetProducerPos(16), Drain()), 2, 0, 16)
    agrees_and_predicts(runner, (WriteWord(0, 8 | DISCARD | BUSY), SetProducerPos(16), Drain()), 2, 0, 16)
    honest = (Reserve(8), Reserve(3), Discard(0), Fill(1, 9), Submit(1), Drain())
    agrees_and_predicts(runner, honest, 5, 1, 32)


def test_callbacks_returning_one_and_drains_in_sequence_as_predicted(runner):
    stop = (SetProducerPos(80), Drain(0, (0, 1)), Drain(2, (1,)), Drain(), Drain(4))
    for drain_at, ret, cons in ((1, 2, 16), (2, 1, 24), (3, 7, 80), (4, EINVAL, 80)):
        agrees_and_predicts(runner, stop, drain_at, ret, cons)


def test_producer_pos_behind_consumer_pos_is_no_data_as_predicted(runner):
    behind = (Reserve(8), Submit(0), Reserve(16), Submit(1), Drain(), SetProducerPos(-8, "consumer"), Drain())
    agrees_and_predicts(runner, behind, 4, 2, 40)
    agrees_and_predicts(runner, behind, 6, 0, 40)


@pytest.mark.slow
def test_the_sample_limit_as_predicted(runner):
    """131072 samples in one drain: cheap on the kernel, about ten seconds in the Python model."""
    agrees_and_predicts(runner, (SetProducerPos(1 << 21), Drain()), 1, 131072, 8 * 131072)
    # one DISCARD header per lap of the ring (512 words): 256 skips, and they count toward the limit
    with_discards = (WriteWord(0, DISCARD), SetProducerPos(1 << 21), Drain())
    agrees_and_predicts(runner, with_discards, 2, 131072 - 256, 8 * 131072)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(scenarios())
def test_a_hundred_generated_scenarios_agree_with_the_model(runner, scenario):
    result = diff_scenario(scenario, runner)
    assert result.agrees, result.disagreement.format()


@pytest.mark.slow
def test_a_planted_wrong_model_is_found_and_shrunk():
    """A model whose drain stops after 64 samples: the campaign finds a drain that goes further."""
    result = run_user_campaign(2000, 3, config_for=lambda sc: replace(model_config(sc), drain_limit=64))
    assert result.disagreements == 1 and result.exit_code == 1 and result.shrink_runs > 0
    minimal = result.minimal
    assert minimal is not None and minimal.expect.where[0] in ("ret", "samples", "consumer_pos")
    assert any(isinstance(step, (SetProducerPos, Reserve)) for step in minimal.scenario)
    if minimal.expect.where[0] == "ret":
        assert minimal.expect.value == 64 and minimal.observed > 64
    assert "disagreement:" in minimal.format()


@pytest.mark.slow
def test_five_thousand_generated_scenarios_agree_with_the_model():
    """Must show 5: ``ringcheck kernel diff --map user --scripts 5000``."""
    result = run_user_campaign(5000, 0)
    assert (result.scripts, result.disagreements) == (5000, 0), result.minimal and result.minimal.format()
    for outcome in ("EINVAL", "E2BIG", "samples", "no sample", "sample limit", "callback stopped"):
        assert result.kinds.get(outcome, 0) > 0, result.coverage()

"""The model side of the differential check: scenarios, configs and predictions (no kernel needed)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from checker.kernel.predict import predict
from checker.kernel.scenario import (KERNEL_RING_SIZE, Consume, Run, SetConsumerPos, check_scenario, fill_byte,
                                     max_held, model_config, record_attempts)
from checker.kernel.script import U64_MASK, Discard, Output, Query, Reserve, Submit, Write
from checker.kernel.strategies import MAX_HELD, scenarios
from model.operations import Operations
from model.state import BUSY

CVE = (SetConsumerPos(0x3000), Run((Reserve(0, 0x2FF8), Reserve(1, 0x2FF8), Discard(1), Discard(0))))


def test_operations_does_not_enforce_hold_so_hold_2_serves_scripts_holding_more():
    cfg = model_config([Run(tuple(Reserve(slot, 8) for slot in range(4)))], "v6.10")
    assert cfg.hold == 2
    ops = Operations(cfg)
    s = ops.initial()
    recs = []
    for _ in range(4):
        s, rec = ops.reserve(s, 0, 8)
        s = ops.write(s, 0)
        recs.append(rec)
    assert recs == [0, 1, 2, 3]
    assert s.producers[0].held == (0, 1, 2, 3)
    assert all(s.records[r].status == BUSY for r in recs)


def test_model_config_follows_the_scenario():
    honest = [Run((Reserve(0, 8), Reserve(1, 16), Output(4, 1), Submit(0))), Consume()]
    cfg = model_config(honest, "v6.10")
    assert (cfg.ring_size, cfg.producers, cfg.records, cfg.hold, cfg.consumer) == (KERNEL_RING_SIZE, 1, 3, 2, "level")
    assert cfg.sizes == (4, 8, 16)
    adversarial = model_config(CVE, "v5.13")
    assert (adversarial.variant, adversarial.consumer, adversarial.records) == ("v5.13", "adversarial", 2)
    assert model_config([Run((Query(0),))], "v6.10").records == 1
    assert model_config([Run((Reserve(0, U64_MASK),))], "v6.10").sizes == (8,)


def test_max_held_and_record_attempts():
    run = Run((Reserve(0, 8), Reserve(1, 8), Submit(0), Reserve(0, 8), Reserve(2, 8), Output(1, 1)))
    assert max_held([run]) == 3
    assert record_attempts([run, run]) == 10


def test_scenarios_that_cannot_be_checked_are_refused_in_one_line():
    with pytest.raises(ValueError, match="not both"):
        check_scenario([SetConsumerPos(8), Run((Query(0),)), Consume()])
    with pytest.raises(ValueError, match="at most 16"):
        check_scenario([Run(tuple(Output(1, 1) for _ in range(17)))])
    with pytest.raises(ValueError, match="item 0: op 0"):
        check_scenario([Run((Submit(0),))])


def test_relative_consumer_pos_wraps_modulo_2_64():
    assert SetConsumerPos(0x3000, relative=True).target(0x100) == 0x3100
    assert SetConsumerPos(-8 & U64_MASK, relative=True).target(0) == U64_MASK - 7
    assert SetConsumerPos(5).target(0x100) == 5
    assert str(SetConsumerPos(-8 & U64_MASK, relative=True)) == "consumer_pos := producer_pos - 0x8"


def test_cve_2024_41009_predictions_differ_between_v5_13_and_v6_10():
    def second_reserve(variant):
        return next(e.value for e in predict(CVE, variant).expects if e.where == ("op", 1, 1))

    assert second_reserve("v6.10") is None
    assert second_reserve("v5.13") == 0x3000
    assert second_reserve("v5.8") == 0x3000


def test_expected_samples_carry_the_bytes_of_their_record():
    scenario = [Run((Reserve(0, 3), Write(0, fill_byte(0)), Output(2, fill_byte(1)), Reserve(1, 0),
                     Reserve(2, 5), Write(2, fill_byte(3)), Submit(2), Discard(1), Submit(0))), Consume()]
    prediction = predict(scenario, "v6.10")
    (samples,) = [e.value for e in prediction.expects if e.where[0] == "samples"]
    assert prediction.samples_by_item[1] == [0, 1, 3]
    assert samples == [(3, b"AAA"), (2, b"BB"), (5, b"DDDDD")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_generated_scenarios_are_valid_and_recorded_traces_match_operations(scenario):
    check_scenario(scenario)
    assert max_held(scenario) <= MAX_HELD
    plain = predict(scenario, "v6.10")
    recorded = predict(scenario, "v6.10", record=True)  # raises if the recorded steps leave Operations' path
    assert [(e.label, e.value) for e in plain.expects] == [(e.label, e.value) for e in recorded.expects]
    last_producer_pos = [e.value for e in plain.expects if e.where[0] == "producer_pos"][-1]
    assert recorded.trace is not None and recorded.trace.final.producer_pos == last_producer_pos
    for item, recs in plain.samples_by_item.items():
        (samples,) = [e.value for e in plain.expects if e.where == ("samples", item)]
        for rec, (size, data) in zip(recs, samples):
            assert data == bytes([fill_byte(rec)]) * size


@pytest.mark.slow                 # 8-16 s: the README's command stays under five minutes
def test_generated_scenarios_reach_the_delicate_places():
    """Over a few hundred scenarios the model predicts wrap-around, refusals of every kind, and CVE differences."""
    from collections import Counter

    from hypothesis import seed

    seen: Counter = Counter()

    @seed(3)
    @settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(scenarios())
    def collect(scenario):
        prediction = predict(scenario, "v6.10")
        seen["adversarial" if any(isinstance(i, SetConsumerPos) for i in scenario) else "honest"] += 1
        seen["held 3+"] += max_held(scenario) >= 3
        for e in prediction.expects:
            kind = e.where[0]
            if kind == "producer_pos" and e.value > KERNEL_RING_SIZE:
                seen["wraps"] += 1
            elif kind == "op":
                op = scenario[e.where[1]].ops[e.where[2]]
                if isinstance(op, Reserve):
                    seen["reserve NULL" if e.value is None else "reserve ok"] += 1
                elif isinstance(op, Output):
                    seen[f"output {e.value}"] += 1
            elif kind == "samples":
                seen["samples"] += len(e.value)
            elif kind in ("payload", "header"):
                seen[kind] += 1

    @seed(4)
    @settings(max_examples=600, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(scenarios(adversarial=True))
    def collect_differences(scenario):
        seen["v5.13 differs"] += [e.value for e in predict(scenario, "v5.13").expects] != [
            e.value for e in predict(scenario, "v6.10").expects]

    collect()
    collect_differences()
    for what in ("adversarial", "honest", "held 3+", "v5.13 differs", "wraps", "reserve NULL", "reserve ok",
                 "output 0", "output -11", "output -22", "samples", "payload", "header"):
        assert seen[what] > 0, f"no generated scenario reaches {what!r}: {dict(seen)}"

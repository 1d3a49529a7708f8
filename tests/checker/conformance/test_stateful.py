"""Hypothesis stateful testing and the exported strategies: mutants shrink to minimal divergences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from checker.conformance.lockstep import check_sequence
from checker.conformance.mutants import MUTANTS
from checker.conformance.oracle import Oracle
from checker.conformance.reference import make_reference
from checker.conformance.standard import MUTANT_CONFIGS, standard_configs
from checker.conformance.stateful import check_stateful, conformance_machine
from checker.conformance.strategies import operation_sequences

MINIMAL = {
    "consumer_ignores_busy": ["reserve", "consume"],
    "commit_keeps_busy": ["reserve", "write", "commit"],
    "consumer_delivers_discarded": ["reserve", "write", "commit", "consume"],
    "consumer_never_stores": ["reserve", "write", "commit", "consume"],
    "reserve_no_size_check": ["set_consumer_pos", "reserve"],
}
"""Kinds of the shrunk sequence, where only one order is minimal."""

FIELD = {
    "consumer_ignores_busy": "samples",
    "commit_keeps_busy": "header[0]",
    "consumer_delivers_discarded": "samples",
    "consumer_never_stores": "consumer_pos",
    "reserve_no_size_check": "result",
    "reserve_no_pending_check": "result",
}

ADV_HOLD2 = standard_configs()["v6.10 adversarial hold 2"]
HONEST = standard_configs()["v6.10 level P=2 discard"]


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_each_mutant_shrinks_to_a_minimal_divergence(name: str) -> None:
    result = check_stateful(MUTANTS[name], MUTANT_CONFIGS[name], max_examples=50)
    div = result.divergence
    assert result.exit_code == 1 and div is not None and div.method == "stateful"
    assert div.field == FIELD[name]
    kinds = [op.kind for op in div.operations]
    if name in MINIMAL:
        assert kinds == MINIMAL[name]
    else:
        assert kinds == ["reserve", "write", "set_consumer_pos", "reserve"]
        assert div.observed is not None and div.expected is None


@pytest.mark.parametrize("config", [ADV_HOLD2, HONEST], ids=["adversarial", "honest"])
def test_the_reference_passes_stateful_testing(config) -> None:
    result = check_stateful(make_reference, config, max_examples=60)
    assert result.conforms and result.kind == "bounded" and "max_examples=60" in result.bound


def test_the_machine_class_runs_under_pytest_as_a_test_case() -> None:
    case = conformance_machine(make_reference, HONEST).TestCase
    case.settings = settings(max_examples=5, deadline=None)
    case("runTest").runTest()


@settings(max_examples=40, deadline=None)
@given(operation_sequences(ADV_HOLD2, max_ops=10))
def test_drawn_sequences_are_model_paths_and_the_reference_follows_them(ops) -> None:
    oracle = Oracle(ADV_HOLD2)
    s = oracle.initial()
    for op in ops:
        assert op in oracle.enabled(s)
        s, _ = oracle.apply(s, op)
    assert check_sequence(make_reference, ADV_HOLD2, ops) is None


@settings(max_examples=40, deadline=None)
@given(operation_sequences(HONEST, min_ops=3, max_ops=12))
def test_honest_sequences_reach_producers_and_the_consumer(ops) -> None:
    assert len(ops) >= 3 and ops[0].kind in ("reserve", "consume")
    assert check_sequence(make_reference, HONEST, ops) is None


def test_check_sequence_reports_the_first_diverging_operation() -> None:
    from checker.conformance import ops as o

    seq = [o.reserve(0, 8, 0), o.write(0, 0), o.commit(0, 0), o.consume(), o.consume()]
    div = check_sequence(MUTANTS["consumer_never_stores"], HONEST, seq)
    assert div is not None and div.index == 4 and div.field == "consumer_pos"
    assert check_sequence(make_reference, HONEST, seq) is None


def test_hypothesis_alone_already_shrinks_a_mutant_to_its_divergence() -> None:
    raw = check_stateful(MUTANTS["commit_keeps_busy"], MUTANT_CONFIGS["commit_keeps_busy"],
                         max_examples=50, finish_shrinking=False)
    assert raw.divergence is not None and raw.divergence.field == "header[0]"
    assert [op.kind for op in raw.divergence.operations] == MINIMAL["commit_keeps_busy"]


def test_minimise_drops_a_reservation_with_its_records_operations() -> None:
    from checker.conformance import ops as o
    from checker.conformance.lockstep import check_sequence
    from checker.conformance.minimise import minimise, without

    config = MUTANT_CONFIGS["consumer_never_stores"]
    seq = [o.reserve(0, 16, 0), o.write(0, 0), o.consume(), o.commit(0, 0), o.reserve(0, 8, 1),
           o.write(0, 1), o.commit(0, 1), o.consume()]
    assert without(config, seq, 0) == [o.consume(), o.reserve(0, 8, 0), o.write(0, 0), o.commit(0, 0),
                                       o.consume()]
    seq = [o.consume(), o.reserve(0, 16, 0), o.write(0, 0), o.commit(0, 0), o.consume()]
    div = check_sequence(MUTANTS["consumer_never_stores"], config, seq)
    assert div is not None and div.index == 5
    small = minimise(MUTANTS["consumer_never_stores"], config, div)
    assert [op.kind for op in small.operations] == ["reserve", "write", "commit", "consume"]

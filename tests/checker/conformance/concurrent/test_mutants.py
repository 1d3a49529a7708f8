"""Each concurrent mutant is caught with a minimal schedule: the operation, the access, the property."""

from __future__ import annotations

import pytest

from checker.conformance.concurrent.explore import CONFORMS, FAILS, Setup, explore
from checker.conformance.concurrent.mutants import CONCURRENT_MUTANTS, MUTANT_SETUPS
from checker.conformance.concurrent.report import Culprit, culprits
from checker.conformance.concurrent.scenario import SCENARIOS


def caught(name: str, memory: str | None = None, variant: str = "v6.10"):
    scenario, default_memory = MUTANT_SETUPS[name]
    r = explore(Setup(CONCURRENT_MUTANTS[name], SCENARIOS[scenario], variant, memory or default_memory))
    assert r.kind == FAILS, f"{name} not caught: {r.headline()}"
    assert r.failure is not None
    return r.failure


def test_reserve_without_lock_two_producers_claim_the_same_bytes() -> None:
    f = caught("reserve_without_lock")
    assert f.violation.prop == "no-overlap"
    assert culprits(f.execution) == [
        Culprit("preemption", "p0", "reserve(p0, size=8)", "load producer_pos", "p1")]
    assert f.execution.preemptions == 1
    assert "returned position 0, over r1" in f.violation.message


def test_publish_before_header_the_consumer_reads_the_old_bytes_as_a_record() -> None:
    f = caught("publish_before_header")
    assert f.violation.prop == "samples-intact"
    assert culprits(f.execution) == [
        Culprit("preemption", "p0", "reserve(p0, size=8)", "store producer_pos", "c")]
    ex = f.execution
    consumer_steps = [s.label for s in ex.steps if ex.threads[s.thread].name == "c"]
    assert consumer_steps[:3] == ["load consumer_pos", "load producer_pos", "load data[0]"]
    assert len(ex.steps) == 13, "six reserve steps, then the consumer's pass"


@pytest.mark.parametrize("variant", ["v5.8", "v6.10"])
def test_plain_producer_pos_is_caught_under_ra_by_a_stale_header_read(variant: str) -> None:
    f = caught("plain_producer_pos", variant=variant)
    assert f.violation.prop == "samples-intact"
    assert f.execution.preemptions == 0
    assert culprits(f.execution) == [Culprit("stale", "c", "consume()", "load data[0]")]
    claim = [s.access for s in f.execution.steps if "producer_pos :=" in s.access]
    assert claim == ["store producer_pos := 0x10 (plain)"]


@pytest.mark.slow
def test_plain_producer_pos_conforms_under_sc_the_ordering_matters_only_when_weaker() -> None:
    r = explore(Setup(CONCURRENT_MUTANTS["plain_producer_pos"], SCENARIOS["produce-consume"], "v6.10", "sc"))
    assert r.kind == CONFORMS, r.headline()


@pytest.mark.slow
def test_plain_producer_pos_conforms_under_tso_which_keeps_stores_in_order() -> None:
    r = explore(Setup(CONCURRENT_MUTANTS["plain_producer_pos"], SCENARIOS["produce-consume"], "v6.10", "tso"))
    assert r.failure is None, r.headline()


def test_plain_commit_is_caught_under_ra_by_a_stale_payload_read() -> None:
    f = caught("plain_commit")
    assert f.violation.prop == "samples-intact"
    assert culprits(f.execution) == [Culprit("stale", "c", "consume()", "load data[1]")]
    assert "0-byte" not in f.violation.message and "8-byte sample" in f.violation.message


@pytest.mark.parametrize("name", sorted(CONCURRENT_MUTANTS))
def test_every_mutant_failure_replays_exactly(name: str) -> None:
    from checker.conformance.concurrent.explore import replay, run_to_end

    f = caught(name)
    scenario, memory = MUTANT_SETUPS[name]
    ex = replay(Setup(CONCURRENT_MUTANTS[name], SCENARIOS[scenario], "v6.10", memory), f.schedule)
    v = run_to_end(ex, "v6.10")
    assert v is not None and (v.prop, v.message) == (f.violation.prop, f.violation.message)


def test_reserve_trylock_breaks_no_memory_property_only_linearizability() -> None:
    f = caught("reserve_trylock")
    assert f.violation.prop == "linearizable"
    assert culprits(f.execution) == [
        Culprit("preemption", "p0", "reserve(p0, size=8)", "cmpxchg lock", "p1")]
    assert f.violation.detail["call"] == "reserve(p1, size=8)"
    assert f.violation.detail["why"] == "the model returns position 16, the implementation returned NULL"

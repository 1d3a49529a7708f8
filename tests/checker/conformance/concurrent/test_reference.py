"""The concurrent reference conforms for every variant: every interleaving of the bundled scenarios."""

from __future__ import annotations

import pytest

from checker.conformance.adapter import VARIANTS
from checker.conformance.concurrent.explore import CONFORMS, Setup, explore
from checker.conformance.concurrent.reference import ConcurrentReference
from checker.conformance.concurrent.scenario import SCENARIOS


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("scenario", ["two-producers", "produce-consume"])
def test_reference_conforms_under_sc_complete(variant: str, scenario: str) -> None:
    r = explore(Setup(ConcurrentReference, SCENARIOS[scenario], variant, "sc"))
    assert r.kind == CONFORMS, r.headline()
    assert r.stats.schedules > 1 and r.stats.states > r.stats.schedules


@pytest.mark.parametrize("memory", ["tso", "ra"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_reference_two_producers_conform_under_weak_memory(variant: str, memory: str) -> None:
    r = explore(Setup(ConcurrentReference, SCENARIOS["two-producers"], variant, memory))
    assert r.failure is None, r.headline()


@pytest.mark.slow
@pytest.mark.parametrize("memory", ["tso", "ra"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_reference_produce_consume_conforms_under_weak_memory(variant: str, memory: str) -> None:
    r = explore(Setup(ConcurrentReference, SCENARIOS["produce-consume"], variant, memory))
    assert r.failure is None, r.headline()


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_reference_mixed_conforms_under_sc(variant: str) -> None:
    r = explore(Setup(ConcurrentReference, SCENARIOS["mixed"], variant, "sc"))
    assert r.kind == CONFORMS, r.headline()


def test_preemption_bound_zero_is_the_sequential_interleavings_of_whole_calls() -> None:
    setup = Setup(ConcurrentReference, SCENARIOS["two-producers"], "v6.10", "sc")
    r0 = explore(setup, preemptions=0)
    full = explore(setup)
    assert r0.bounds == ["preemptions=0"] and r0.kind == "bounded"
    # p0's three calls and p1's three interleave as whole calls: C(6, 3) orders, merged to fewer states.
    assert r0.stats.schedules == 20
    assert r0.stats.states < full.stats.states


@pytest.mark.parametrize("start", [48, 2**64 - 16])
def test_reference_conforms_on_a_used_ring_and_across_the_64_bit_wrap(start: int) -> None:
    from dataclasses import replace

    r = explore(Setup(ConcurrentReference, replace(SCENARIOS["two-producers"], start=start), "v6.10", "sc"))
    assert r.kind == CONFORMS, r.headline()

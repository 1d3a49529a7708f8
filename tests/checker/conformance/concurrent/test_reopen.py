"""A consumer closed and reopened on a used ring: libbpf's way conforms, state kept wrongly is caught."""

from __future__ import annotations

import pytest

from checker.conformance.concurrent.explore import CONFORMS, FAILS, Setup, explore
from checker.conformance.concurrent.mutants import CachingConsumer, ReopenRestartsAtZero
from checker.conformance.concurrent.reference import ConcurrentReference
from checker.conformance.concurrent.report import culprits
from checker.conformance.concurrent.scenario import SCENARIOS
from checker.conformance.ops import REOPEN


@pytest.mark.parametrize("factory", [ConcurrentReference, pytest.param(CachingConsumer, marks=pytest.mark.slow)])
def test_a_consumer_that_starts_from_consumer_pos_after_reopen_conforms(factory) -> None:
    r = explore(Setup(factory, SCENARIOS["reopen"], "v6.10", "sc"))
    assert r.kind == CONFORMS, r.headline()


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["v5.8", "v5.13"])
def test_the_reference_reopens_for_the_older_variants(variant: str) -> None:
    r = explore(Setup(ConcurrentReference, SCENARIOS["reopen"], variant, "sc"))
    assert r.kind == CONFORMS, r.headline()


def test_a_consumer_that_restarts_at_zero_on_reopen_delivers_an_earlier_lap_again() -> None:
    r = explore(Setup(ReopenRestartsAtZero, SCENARIOS["reopen"], "v6.10", "sc"))
    assert r.kind == FAILS and r.failure is not None
    v, ex = r.failure.violation, r.failure.execution
    assert (v.prop, v.message) == ("samples-intact", "consume() delivered r0 a second time")
    calls = [(ex.threads[c.thread].name, c.op.kind, c.result) for c in ex.history if c.thread == 1]
    assert calls == [("c", "consume", (0,)), ("c", REOPEN, None), ("c", "consume", (0,))]
    assert culprits(ex) == [] and ex.preemptions == 0, "no race: the bug is the state kept across the reopen"

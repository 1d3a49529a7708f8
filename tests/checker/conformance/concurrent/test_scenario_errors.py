"""Implementations and scenarios that cannot run are findings or one-line errors, never tracebacks."""

from __future__ import annotations

import pytest

from checker.conformance.concurrent.explore import FAILS, Setup, explore
from checker.conformance.concurrent.reference import ConcurrentReference
from checker.conformance.concurrent.scenario import SCENARIOS, Scenario, ScenarioError
from checker.conformance.ops import consume, reserve
from checker.conformance.reference import ReferenceRingBuffer


def test_a_sequential_adapter_given_as_concurrent_is_an_exception_finding() -> None:
    r = explore(Setup(ReferenceRingBuffer, SCENARIOS["two-producers"], "v6.10", "sc"))
    assert r.kind == FAILS and r.failure is not None and r.failure.violation.prop == "exception"
    assert "reserve(p0, size=8): TypeError" in r.failure.violation.message


def test_a_call_that_spins_without_end_is_a_livelock() -> None:
    class SpinsOnBusy(ConcurrentReference):
        def _read_header(self, mem, cons):
            while True:
                word = yield mem.load(mem.word(cons), "acquire")
                if not word & (1 << 31):
                    return word

    r = explore(Setup(SpinsOnBusy, SCENARIOS["produce-consume"], "v6.10", "sc"), minimise=False)
    assert r.kind == FAILS and r.failure is not None and r.failure.violation.prop == "livelock"


def test_a_lock_never_released_is_a_deadlock() -> None:
    class NeverUnlocks(ConcurrentReference):
        def _unlock(self, mem):
            return
            yield

    r = explore(Setup(NeverUnlocks, SCENARIOS["two-producers"], "v6.10", "sc"))
    assert r.failure is not None and r.failure.violation.prop == "deadlock"
    assert "waiting: p1" in r.failure.violation.message or "waiting: p0" in r.failure.violation.message


@pytest.mark.parametrize("threads, message", [
    ((("p0", (reserve(0, 8, 3),)),), "names record r3; the model calls it r0"),
    ((("p0", (reserve(0, 8, 0),)), ("p1", (reserve(0, 8, 1),))), "producer 0 has calls in threads p0 and p1"),
    ((("c", (consume(),)), ("c", (consume(),))), "thread names repeat"),
])
def test_a_scenario_the_model_cannot_name_is_refused(threads, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        Scenario("bad", 32, threads)

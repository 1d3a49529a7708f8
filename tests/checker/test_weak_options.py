"""issue 16's run options under issue 13's weak memory: --max-violations, --coverage, --no-deadlock, bounds."""

from __future__ import annotations

import pytest

from checker.run import check
from checker.search import Limits
from model import Config

LOST_WAKEUP = Config(ring_size=64, consumer="edge")  # v6.10 P=1 E=2 sizes 8,16: the lost wakeup under tso/ra


@pytest.mark.parametrize("memory", ["tso", "ra"])
def test_max_violations_coverage_and_no_deadlock_under_weak_memory(memory):
    v = check(LOST_WAKEUP.with_(memory=memory), max_violations=3, coverage=True, deadlock=False)
    assert v.kind == "violated" and len(v.violations) == 3
    assert all(x.trace.config.memory == memory for x in v.violations)
    for x in v.violations:
        x.trace.replay()
    steps = {row["step"]: row["fired"] for row in v.coverage.to_dict()["steps"]}
    assert steps["commit.wakeup"] > 0
    assert (steps.get("flush", 0) > 0) == (memory == "tso"), "tso's flushes are counted, ra has none"


def test_the_memory_models_bound_and_a_limit_are_both_named():
    v = check(Config(memory="tso"), limits=Limits(max_states=200))
    assert v.kind == "bounded" and v.bound == "max_states=200, buffer=2"

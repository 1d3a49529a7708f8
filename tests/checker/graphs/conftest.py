"""Shared fixtures for the graph exporter tests: the CVE traces and random walks in the model."""

from __future__ import annotations

import pytest

from checker import suite
from checker.run import check
from checker.trace import Step, Trace
from model.config import Config
from model.ringbuf import RingBufModel


@pytest.fixture(scope="session")
def cve_41009() -> Trace:
    """The BFS counterexample of CVE-2024-41009 (v5.13, adversarial consumer)."""
    return check(suite.CVE_2024_41009).trace


@pytest.fixture(scope="session")
def cve_3489() -> Trace:
    """The BFS counterexample of CVE-2021-3489 (v5.8, a record longer than the ring)."""
    return check(suite.CVE_2021_3489).trace


def random_walk(config: Config, choices: list[int]) -> Trace:
    """A trace that takes successor ``choices[i] % n`` at step i (stopping where nothing is enabled)."""
    m = RingBufModel(config)
    t = Trace(config, m.initial_states()[0])
    for c in choices:
        succ = m.successors(t.final)
        if not succ:
            break
        a, s = succ[c % len(succ)]
        t.steps.append(Step(a, s))
    return t


WALK_CONFIGS = [
    Config(variant="v6.10", ring_size=64, hold=2, discard=True, wakeup_flags=True),
    Config(variant="v5.8", consumer="adversarial", ring_size=32, hold=2, sizes=(8, 16)),
    Config(variant="v6.10", producers=2, records=1, nmi=True, consumer="edge"),
]


SMALL_EDGE = dict(consumer="edge", records=1, sizes=(8,))
"""The smallest honest configuration with a weak behaviour: one producer, one 8-byte record."""


def first_stale_trace(config: Config) -> Trace:
    """The shortest path (BFS) whose last step reads a stale value, as the model's effects say."""
    m = RingBufModel(config)
    s0 = m.initial_states()[0]
    parent: dict = {s0: None}
    frontier = [s0]
    while frontier:
        nxt = []
        for s in frontier:
            for a, n in m.successors(s):
                if n in parent:
                    continue
                parent[n] = (s, a)
                if any(e.stale for e in m.effects(s, a) or []):
                    path = []
                    while parent[n] is not None:
                        n, a = parent[n]
                        path.append(a)
                    return Trace.from_actions(config, path[::-1])
                nxt.append(n)
        frontier = nxt
    raise AssertionError(f"no stale read reachable in {config.describe()}")


@pytest.fixture(scope="session")
def stale_tso() -> Trace:
    """A hand-made weak trace: the first stale read under TSO, then the flushes that drain every buffer."""
    t = first_stale_trace(Config(memory="tso", **SMALL_EDGE))
    m = t.model()
    while True:
        flushes = [(a, s) for a, s in m.successors(t.final) if a.step == "flush"]
        if not flushes:
            return t
        a, s = flushes[0]
        t.steps.append(Step(a, s))


@pytest.fixture(scope="session")
def stale_ra() -> Trace:
    """A hand-made weak trace: the first stale read under RA."""
    return first_stale_trace(Config(memory="ra", **SMALL_EDGE))


from checker.graphs.report import LOST_WAKEUP  # noqa: E402  (issue 13 must-show 3 and 7)


@pytest.fixture(scope="session")
def lost_wakeup() -> Trace:
    """The BFS (shortest) trace of the lost wakeup under TSO: ``check --memory tso --consumer edge
    --property no_lost_wakeup``."""
    v = check(LOST_WAKEUP, ["no_lost_wakeup"])
    assert v.kind == "violated" and v.trace is not None, f"the lost wakeup is not found: {v.headline()}"
    return v.trace

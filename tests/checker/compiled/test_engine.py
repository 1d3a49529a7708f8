"""Checks (b) and (c) of issue 14: the compiled searches give the manifest's counts and replayable traces.

(b) state counts, transitions and depth equal tests/checker/manifest.json
(the honest configurations, a million states and more, are ``slow``);
(c) every counterexample is decoded and replayed in the Python model, the
CVE configurations give the same shortest traces as the Python BFS, and a
trace that does not replay is an internal error naming the step.
"""

from __future__ import annotations

import pytest

import checker.compiled.engine as engine
from checker.bfs import bfs
from checker.dfs import dfs
from checker.search import Limits, Search
from model import Config
from model.actions import Action
from tests.checker.test_manifest import STANDARD, expected

CVE = [n for n in STANDARD if n.startswith("cve")]
HONEST = [n for n in STANDARD if n.startswith("honest")]


def _counts(v) -> dict:
    return {"verdict": v.kind, "property": v.property, "states": v.stats.states,
            "transitions": v.stats.transitions, "depth": v.stats.depth}


def _search(name: str, **kw) -> Search:
    return Search.for_config(Config(**STANDARD[name]), **kw)


@pytest.mark.parametrize("name", CVE)
def test_cve_configuration_matches_manifest(name):
    v = engine.run_compiled(_search(name), "bfs")
    assert v.engine == "compiled"
    assert _counts(v) == expected()[name]
    assert v.stats.bytes_per_state and v.stats.bytes_per_state > 8


FAST_HONEST = {("honest/level/S32", "bfs")}
"""About 2 s on the compiled core: in the default run, where the Python engine's run of it (20 s) is slow."""


@pytest.mark.parametrize("name, strategy", [
    pytest.param(n, s, marks=() if (n, s) in FAST_HONEST else pytest.mark.slow) for n in HONEST for s in ("bfs", "dfs")])
def test_honest_configuration_matches_manifest(name, strategy):
    got = _counts(engine.run_compiled(_search(name), strategy))
    want = expected()[name]
    if strategy == "dfs":                     # DFS depth is the longest path it took, not the BFS depth
        got.pop("depth"), want.pop("depth")
    assert got == want


@pytest.mark.parametrize("name", [n for n in CVE if expected()[n]["verdict"] == "violated"])
def test_cve_shortest_trace_is_the_python_bfs_trace(name):
    ours = engine.run_compiled(_search(name), "bfs")
    theirs = bfs(_search(name))
    assert ours.property == theirs.property and ours.reason == theirs.reason
    assert [(s.action, s.state) for s in ours.trace.steps] == [(s.action, s.state) for s in theirs.trace.steps]
    ours.trace.replay()


@pytest.mark.parametrize("name", ["cve-2021-3489/v5.8", "cve-2024-41009/v5.13", "cve-2024-41009/v6.10"])
def test_dfs_follows_the_python_dfs(name):
    ours = engine.run_compiled(_search(name), "dfs")
    theirs = dfs(_search(name))
    assert _counts(ours) == _counts(theirs)
    if theirs.trace is not None:
        assert [s.action for s in ours.trace.steps] == [s.action for s in theirs.trace.steps]


def test_a_trace_that_does_not_replay_is_an_internal_error_naming_the_step(monkeypatch):
    real = engine.decode_action
    calls = []

    def wrong_third_action(cfg, code, before):
        calls.append(code)
        a = real(cfg, code, before)
        return Action(a.actor, "reserve.claim") if len(calls) == 3 else a

    monkeypatch.setattr(engine, "decode_action", wrong_third_action)
    with pytest.raises(engine.CompiledCoreError, match=r"step 3 \(p0.reserve.claim\)"):
        engine.run_compiled(_search("cve-2024-41009/v5.13"), "bfs")


@pytest.mark.parametrize("strategy", ["bfs", "dfs"])
def test_limits_give_bounded_verdicts(strategy):
    name = "cve-2024-41009/v6.10"
    v = engine.run_compiled(_search(name, limits=Limits(max_states=1000)), strategy)
    assert v.kind == "bounded" and v.bound == "max_states=1000" and v.stats.states >= 1000
    v = engine.run_compiled(_search(name, limits=Limits(max_depth=5)), strategy)
    assert v.kind == "bounded" and v.bound == "max_depth=5" and v.stats.depth <= 5
    assert engine.run_compiled(_search(name, limits=Limits(max_depth=100)), strategy).kind == "holds"


def test_max_depth_bfs_counts_equal_the_python_bfs():
    ours = engine.run_compiled(_search("cve-2024-41009/v6.10", limits=Limits(max_depth=6)), "bfs")
    theirs = bfs(_search("cve-2024-41009/v6.10", limits=Limits(max_depth=6)))
    assert (ours.bound, ours.stats.states, ours.stats.transitions) == (
        theirs.bound, theirs.stats.states, theirs.stats.transitions)


def test_wrap_around_start_gives_the_python_counts():
    cfg = Config(consumer="edge", producers=2, records=1, discard=True)
    start = 2**64 - 24
    from model.ringbuf import RingBufModel
    ours = engine.run_compiled(Search(RingBufModel(cfg, start)), "bfs")
    theirs = bfs(Search(RingBufModel(cfg, start)))
    assert _counts(ours) == _counts(theirs)

"""Producer symmetry on the compiled core is model/symmetry.py's: same representatives, same reduced counts."""

from __future__ import annotations

import numpy as np
import pytest

from checker.bfs import bfs
from checker.compiled.crosscheck import reachable
from checker.compiled.engine import run_compiled
from checker.compiled.layout import build_layout, from_flat, to_flat
from checker.compiled.symmetry import canonicalize as compiled_canonicalize
from checker.search import Search
from model import Config
from model.symmetry import canonicalize

CASES = {
    "level P=3 E=1 discard": Config(consumer="level", producers=3, records=1, discard=True),
    "edge P=2 E=2 hold 2 nmi": Config(consumer="edge", producers=2, records=2, hold=2, nmi=True),
    "adversarial P=2 E=1 v5.13": Config(variant="v5.13", consumer="adversarial", producers=2, records=1,
                                        adversary_reach=16),
}


@pytest.mark.parametrize("name", list(CASES))
def test_representative_is_the_python_one_on_every_reachable_state(name):
    cfg = CASES[name]
    lay = build_layout(cfg)
    out = np.zeros(lay.nflat, np.int64)
    order = np.zeros(cfg.producers, np.int64)
    new_index = np.zeros(cfg.producers, np.int64)
    for s in reachable(cfg, limit=4000):
        compiled_canonicalize(lay.C, to_flat(lay, s), out, order, new_index)
        want, want_order = canonicalize(cfg, s)
        assert from_flat(lay, out) == want
        assert tuple(order) == want_order


HEAVY = {"edge P=2 E=2 hold 2 nmi"}
"""About 20 s of CPU (the Python BFS beside the compiled one): under ``-m slow``; the other cases cover the default run."""


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in CASES])
def test_reduced_counts_equal_the_python_ones(name):
    ours = run_compiled(Search.for_config(CASES[name], symmetry=True), "bfs")
    theirs = bfs(Search.for_config(CASES[name], symmetry=True))
    assert (ours.kind, ours.property, ours.stats.states, ours.stats.transitions, ours.stats.depth) == (
        theirs.kind, theirs.property, theirs.stats.states, theirs.stats.transitions, theirs.stats.depth)
    if theirs.trace is not None:
        ours.trace.replay()
        assert [s.action for s in ours.trace.steps] == [s.action for s in theirs.trace.steps]


def test_a_violation_under_symmetry_is_a_real_trace():
    cfg = Config(variant="v5.13", consumer="adversarial", producers=2, records=1, sizes=(8, 16))
    v = run_compiled(Search.for_config(cfg, symmetry=True), "bfs")
    assert v.kind == "violated" and v.property == "no_overlap"
    v.trace.replay()
    assert v.trace.final == v.trace.steps[-1].state


@pytest.mark.slow
def test_honest_level_s64_reduced_counts_equal_the_python_ones():
    cfg = Config(ring_size=64, producers=2, records=2, discard=True)
    ours = run_compiled(Search.for_config(cfg, symmetry=True), "bfs")
    theirs = bfs(Search.for_config(cfg, symmetry=True))
    assert (ours.stats.states, ours.stats.transitions, ours.stats.depth) == (
        theirs.stats.states, theirs.stats.transitions, theirs.stats.depth)

"""The tree store (``--store tree``): lossless, and the search over it is the flat store's, count for count.

Held three ways: the shape covers every word once; any words survive
encode and decode, and the incremental encoding from a parent's nodes
gives the same root pair as encoding from nothing; the BFS over the tree
store gives the flat store's counts, verdicts and traces (manifest
configurations, symmetry, limits, the memory bound).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import checker.compiled.engine as engine
from checker.compiled.bfs import ST_LEN, ST_POOL
from checker.compiled.tree import N_LEFT, N_RIGHT, ZERO, TreeStore, encode_key, tree_shape
from checker.compiled.tree_layout import choose_shape
from checker.search import Limits, Search
from model import Config
from tests.checker.test_manifest import STANDARD, expected

WORD = hs.integers(-(1 << 63), (1 << 63) - 1)


def _counts(v) -> tuple:
    return v.kind, v.property, v.stats.states, v.stats.transitions, v.stats.depth, v.stats.terminal


def _leaves_of(nodes, root) -> list[int]:
    seen = []
    for j, row in enumerate(nodes):
        for code in (row[N_LEFT], row[N_RIGHT]):
            if code >= 0:
                assert code < j                               # a child before its parent
            elif code != ZERO:
                seen.append(-code - 1)
    assert all(c >= 0 for c in root)
    return sorted(seen)


@pytest.mark.parametrize("nwords", range(1, 17))
def test_every_word_is_a_leaf_once_and_children_come_first(nwords):
    nodes, root, leaves = tree_shape(nwords)
    assert leaves == max(nwords, 2)
    assert _leaves_of(nodes, root) == list(range(leaves))


@pytest.mark.parametrize("bad", [0, ((0, 1), 1), ((0, 1), 3), (0, (1, (2, 2)))])
def test_a_shape_that_does_not_cover_the_words_once_is_refused(bad):
    with pytest.raises(ValueError):
        tree_shape(3, bad)


@settings(max_examples=40, deadline=None)
@given(hs.integers(1, 10).flatmap(lambda k: hs.lists(hs.lists(hs.integers(0, 3), min_size=k, max_size=k),
                                                      min_size=1, max_size=50)))
def test_the_chosen_shape_covers_every_word_once(rows):
    sample = np.array(rows, dtype=np.int64)
    shape = choose_shape(sample)
    nodes, root, leaves = tree_shape(sample.shape[1], shape)
    assert _leaves_of(nodes, root) == list(range(leaves))


def test_the_chosen_shape_puts_words_that_vary_together_together():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 1000, 5000)
    b = rng.integers(0, 1000, 5000)
    sample = np.stack([a, b, a * 7, b * 3], axis=1)        # words 0 and 2 vary together, as do 1 and 3
    shape = choose_shape(sample)
    assert {frozenset(shape[0]), frozenset(shape[1])} == {frozenset((0, 2)), frozenset((1, 3))}


@settings(max_examples=60, deadline=None)
@given(hs.integers(1, 16).flatmap(lambda k: hs.lists(hs.lists(WORD, min_size=k, max_size=k), min_size=1,
                                                      max_size=12)))
def test_words_survive_the_tree_and_equal_words_share_a_key(states):
    tree = TreeStore(len(states[0]), 1 << 12, choose_shape(np.array(states, dtype=np.int64)))
    st = np.zeros(ST_LEN, np.int64)
    keys = [tree.key_of(np.array(w, np.int64), st[ST_POOL:]) for w in states]
    for w, key in zip(states, keys):
        assert list(tree.words_of(key)) == w
    for a, ka in zip(states, keys):
        for b, kb in zip(states, keys):
            assert (ka == kb) == (a == b)


@settings(max_examples=60, deadline=None)
@given(hs.integers(1, 16).flatmap(lambda k: hs.tuples(hs.lists(WORD, min_size=k, max_size=k),
                                                      hs.lists(hs.tuples(hs.integers(0, k - 1), WORD), max_size=4))))
def test_encoding_from_the_parent_is_encoding_from_nothing(case):
    words, changes = case
    tree = TreeStore(len(words), 1 << 12, choose_shape(np.array([words], dtype=np.int64)))
    st = np.zeros(ST_LEN, np.int64)
    parent = np.zeros(tree.leaves, np.int64)
    parent[:len(words)] = words
    parent_ids = np.zeros(tree.NODES.shape[0], np.int64)
    parent_key = tree.key_of(parent[:len(words)], st[ST_POOL:])
    from checker.compiled.tree import decode_key
    decode_key(tree.NODES, tree.ROOT, np.int64(parent_key), tree.pool, np.zeros_like(parent), parent_ids)
    child = parent.copy()
    for i, v in changes:
        child[i] = v
    nn = tree.NODES.shape[0]
    key = encode_key(tree.NODES, tree.ROOT, child, parent, parent_ids, np.zeros(nn, np.int64),
                     np.zeros(nn, np.bool_), np.zeros(2, np.int64), tree.pool, tree.ptable, st[ST_POOL:])
    assert key == tree.key_of(child[:len(words)], st[ST_POOL:])
    assert list(tree.words_of(key)) == list(child[:len(words)])


def _tree(cfg: Config, **kw):
    return engine.run_compiled(Search.for_config(cfg, **kw), "bfs", store="tree")


def _flat(cfg: Config, **kw):
    return engine.run_compiled(Search.for_config(cfg, **kw), "bfs")


@pytest.mark.parametrize("name", [n for n in STANDARD if n.startswith("cve")] + ["honest/level/S32"])
def test_manifest_counts_and_traces_are_the_flat_stores(name):
    cfg = Config(**STANDARD[name])
    tree, flat = _tree(cfg), _flat(cfg)
    want = expected()[name]
    assert (tree.kind, tree.property, tree.stats.states, tree.stats.transitions, tree.stats.depth) == (
        want["verdict"], want["property"], want["states"], want["transitions"], want["depth"])
    assert _counts(tree) == _counts(flat)
    if name.startswith("honest"):                 # a million states: the tree store takes fewer bytes
        assert tree.stats.bytes_per_state < 0.7 * flat.stats.bytes_per_state
    if flat.trace is not None:
        assert [(s.action, s.state) for s in tree.trace.steps] == [(s.action, s.state) for s in flat.trace.steps]
        tree.trace.replay()


def test_symmetry_counts_and_the_mapped_back_trace_are_the_flat_stores():
    honest = Config(ring_size=32, producers=3, records=1, discard=True)
    assert _counts(_tree(honest, symmetry=True)) == _counts(_flat(honest, symmetry=True))
    cve = Config(variant="v5.13", consumer="adversarial", producers=2, records=1, sizes=(8, 16))
    tree, flat = _tree(cve, symmetry=True), _flat(cve, symmetry=True)
    assert _counts(tree) == _counts(flat) and tree.kind == "violated"
    tree.trace.replay()
    assert [s.action for s in tree.trace.steps] == [s.action for s in flat.trace.steps]


@pytest.mark.slow
def test_the_tree_store_takes_half_the_bytes_a_state_on_s64():
    cfg = Config(**STANDARD["honest/level/S64"])
    tree, flat = _tree(cfg), _flat(cfg)
    assert tree.stats.states == flat.stats.states == 4171760
    assert tree.stats.bytes_per_state < 0.5 * flat.stats.bytes_per_state


@dataclasses.dataclass
class WithMemory(Limits):
    max_memory: float | None = None


def test_limits_and_the_memory_bound_end_in_bounded_verdicts():
    cfg = Config(**STANDARD["honest/level/S32"])
    v = _tree(cfg, limits=Limits(max_states=5000))
    assert (v.kind, v.bound) == ("bounded", "max_states=5000") and v.stats.states >= 5000
    v = _tree(cfg, limits=Limits(max_depth=7))
    flat = _flat(cfg, limits=Limits(max_depth=7))
    assert (v.bound, v.stats.states, v.stats.transitions) == (flat.bound, flat.stats.states, flat.stats.transitions)
    limit_mb = engine._rss_bytes() / (1 << 20) + 15
    v = _tree(cfg, limits=WithMemory(max_memory=limit_mb))
    assert v.kind == "bounded" and v.bound == f"max_memory={limit_mb:.0f}MB"
    assert 0 < v.stats.states < 1148816


def test_a_tree_trace_that_does_not_replay_is_still_an_internal_error(monkeypatch):
    real = engine.decode
    calls = []

    def third_state_wrong(lay, words):
        calls.append(1)
        s = real(lay, words)
        return s._replace(lock=7) if len(calls) == 4 else s    # the root is decoded first

    monkeypatch.setattr(engine, "decode", third_state_wrong)
    with pytest.raises(engine.CompiledCoreError, match="no step of the model leads to step 3's state"):
        _tree(Config(**STANDARD["cve-2024-41009/v5.13"]))


def test_the_tree_store_keeps_no_action_codes(monkeypatch):
    made = []

    class Recorded(engine.Visited):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            made.append(self)

    monkeypatch.setattr(engine, "Visited", Recorded)
    v = _tree(Config(**STANDARD["cve-2024-41009/v5.13"]))
    assert v.kind == "violated" and len(v.trace.steps) == 10
    (roots,) = made
    assert (roots.nwords, roots.action.shape[0]) == (1, 0)
    assert roots.bytes_used(100) == 100 * 12 + roots.table.nbytes     # a root pair and a parent link


@pytest.mark.parametrize("name", [n for n in STANDARD if n.startswith("cve")] + [
    pytest.param("honest/level/S32", marks=pytest.mark.slow)])
@pytest.mark.parametrize("workers", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_threads_give_the_serial_tree_search(name, workers):
    cfg = Config(**STANDARD[name])
    serial = _tree(cfg)
    threaded = engine.run_compiled(Search.for_config(cfg), "bfs", workers, store="tree")
    assert _counts(threaded) == _counts(serial) and threaded.threads == min(workers, os.cpu_count())
    if serial.trace is not None:
        assert [(s.action, s.state) for s in threaded.trace.steps] == [(s.action, s.state) for s in serial.trace.steps]


def test_threads_under_symmetry_give_the_serial_tree_search():
    cfg = Config(ring_size=32, producers=3, records=1, discard=True)
    serial = _tree(cfg, symmetry=True)
    threaded = engine.run_compiled(Search.for_config(cfg, symmetry=True), "bfs", 2, store="tree")
    assert _counts(threaded) == _counts(serial)


def test_threads_at_the_limits_give_the_serial_tree_search():
    cfg = Config(**STANDARD["honest/level/S32"])
    for limits in (Limits(max_states=5000), Limits(max_depth=7)):
        serial = _tree(cfg, limits=limits)
        threaded = engine.run_compiled(Search.for_config(cfg, limits=limits), "bfs", 2, store="tree")
        assert (threaded.bound, threaded.stats.states, threaded.stats.transitions) == (
            serial.bound, serial.stats.states, serial.stats.transitions)


def test_dfs_on_the_tree_store_is_refused():
    with pytest.raises(engine.CompiledCoreError, match="strategy dfs"):
        engine.run_compiled(Search.for_config(Config()), "dfs", 1, store="tree")


@pytest.mark.parametrize("extra, message", [
    (["--engine", "python"], "store: --store tree is the compiled core's; drop --engine python"),
    (["--strategy", "dfs"], "store: the compiled core does not support --store tree with strategy dfs"),
    (["--strategy", "random"], "store: --store tree needs the compiled core, which does not support strategy random"),
    (["--workers", "2"], "--store tree: the distributed workers keep flat shards"),
])
def test_the_cli_refuses_the_tree_store_in_one_line(capsys, extra, message):
    from checker.cli import cli_entry

    assert cli_entry(["check", "--records", "1", "--store", "tree"] + extra) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_cli_runs_the_tree_store(capsys):
    import json

    from checker.cli import cli_entry

    argv = ["check", "--variant", "v5.13", "--consumer", "adversarial", "--hold", "2", "--json"]
    assert cli_entry(argv + ["--store", "tree"]) == 1
    tree = json.loads(capsys.readouterr().out)
    assert cli_entry(argv) == 1
    flat = json.loads(capsys.readouterr().out)
    assert tree["trace"] == flat["trace"] and tree["stats"]["states"] == flat["stats"]["states"]
    assert (tree["engine"], tree["store"]) == ("compiled", "tree") and "store" not in flat
    assert cli_entry(argv[:-1] + ["--store", "tree"]) == 1
    assert "(engine compiled, tree store)" in capsys.readouterr().out


def test_at_the_memory_bound_the_root_table_is_filled_to_nine_tenths(monkeypatch):
    monkeypatch.setattr(engine.Visited, "table_bytes_after_growth", lambda self, upto=None: 1 << 50)   # never fits
    cfg = Config(**STANDARD["honest/level/S32"])
    tree, flat = _tree(cfg), _flat(cfg)
    slots = 1 << 15                                       # the table both start with
    assert tree.kind == flat.kind == "bounded"
    assert tree.bound.startswith("max_memory=") and flat.bound.startswith("max_memory=")
    assert flat.stats.states <= 0.7 * slots < tree.stats.states <= 0.9 * slots

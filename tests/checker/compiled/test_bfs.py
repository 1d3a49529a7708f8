"""The grouped BFS kernel (``bfs.bfs_chunk``) stops and resumes as one state at a time would.

A group expands up to ``GROUP`` states before looking up their successors,
so a chunk budget or a capacity that ends inside a group could change where
a chunk stops; these tests hold the kernel to the per-state tree kernel's
stops (``tree_bfs`` is the same loop, one state at a time) and to itself
under any budget.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.compiled.bfs import (GROUP, S_CHUNK, S_DONE, S_FULL, ST_HEAD, ST_LEN, ST_LEVEL_END, ST_N,
                                  ST_TRANSITIONS, bfs_chunk)
from checker.compiled.layout import C_MAXSUCC, build_layout, encode
from checker.compiled.prefetch import prefetch
from checker.compiled.visited import Visited, find_or_insert
from model import Config
from model.ringbuf import RingBufModel

CFG = Config(variant="v6.10", ring_size=16, producers=2, records=1, sizes=(8,), discard=True)


def _start(capacity: int):
    model = RingBufModel(CFG)
    lay = build_layout(CFG, model.start)
    vis = Visited(lay.nwords, capacity)
    find_or_insert(vis.table, vis.states, 0, encode(lay, model.initial_states()[0]), vis.nwords)
    vis.parent[0] = -1
    st_ = np.zeros(ST_LEN, np.int64)
    st_[ST_N], st_[ST_HEAD], st_[ST_LEVEL_END] = 1, 0, 1
    return lay, vis, st_


def _run(capacity: int, budget: int):
    """Run chunks of ``budget`` states until done or full; the statuses, the counters and the states."""
    lay, vis, st_ = _start(capacity)
    statuses = []
    while True:
        status = bfs_chunk(lay.C, lay.FT, np.zeros(0, np.int64), vis.states, vis.parent, vis.action, vis.table,
                           vis.capacity, st_, budget, True, 0, 0, False)
        statuses.append(int(status))
        if status != S_CHUNK:
            break
        assert len(statuses) < 100_000
    n = int(st_[ST_N])
    return status, st_.copy(), vis.states[:n].copy(), vis.parent[:n].copy(), vis.action[:n].copy(), statuses


@pytest.fixture(scope="module")
def whole():
    return _run(1 << 20, 1 << 30)


@settings(max_examples=12, deadline=None)
@given(st.integers(1, 3 * GROUP))
def test_any_budget_gives_the_same_search(whole, budget):
    status, st_, states, parent, action, statuses = _run(1 << 20, budget)
    assert status == S_DONE == whole[0]
    assert st_[ST_N] == whole[1][ST_N] and st_[ST_TRANSITIONS] == whole[1][ST_TRANSITIONS]
    assert np.array_equal(states, whole[2]) and np.array_equal(parent, whole[3])
    assert np.array_equal(action, whole[4])
    assert len(statuses) >= st_[ST_N] // budget      # each chunk expanded at most its budget


def test_a_chunk_expands_exactly_its_budget(whole):
    # Budgets smaller than a group: each chunk stops after exactly that many states.
    lay, vis, st_ = _start(1 << 20)
    for budget in (1, 2, 3, GROUP - 1, GROUP + 1):
        head = int(st_[ST_HEAD])
        assert bfs_chunk(lay.C, lay.FT, np.zeros(0, np.int64), vis.states, vis.parent, vis.action, vis.table,
                         vis.capacity, st_, budget, True, 0, 0, False) == S_CHUNK
        assert st_[ST_HEAD] - head == budget


@settings(max_examples=10, deadline=None)
@given(st.integers(40, 400))
def test_a_full_store_stops_where_one_state_at_a_time_stops(whole, capacity):
    # The kernel stops full before a state whose successors might not fit: the stored states are
    # a prefix of the whole search's, and the next state would have needed more room than is left.
    status, st_, states, parent, _, _ = _run(capacity, 1 << 30)
    lay = build_layout(CFG, RingBufModel(CFG).start)
    cap = int(lay.C[C_MAXSUCC])
    n, head = int(st_[ST_N]), int(st_[ST_HEAD])
    if status == S_DONE:
        assert n == whole[1][ST_N]
        return
    assert status == S_FULL
    assert n + cap > capacity
    assert np.array_equal(states, whole[2][:n]) and np.array_equal(parent, whole[3][:n])
    # One state at a time: the state before ``head`` was expanded when its room was still there
    # (``before`` states were stored then: the root, parent -1, and those of the states before it).
    before = int(np.sum(whole[3][:n] < head - 1))
    assert before + cap <= capacity


def test_prefetch_changes_no_value():
    from numba import njit

    @njit
    def read_after_hint(a, b, i):
        prefetch(a, i)
        prefetch(b, i)
        return a[i] + b[i, 1]

    a = np.arange(10, dtype=np.int64)
    b = np.arange(20, dtype=np.int64).reshape(10, 2)
    assert read_after_hint(a, b, 7) == 7 + 15

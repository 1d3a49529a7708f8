"""The shard's insertion keeps, for every state of the level, the candidate with the smallest key,
whatever order the candidates arrive in: the reason the parents (and so the traces) are the serial BFS's."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.compiled.visited import table_size_for
from checker.distributed.kernels import COL_ACTION, COL_KEY, COL_PARENT, insert_batch

K = 1


def _insert(rows: np.ndarray, old: int, sources: list[int]) -> dict:
    """Insert ``rows`` (after ``old`` earlier-level states 1000+i) batch by batch; state -> (key, parent, action, src)."""
    cap = old + len(rows) + 1
    states = np.zeros((cap, K), np.int64)
    table = np.zeros(table_size_for(cap), np.int32)
    parent = np.zeros(cap, np.int32)
    action = np.zeros(cap, np.int32)
    pshard = np.zeros(cap, np.int16)
    key = np.zeros(cap, np.int64)
    flags = np.zeros(cap, np.int64)
    earlier = np.array([[1000 + i, 0, -1, 0, 0] for i in range(old)], np.int64).reshape(-1, K + 4)
    n = insert_batch(table, states, parent, action, pshard, key, flags, 0, 0, earlier, 9, K)
    level_lo = n
    for src, part in zip(sources, np.array_split(rows, len(sources))):
        n = insert_batch(table, states, parent, action, pshard, key, flags, n, level_lo, part, src, K)
    return {int(states[j, 0]): (int(key[j - level_lo]), int(parent[j]), int(action[j]))
            for j in range(level_lo, n)}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(990, 1012), st.integers(0, 10**6)), min_size=1, max_size=60,
                unique_by=lambda x: x[1]), st.randoms(use_true_random=False), st.integers(1, 4))
def test_the_smallest_key_wins_in_any_order(cands, rnd, nbatches):
    rows = np.array([[w, k, k % 97, k % 13, 0] for w, k in cands], np.int64)
    want = {}
    for w, k in sorted(cands, key=lambda x: x[1]):       # the serial BFS meets them in key order
        if w < 1000 or w >= 1005:                        # 1000..1004 are states of an earlier level
            want.setdefault(w, (k, k % 97, k % 13))
    shuffled = rows.copy()
    order = list(range(len(rows)))
    rnd.shuffle(order)
    shuffled = rows[order]
    assert _insert(rows, 5, list(range(nbatches))) == want
    assert _insert(shuffled, 5, list(range(nbatches))) == want
    assert COL_KEY == 0 and COL_PARENT == 1 and COL_ACTION == 2

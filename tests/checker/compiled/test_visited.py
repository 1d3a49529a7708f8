"""The visited set's tagged table: every stored state is found at its index, none is found twice."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.compiled.visited import (SHARD_BITS, find_hashed, find_or_insert, find_or_insert_hashed, hash_words,
                                      next_slot, rebuild, shard_mask, table_size_for)

K = 3


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(-2**63, 2**63 - 1), st.integers(0, 7), st.integers(0, 3)),
                min_size=1, max_size=400))
def test_insert_find_and_rebuild_agree_with_a_dict(rows):
    words = np.array(rows, dtype=np.int64)
    table = np.zeros(table_size_for(1), np.int32)       # 4,096 slots: tags of 19 bits
    states = np.empty((len(rows), K), np.int64)
    index: dict[tuple, int] = {}
    n = 0
    for w in words:
        got = find_or_insert(table, states, n, w, K)
        key = tuple(int(x) for x in w)
        assert got == index.get(key, -1)
        if got < 0:
            index[key] = n
            n += 1
    bigger = np.zeros(4 * table.shape[0], np.int32)
    rebuild(bigger, states, n, K)
    for key, i in index.items():
        w = np.array(key, dtype=np.int64)
        assert find_hashed(table, states, w, K, np.uint64(hash_words(w, K))) == i
        assert find_hashed(bigger, states, w, K, np.uint64(hash_words(w, K))) == i


def test_equal_tags_fall_back_to_comparing_the_words():
    # Two states forced onto the same slot and tag (same given hash) are still told apart.
    table = np.zeros(1 << 12, np.int32)
    states = np.empty((2, K), np.int64)
    a, b = np.array([1, 2, 3], np.int64), np.array([1, 2, 4], np.int64)
    h = np.uint64(12345)
    assert find_or_insert_hashed(table, states, 0, a, K, h) == -1
    assert find_or_insert_hashed(table, states, 1, b, K, h) == -1
    assert find_hashed(table, states, a, K, h) == 0
    assert find_hashed(table, states, b, K, h) == 1
    assert find_hashed(table, states, np.array([9, 9, 9], np.int64), K, h) == -1


def test_a_probe_wraps_around_inside_its_shard():
    # Three states hashed to the last slot of shard 0: the second and third wrap to shard 0's
    # first slots, not into shard 1, and all three are still found.
    table = np.zeros(1 << 12, np.int32)
    smask = shard_mask(table)
    assert smask + 1 == table.shape[0] >> SHARD_BITS
    states = np.empty((3, K), np.int64)
    h = np.uint64(smask)
    rows = [np.array([i, 0, 0], np.int64) for i in range(3)]
    for n, w in enumerate(rows):
        assert find_or_insert_hashed(table, states, n, w, K, h) == -1
    assert np.flatnonzero(table).tolist() == [0, 1, smask]
    for n, w in enumerate(rows):
        assert find_hashed(table, states, w, K, h) == n


@settings(max_examples=50, deadline=None)
@given(st.integers(0, (1 << 20) - 1))
def test_next_slot_stays_in_the_shard(i):
    smask = (1 << 20 >> SHARD_BITS) - 1
    j = next_slot(i, smask)
    assert j & ~smask == i & ~smask
    assert j & smask == ((i & smask) + 1) % (smask + 1)


def test_growing_the_table_counts_only_the_difference_and_keeps_every_state():
    """The old table is let go before the new one is made, so growth costs the difference of the two."""
    import numpy as np

    from checker.compiled.visited import Visited, find_or_insert, table_size_for

    vis = Visited(2, 5000)
    for i in range(3000):
        assert find_or_insert(vis.table, vis.states, i, np.array([i, 7 * i], np.int64), 2) == -1
    old = vis.table.nbytes
    assert vis.table_bytes_after_growth() == old                       # doubled: 2 * old - old
    upto = 4 * vis.table.shape[0]
    assert vis.table_bytes_after_growth(upto) == 4 * table_size_for(upto) - old
    vis.grow_table(3000, upto)
    assert vis.table.nbytes == 4 * table_size_for(upto)
    for i in range(3000):
        assert find_or_insert(vis.table, vis.states, 3000, np.array([i, 7 * i], np.int64), 2) == i

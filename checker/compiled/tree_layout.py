"""Which tree the tree store uses for a configuration: picked from a pilot search's states.

The pool holds one entry per distinct value of each inner node, so a good
tree puts together the words that vary together. On S=64 P=3 E=2 (7 words)
the plain halves (words 0-3 | 4-6) give 0.30 pool entries a state after 5M
states, and the tree picked here ((0, (5, 6)) | ((1, 2), (3, 4))) 0.07.

The pick: run the flat BFS for its first ``PILOT_STATES`` states (no
property is judged), then split the words top-down. The root's two halves
are the partition of all words with the fewest distinct values on both
sides; each half with more than two words is split again the same way,
counting only halves of two words or more (a single word is a leaf and
costs no entry). Groups of more than ``EXHAUSTIVE_WORDS`` words are split in
contiguous halves instead. The shape only decides where the bytes go:
the states, counts and traces are the same for every shape (tested).
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from checker.compiled.bfs import S_CHUNK, ST_HEAD, ST_LEN, ST_LEVEL_END, ST_N, bfs_chunk
from checker.compiled.layout import C_MAXSUCC, Layout
from checker.compiled.tree import halves
from checker.compiled.visited import Visited, find_or_insert, table_size_for

PILOT_STATES = 100_000
EXHAUSTIVE_WORDS = 8


def pilot_states(lay: Layout, root_words: np.ndarray, symmetric: bool, n: int = PILOT_STATES) -> np.ndarray:
    """The packed words of the first (at most) ``n`` states of the flat BFS from ``root_words``."""
    cap = int(lay.C[C_MAXSUCC])
    vis = Visited(lay.nwords, n + cap + 1)
    vis.table = np.zeros(table_size_for(n + 2 * cap), dtype=np.int32)
    find_or_insert(vis.table, vis.states, 0, root_words, lay.nwords)
    vis.parent[0] = -1
    st = np.zeros(ST_LEN, dtype=np.int64)
    st[ST_N], st[ST_HEAD], st[ST_LEVEL_END] = 1, 0, 1
    status = S_CHUNK
    while status == S_CHUNK:
        status = bfs_chunk(lay.C, lay.FT, np.zeros(0, np.int64), vis.states, vis.parent, vis.action, vis.table,
                           vis.capacity, st, 1 << 20, False, 0, n, symmetric)
    return vis.states[:int(st[ST_N])].copy()


def _mixed(sample: np.ndarray, cols: tuple[int, ...]) -> np.ndarray:
    """One 64-bit hash per row of the words ``cols``."""
    x = np.full(sample.shape[0], 0x9E3779B97F4A7C15, dtype=np.uint64)
    for c in cols:
        x ^= sample[:, c].astype(np.uint64)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(31)
    return x


def choose_shape(sample: np.ndarray) -> object:
    """A tree over the words of ``sample`` (rows: packed states) with few distinct inner nodes."""
    words = sample.shape[1]
    if words < 2:
        sample = np.concatenate([sample, np.zeros((sample.shape[0], 2 - words), dtype=sample.dtype)], axis=1)
        words = 2

    @lru_cache(maxsize=None)
    def distinct(cols: tuple[int, ...]) -> int:
        return len(np.unique(_mixed(sample, cols)))

    def cost(group: tuple[int, ...], counted_alone: bool) -> int:
        return distinct(group) if len(group) > 1 or counted_alone else 0

    def split(group: tuple[int, ...], under_root: bool) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if len(group) > EXHAUSTIVE_WORDS:
            mid = (len(group) + 1) // 2
            return group[:mid], group[mid:]
        first, rest = group[0], group[1:]
        best = None
        for r in range(len(rest)):
            for others in itertools.combinations(rest, r):
                a = (first,) + others
                b = tuple(w for w in group if w not in a)
                c = cost(a, under_root) + cost(b, under_root)
                if best is None or c < best[0]:
                    best = (c, a, b)
        return best[1], best[2]

    def tree(group: tuple[int, ...]) -> object:
        if len(group) == 1:
            return group[0]
        if len(group) > EXHAUSTIVE_WORDS:
            return halves_of(group)
        a, b = split(group, False)
        return (tree(a), tree(b))

    def halves_of(group: tuple[int, ...]) -> object:
        shape = halves(0, len(group))

        def rename(t: object) -> object:
            return group[t] if isinstance(t, int) else (rename(t[0]), rename(t[1]))
        return rename(shape)

    a, b = split(tuple(range(words)), True)
    return (tree(a), tree(b))

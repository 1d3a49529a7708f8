"""The tree store (``--store tree``): each state kept as one 8-byte pair of node ids.

The flat store keeps every packed state whole, ``nwords`` 64-bit words
(7 for S=64 P=3 E=2, plus its parent and action: 64 bytes a state). Most of
those words repeat across millions of states: a producer's locals, the
records, the consumer change independently of each other. The tree store
shares them. The packed words are the leaves of a fixed binary tree (its
shape chosen per configuration, ``tree_layout``); every inner node is a
pair ``(left, right)`` of 64-bit values, a leaf word or the id of a child
node, kept once in a *pool* of distinct pairs (a flat store of 2-word
"states" with its own hash table, ``visited``). A state is then the ids of
the root's two children, ``left | right << 32``, stored in a one-word flat
store with the parent links (no action codes: ``engine`` finds each step
of a trace again). The idea is Laarman, van de Pol and Weber's tree
compression (LTSmin, 2011); this is our own code.

It is lossless: a stored state is decoded by walking the tree down from
its root pair, and the search, its counts and its traces are the flat
store's (tests/checker/compiled/test_tree.py). It costs more lookups (one
per changed inner node) and saves memory.

``NODES`` has one row per inner node, children before parents (so the
reverse order walks down): the codes of its left and right child. A child
code ``c >= 0`` is node c, ``c < 0`` is leaf word ``-c - 1``, and ``ZERO``
is the constant 0 that pairs with a single word when the root's half is
one word. ``ROOT`` holds the root's two children, both nodes.
"""

from __future__ import annotations

import numpy as np

from checker.compiled.jit import hot
from checker.compiled.visited import (LOAD_DEN, LOAD_NUM, find_hashed, find_or_insert, hash_words, rebuild,
                                      table_size_for)

N_LEFT, N_RIGHT = range(2)
ZERO = -(1 << 20)
"""Child code of the constant 0 (the right half of a one-word node under the root)."""
ID_BITS = 31
"""A node id takes at most 31 bits, so a root pair fits one int64 with both ids non-negative."""

Shape = "int | tuple[Shape, Shape]"
"""A tree over word indices: a word, or a pair of trees (``tree_layout.choose_shape`` picks one)."""


def halves(lo: int, hi: int) -> object:
    """The balanced tree over words lo .. hi-1, split in halves (the left one the larger)."""
    if hi - lo == 1:
        return lo
    mid = (lo + hi + 1) // 2
    return (halves(lo, mid), halves(mid, hi))


def tree_shape(nwords: int, shape: object = None) -> tuple[np.ndarray, np.ndarray, int]:
    """``(NODES, ROOT, leaves)`` for ``nwords`` packed words arranged as ``shape`` (default: halves).

    ``leaves`` = max(nwords, 2): a missing second word is 0. ``shape`` must
    be a pair of trees using every word below ``leaves`` once.
    """
    leaves = max(nwords, 2)
    if shape is None:
        shape = halves(0, leaves)
    rows: list[tuple[int, int]] = []
    used: list[int] = []

    def build(t: object, under_root: bool) -> int:
        if isinstance(t, int):
            used.append(t)
            if not under_root:
                return -t - 1
            rows.append((-t - 1, ZERO))
            return len(rows) - 1
        left, right = build(t[0], False), build(t[1], False)
        rows.append((left, right))
        return len(rows) - 1

    if isinstance(shape, int):
        raise ValueError("a tree shape's root must be a pair")
    root = (build(shape[0], True), build(shape[1], True))
    if sorted(used) != list(range(leaves)):
        raise ValueError(f"a tree shape must use each of words 0..{leaves - 1} once, not {sorted(used)}")
    return np.array(rows, dtype=np.int64), np.array(root, dtype=np.int64), leaves


@hot(inline="always")
def _child_value(code, W, ID):
    if code == ZERO:
        return np.int64(0)
    if code < 0:
        return W[-code - 1]
    return ID[code]


@hot
def decode_key(NODES, ROOT, key, pool, W, ID):
    """Write the packed words of the state with root pair ``key`` into ``W`` and its node ids into ``ID``."""
    ID[ROOT[0]] = key & 0xFFFFFFFF
    ID[ROOT[1]] = key >> 32
    for j in range(NODES.shape[0] - 1, -1, -1):
        i = ID[j]
        for side in range(2):
            code = NODES[j, side]
            v = pool[i, side]
            if code >= 0:
                ID[code] = v
            elif code != ZERO:
                W[-code - 1] = v


@hot(inline="always")
def _child_changed(code, W, before, CH):
    if code == ZERO:
        return False
    if code < 0:
        return W[-code - 1] != before[-code - 1]
    return CH[code]


@hot
def encode_key(NODES, ROOT, W, before, before_id, ID, CH, pair, pool, ptable, pst):
    """The root pair of packed words ``W``, entering new inner nodes into the pool.

    ``before`` and ``before_id`` are the words and node ids of a state
    already stored (the parent): a node none of whose words differ from the
    parent's has the parent's id, and only the others are looked up. Pass
    ``before_id`` with a negative first entry to look every node up.
    ``pst[0]`` is the pool's count; returns -1 (and enters nothing more)
    when a node id would not fit ``ID_BITS``.
    """
    fresh = before_id[0] < 0
    for j in range(NODES.shape[0]):
        left, right = NODES[j, N_LEFT], NODES[j, N_RIGHT]
        changed = fresh or _child_changed(left, W, before, CH) or _child_changed(right, W, before, CH)
        CH[j] = changed
        if not changed:
            ID[j] = before_id[j]
            continue
        pair[0] = _child_value(left, W, ID)
        pair[1] = _child_value(right, W, ID)
        n = pst[0]
        found = find_or_insert(ptable, pool, n, pair, 2)
        if found >= 0:
            ID[j] = found
        else:
            if n >= (1 << ID_BITS) - 1:
                return -1
            ID[j] = n
            pst[0] = n + 1
    return ID[ROOT[0]] | (ID[ROOT[1]] << 32)


@hot(nogil=True)
def find_key(NODES, ROOT, W, before, before_id, ID, CH, pair, pool, ptable):
    """``encode_key`` that enters nothing: the root pair of ``W`` if all its nodes are stored, else -1.

    Reads only, so threads may share the pool (``tree_parallel``). A node not
    in the pool means the state was never stored.
    """
    for j in range(NODES.shape[0]):
        left, right = NODES[j, N_LEFT], NODES[j, N_RIGHT]
        changed = _child_changed(left, W, before, CH) or _child_changed(right, W, before, CH)
        CH[j] = changed
        if not changed:
            ID[j] = before_id[j]
            continue
        pair[0] = _child_value(left, W, ID)
        pair[1] = _child_value(right, W, ID)
        found = find_hashed(ptable, pool, pair, 2, hash_words(pair, 2))
        if found < 0:
            return -1
        ID[j] = found
    return ID[ROOT[0]] | (ID[ROOT[1]] << 32)


class TreeStore:
    """The pool of inner nodes and the tree's shape; the root pairs live in a one-word ``Visited``.

    The pool's count is kept by the search (``bfs.ST_POOL``), as the number
    of states is; the methods that need it take it.
    """

    def __init__(self, nwords: int, pool_capacity: int, shape: object = None) -> None:
        self.nwords = nwords
        self.shape = shape
        self.NODES, self.ROOT, self.leaves = tree_shape(nwords, shape)
        self.pool_capacity = pool_capacity
        self.pool = np.empty((pool_capacity, 2), dtype=np.int64)
        self.ptable = np.zeros(table_size_for(1 << 14), dtype=np.int32)

    def key_of(self, words: np.ndarray, st_pool: np.ndarray) -> int:
        """The root pair of ``words`` (a state's packed words), entering its nodes; ``st_pool`` is ``st[ST_POOL:]``."""
        nn = self.NODES.shape[0]
        w = np.zeros(self.leaves, dtype=np.int64)
        w[:self.nwords] = words
        key = encode_key(self.NODES, self.ROOT, w, w, np.full(nn, -1, np.int64), np.zeros(nn, np.int64),
                         np.zeros(nn, np.bool_), np.zeros(2, np.int64), self.pool, self.ptable, st_pool)
        if key < 0:
            raise OverflowError("the tree store's pool is full")
        return int(key)

    def words_of(self, key: int) -> np.ndarray:
        """The packed words of the state whose root pair is ``key``."""
        w = np.zeros(self.leaves, dtype=np.int64)
        decode_key(self.NODES, self.ROOT, np.int64(key), self.pool, w, np.zeros(self.NODES.shape[0], np.int64))
        return w[:self.nwords]

    def room_for(self, n_pool: int) -> bool:
        return n_pool * LOAD_DEN <= self.ptable.shape[0] * LOAD_NUM

    def grow_table(self, n_pool: int, upto: int) -> None:
        """Rebuild the pool's table at a size that holds ``upto`` nodes (the old one let go first)."""
        size = table_size_for(upto)
        self.ptable = None
        self.ptable = np.zeros(size, dtype=np.int32)
        rebuild(self.ptable, self.pool, n_pool, 2)

    def bytes_used(self, n_pool: int) -> int:
        """Bytes the pool occupies for ``n_pool`` nodes (its table as allocated)."""
        return 16 * n_pool + self.ptable.nbytes

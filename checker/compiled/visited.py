"""The visited set: packed states in one flat array, found through an open-addressing table.

``states[i]`` is the i-th distinct state found (its ``nwords`` words),
``parent[i]`` the index of the state it was first reached from (-1 for the
initial state) and ``action[i]`` the action code that led to it, so a trace
is read back by following parent links. ``table`` is a power-of-two array of
indices + 1 (0 = empty), probed linearly from the state's hash; it is rebuilt
at twice the size when it is 70% full. No Python object exists per state.

The three per-state arrays are allocated once at their full capacity with
``np.empty``: the operating system maps their pages only when they are
written, so an unused capacity costs address space, not memory, and they are
never copied.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOAD_NUM, LOAD_DEN = 7, 10
"""The table is grown before more than 7/10 of its entries are used."""


@njit(cache=True, inline="always")
def hash_words(w, K):
    """A 64-bit mix of K words (splitmix-style multiply and shift)."""
    h = np.uint64(0x9E3779B97F4A7C15)
    for i in range(K):
        h ^= np.uint64(w[i])
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
    return h


@njit(cache=True)
def find_or_insert(table, states, n, w, K):
    """The index of state ``w`` if already stored; else store it at index ``n`` and return -1."""
    mask = np.uint64(table.shape[0] - 1)
    i = np.int64(hash_words(w, K) & mask)
    tmask = table.shape[0] - 1
    while True:
        j = table[i] - 1
        if j < 0:
            table[i] = n + 1
            for k in range(K):
                states[n, k] = w[k]
            return -1
        same = True
        for k in range(K):
            if states[j, k] != w[k]:
                same = False
                break
        if same:
            return j
        i = (i + 1) & tmask


@njit(cache=True)
def rebuild(table, states, n, K):
    """Enter states 0 .. n-1 into the (empty) ``table``."""
    tmask = table.shape[0] - 1
    mask = np.uint64(tmask)
    for j in range(n):
        i = np.int64(hash_words(states[j], K) & mask)
        while table[i] != 0:
            i = (i + 1) & tmask
        table[i] = j + 1


def table_size_for(n: int) -> int:
    """The smallest power of two that holds ``n`` entries within the load limit."""
    size = 1 << 12
    while size * LOAD_NUM < n * LOAD_DEN:
        size *= 2
    return size


class Visited:
    """The visited set with its parent links; grown by the driver between compiled chunks."""

    def __init__(self, nwords: int, capacity: int) -> None:
        self.nwords = nwords
        self.capacity = capacity
        self.states = np.empty((capacity, nwords), dtype=np.int64)
        self.parent = np.empty(capacity, dtype=np.int32)
        self.action = np.empty(capacity, dtype=np.int32)
        self.table = np.zeros(table_size_for(1 << 14), dtype=np.int32)

    def room_for(self, n: int) -> bool:
        """True when ``n`` states fit the table's load limit."""
        return n * LOAD_DEN <= self.table.shape[0] * LOAD_NUM

    def grow_table(self, n: int, upto: int) -> None:
        """Rebuild the table at a size that holds ``upto`` states."""
        self.table = np.zeros(table_size_for(upto), dtype=np.int32)
        rebuild(self.table, self.states, n, self.nwords)

    def bytes_used(self, n: int) -> int:
        """Bytes the visited set occupies for ``n`` states (the table as allocated)."""
        return n * (8 * self.nwords + 8) + self.table.nbytes

    def table_bytes_after_growth(self) -> int:
        return 2 * self.table.nbytes

"""The visited set: packed states in one flat array, found through an open-addressing table.

``states[i]`` is the i-th distinct state found (its ``nwords`` words),
``parent[i]`` the index of the state it was first reached from (-1 for the
initial state) and ``action[i]`` the action code that led to it, so a trace
is read back by following parent links. ``table`` is a power-of-two array of
int32 entries, probed linearly from the state's hash; it is rebuilt at twice
the size when it is 70% full. No Python object exists per state.

An entry of a table of 2**k slots holds index + 1 in its low k bits (0 =
empty; the load limit keeps every index below 2**k) and, in the bits above,
a *tag*: the hash bits just above the k that chose the slot. A probe compares
a stored state's words only when the tags agree, so looking up a new state
rarely touches the states array (the random read there is what a lookup
costs); with 2**21 slots the tag has 10 bits, with 2**28 still 3.

The table is cut into ``2**SHARD_BITS`` equal shards by the top bits of the
slot a hash chooses, and a probe wraps around inside its shard, not the
whole table. Which states are stored does not change; what it buys is that
threads may insert into different shards at once without locks
(``parallel.py``). Every shard stays below the load limit with the table,
give or take the square root of its entries.

The three per-state arrays are allocated once at their full capacity with
``np.empty``: the operating system maps their pages only when they are
written, so an unused capacity costs address space, not memory, and they are
never copied.
"""

from __future__ import annotations

import numpy as np

from checker.compiled.jit import hot
from checker.compiled.prefetch import prefetch

LOAD_NUM, LOAD_DEN = 7, 10
"""The table is grown before more than 7/10 of its entries are used."""
REBUILD_AHEAD = 16
"""``rebuild`` prefetches the slot of the state this many ahead of the one it enters."""
SHARD_BITS = 3
"""The table has 2**3 shards; its smallest size, 2**12 slots, gives each 512."""


@hot(inline="always")
def hash_words(w, K):
    """A 64-bit mix of K words (multiply and xor-shift per word, then a final avalanche)."""
    h = np.uint64(0x9E3779B97F4A7C15)
    for i in range(K):
        h ^= np.uint64(w[i])
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(29)
    return h


@hot(inline="always")
def slot_bits(table):
    """k for a table of 2**k entries."""
    k = 0
    while (1 << k) < table.shape[0]:
        k += 1
    return k


@hot(inline="always")
def tag_of(h, k):
    """The tag of hash ``h`` in a table of 2**k slots, already shifted into place (31 - k bits)."""
    if k >= 31:
        return np.int64(0)
    return np.int64((h >> np.uint64(k)) & np.uint64((1 << (31 - k)) - 1)) << k


@hot(inline="always")
def prefetch_slot(table, h):
    """Hint the table slot a probe for hash ``h`` starts at (see ``prefetch``)."""
    prefetch(table, np.int64(h & np.uint64(table.shape[0] - 1)))


@hot(inline="always")
def prefetch_first_probe(table, states, h, k):
    """Hint the stored state a probe for hash ``h`` compares first, if its slot's tag agrees (2**k slots)."""
    e = np.int64(table[np.int64(h & np.uint64(table.shape[0] - 1))])
    imask = (1 << k) - 1
    if e > 0 and (e & ~imask) == tag_of(h, k):
        prefetch(states, (e & imask) - 1)


@hot(inline="always")
def shard_mask(table):
    """The mask of a slot's offset inside its shard."""
    return (table.shape[0] >> SHARD_BITS) - 1


@hot(inline="always")
def next_slot(i, smask):
    """The slot a probe tries after ``i``: the next one, wrapping around inside i's shard."""
    return (i & ~smask) | ((i + 1) & smask)


@hot(inline="always")
def _same(states, j, w, K):
    for k in range(K):
        if states[j, k] != w[k]:
            return False
    return True


@hot
def find_hashed(table, states, w, K, h):
    """The index of state ``w`` (hash ``h``) if stored, else -1; reads only, so threads may share it."""
    k = slot_bits(table)
    tmask = table.shape[0] - 1
    smask = shard_mask(table)
    imask = (1 << k) - 1
    tag = tag_of(h, k)
    i = np.int64(h & np.uint64(tmask))
    while True:
        e = np.int64(table[i])
        if e == 0:
            return -1
        if (e & ~imask) == tag:
            j = (e & imask) - 1
            if _same(states, j, w, K):
                return j
        i = next_slot(i, smask)


@hot
def find_or_insert_hashed(table, states, n, w, K, h):
    """``find_or_insert`` with the hash ``h`` of ``w`` already computed."""
    k = slot_bits(table)
    tmask = table.shape[0] - 1
    smask = shard_mask(table)
    imask = (1 << k) - 1
    tag = tag_of(h, k)
    i = np.int64(h & np.uint64(tmask))
    while True:
        e = np.int64(table[i])
        if e == 0:
            table[i] = tag | (n + 1)
            for x in range(K):
                states[n, x] = w[x]
            return -1
        if (e & ~imask) == tag:
            j = (e & imask) - 1
            if _same(states, j, w, K):
                return j
        i = next_slot(i, smask)


@hot
def find_or_insert(table, states, n, w, K):
    """The index of state ``w`` if already stored; else store it at index ``n`` and return -1."""
    return find_or_insert_hashed(table, states, n, w, K, hash_words(w, K))


@hot
def rebuild(table, states, n, K):
    """Enter states 0 .. n-1 into the (empty) ``table``."""
    k = slot_bits(table)
    tmask = table.shape[0] - 1
    smask = shard_mask(table)
    for j in range(n):
        if j + REBUILD_AHEAD < n:         # the slot a later state will take, so that the writes overlap
            prefetch(table, np.int64(hash_words(states[j + REBUILD_AHEAD], K) & np.uint64(tmask)))
        h = hash_words(states[j], K)
        i = np.int64(h & np.uint64(tmask))
        while table[i] != 0:
            i = next_slot(i, smask)
        table[i] = tag_of(h, k) | (j + 1)


def table_size_for(n: int) -> int:
    """The smallest power of two that holds ``n`` entries within the load limit."""
    size = 1 << 12
    while size * LOAD_NUM < n * LOAD_DEN:
        size *= 2
    return size


class Visited:
    """The visited set with its parent links; grown by the driver between compiled chunks."""

    def __init__(self, nwords: int, capacity: int, actions: bool = True) -> None:
        """``actions=False`` keeps no action codes (the tree store finds them again from the parents)."""
        self.nwords = nwords
        self.capacity = capacity
        self.states = np.empty((capacity, nwords), dtype=np.int64)
        self.parent = np.empty(capacity, dtype=np.int32)
        self.action = np.empty(capacity if actions else 0, dtype=np.int32)
        self.table = np.zeros(table_size_for(1 << 14), dtype=np.int32)

    def room_for(self, n: int) -> bool:
        """True when ``n`` states fit the table's load limit."""
        return n * LOAD_DEN <= self.table.shape[0] * LOAD_NUM

    def grow_table(self, n: int, upto: int) -> None:
        """Rebuild the table at a size that holds ``upto`` states.

        The old table is let go first: the new one is filled from the
        states, so growing never holds both (at the memory bound the old
        one can be a third of what the run holds).
        """
        size = table_size_for(upto)
        self.table = None
        self.table = np.zeros(size, dtype=np.int32)
        rebuild(self.table, self.states, n, self.nwords)

    def bytes_used(self, n: int) -> int:
        """Bytes the visited set occupies for ``n`` states (the table as allocated)."""
        return n * (8 * self.nwords + 4 + (4 if self.action.shape[0] else 0)) + self.table.nbytes

    def table_bytes_after_growth(self, upto: int | None = None) -> int:
        """What the process grows by when the table is rebuilt for ``upto`` states (default: doubled).

        The old table is let go first, so it is the difference of the two.
        """
        new = 2 * self.table.nbytes if upto is None else 4 * table_size_for(upto)
        return max(0, new - self.table.nbytes)

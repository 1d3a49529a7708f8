"""The compiled parts of a shard: expand a block of its frontier, insert a batch of candidates.

A *candidate* is one successor on its way to its owner, one int64 row:
the packed words, then its key, the index of its parent in the sending
shard, the action code and its flags (bit 0 terminal, bits 8.. the
property it violates + 1, 0 for none). The key orders candidates as the
serial BFS meets them: ``rank of the parent in its level * MAXSUCC +
successor index``. A shard keeps, for every state of the level being
built, the smallest key it was reached with and the parent and action of
that candidate; so whatever order the batches arrive in, each state ends
with the parent the serial BFS gives it, and the first violation (smallest
key) is the one the serial BFS stops at, with the same shortest trace.
"""

from __future__ import annotations

import numpy as np

from checker.compiled.jit import kernel
from checker.compiled.layout import C_MAXSUCC, C_NFLAT, C_NWORDS, C_P, pack_changed, unpack
from checker.compiled.predicates import first_violated
from checker.compiled.steps import is_terminal, successors
from checker.compiled.symmetry import canonicalize
from checker.compiled.visited import find_or_insert, hash_words

COL_KEY, COL_PARENT, COL_ACTION, COL_FLAGS = 0, 1, 2, 3
"""Columns after the packed words (offset by nwords) in a candidate row."""
EXTRA_COLUMNS = 4


@kernel(inline="always")
def owner_of(w, K, nshards):
    """The shard that owns packed state ``w``: high bits of a second mix of its hash.

    The visited table probes from the hash's low bits; taking the owner
    from the same low bits would leave each shard's table using a fraction
    of its slots.
    """
    h = hash_words(w, K) * np.uint64(0x94D049BB133111EB)
    return np.int64((h >> np.uint64(33)) % np.uint64(nshards))


@kernel
def expand_block(C, FT, props, states, lo, hi, ranks, rank_lo, nshards, symmetric, check_deadlock,
                 cand, owners, counts):
    """Expand states lo..hi-1 into ``cand`` rows (owner in ``owners``).

    ``ranks[s - rank_lo]`` is state s's rank in its level; ``counts[s - lo]``
    gets its number of successors. Returns (candidates written, the lowest
    rank of a deadlocked state or -1, a state whose successor does not fit
    the layout or -1).
    """
    K = C[C_NWORDS]
    nf = C[C_NFLAT]
    cap = C[C_MAXSUCC]
    F = np.zeros(nf, np.int64)
    T = np.zeros(nf, np.int64)
    OUT = np.zeros((cap, nf), np.int64)
    ACT = np.zeros(cap, np.int64)
    CAN = np.zeros(nf, np.int64)
    order = np.zeros(C[C_P], np.int64)
    new_index = np.zeros(C[C_P], np.int64)
    W = np.zeros(K, np.int64)
    c = 0
    deadlock = -1
    for s in range(lo, hi):
        rank = ranks[s - rank_lo]
        unpack(C, FT, states[s], F)
        m = successors(C, F, OUT, ACT, T)
        if m < 0:
            return c, deadlock, s
        counts[s - lo] = m
        if m == 0 and check_deadlock and not is_terminal(C, F):
            if deadlock < 0 or rank < deadlock:
                deadlock = rank
            continue
        for i in range(m):
            t = OUT[i]
            if symmetric:
                canonicalize(C, OUT[i], CAN, order, new_index)
                t = CAN
            inputs = pack_changed(C, FT, F, states[s], t, W)
            if inputs < 0:
                return c, deadlock, s
            terminal = is_terminal(C, t)
            p = -1 if not terminal and inputs == 0 else first_violated(C, t, terminal, props)
            for k in range(K):
                cand[c, k] = W[k]
            cand[c, K + COL_KEY] = rank * cap + i
            cand[c, K + COL_PARENT] = s
            cand[c, K + COL_ACTION] = ACT[i]
            cand[c, K + COL_FLAGS] = (1 if terminal else 0) | ((p + 1) << 8)
            owners[c] = owner_of(W, K, nshards)
            c += 1
    return c, deadlock, -1


@kernel
def insert_batch(table, states, parent, action, parent_shard, level_key, level_flags, n, level_lo,
                 cand, source, K):
    """Insert the candidate rows of ``cand`` (sent by shard ``source``); the new number of states.

    A state first seen gets index n; one already found in this level
    (index >= level_lo) takes this candidate's parent, action and flags if
    its key is smaller; one of an earlier level is left alone. The caller
    has made room: capacity, table load and the level arrays.
    """
    for r in range(cand.shape[0]):
        w = cand[r, :K]
        key = cand[r, K + COL_KEY]
        j = find_or_insert(table, states, n, w, K)
        if j < 0:
            j = n
            n += 1
        elif j < level_lo or level_key[j - level_lo] <= key:
            continue
        parent[j] = cand[r, K + COL_PARENT]
        action[j] = cand[r, K + COL_ACTION]
        parent_shard[j] = source
        level_key[j - level_lo] = key
        level_flags[j - level_lo] = cand[r, K + COL_FLAGS]
    return n


@kernel
def root_check(C, props, F):
    """(first property violated in the initial state or -1, whether it is terminal)."""
    terminal = is_terminal(C, F)
    return first_violated(C, F, terminal, props), terminal

"""The tree store's BFS on several threads (``--store tree --threads N``): ``parallel.py`` for root pairs.

A block of a BFS level goes through two phases:

1. *expand*, in pieces taken by whichever worker is free (the Buffers of
   ``parallel``): every state is decoded from its tree, its successors are
   computed, canonicalized and packed, and looked up without entering
   anything (``tree.find_key``, then the root table): a successor whose
   nodes are all in the pool and whose root pair is stored is marked and
   costs nothing more, and the others are judged by the properties. No
   thread writes the pool or the table in this phase.
2. *store*, in one thread: in frontier and successor order, each unmarked
   candidate's nodes enter the pool (``tree.encode_key``, from its parent's
   nodes kept by phase 1) and its root pair the table; a root pair already
   there is a duplicate inside the block, as the serial search would find
   it. The others become states n, n + 1, ... with their parents.

So the states, their indices, counts and traces are the serial tree
search's (``tree_bfs``), and the flat store's. Phase 2 does the pool's
inserts, and on 2 cores it is most of the work: measured, two threads are
no faster than one (benchmarks/bench_store.py, README). Entering the pool
by shards, as ``parallel`` claims the table, is the step that would change
that.
"""

from __future__ import annotations

import numpy as np

from checker.compiled.bfs import (S_CHUNK, S_DEADLOCK, S_FULL, S_GROW, S_GROW_POOL, S_OVERFLOW, S_VIOLATED,
                                  ST_BAD, ST_DEPTH, ST_HEAD, ST_LEVEL_END, ST_MAX_DEPTH_SEEN, ST_N, ST_POOL, ST_PROP, ST_TERMINAL, ST_TRANSITIONS)
from checker.compiled.jit import hot, kernel
from checker.compiled.layout import C_MAXSUCC, C_NFLAT, C_P, pack_changed, unpack
from checker.compiled.parallel import F_STORED, F_TERMINAL, PIECE, Buffers, next_level
from checker.compiled.predicates import first_violated
from checker.compiled.steps import is_terminal, successors
from checker.compiled.symmetry import canonicalize
from checker.compiled.tree import decode_key, encode_key, find_key
from checker.compiled.visited import LOAD_DEN, LOAD_NUM, find_hashed, find_or_insert, hash_words


@kernel(nogil=True)
def _expand_tree_range(C, FT, props, NODES, ROOT, roots, table, pool, ptable, lo, hi, base, symmetric,
                       check_deadlock, words, acts, flags, counts, pws, pids):
    """Expand states lo..hi-1 into rows (state - base) of the candidate buffers; keep each one's words and ids."""
    nf = C[C_NFLAT]
    cap = C[C_MAXSUCC]
    nn = NODES.shape[0]
    _expand_tree_range_into(C, FT, props, NODES, ROOT, roots, table, pool, ptable, lo, hi, base, symmetric,
                            check_deadlock, words, acts, flags, counts, pws, pids, np.empty(nf, np.int64),
                            np.empty((cap, nf), np.int64), np.empty(cap, np.int64), np.empty(nf, np.int64),
                            np.empty(C[C_P], np.int64), np.empty(C[C_P], np.int64), np.empty(nn, np.int64),
                            np.empty(nn, np.bool_), np.empty(2, np.int64), np.empty(1, np.int64))


@hot(nogil=True)
def _expand_tree_range_into(C, FT, props, NODES, ROOT, roots, table, pool, ptable, lo, hi, base, symmetric,
                            check_deadlock, words, acts, flags, counts, pws, pids, F, OUT, ACT, CAN, order,
                            new_index, ID, CH, pair, key):
    """``_expand_tree_range`` over the scratch buffers it was given."""
    for s in range(lo, hi):
        j = s - base
        PW, PID = pws[j], pids[j]
        decode_key(NODES, ROOT, roots[s, 0], pool, PW, PID)
        unpack(C, FT, PW, F)
        m = successors(C, F, OUT, ACT, CAN)
        if m < 0:
            counts[j] = -1
            continue
        if m == 0 and check_deadlock and not is_terminal(C, F):
            counts[j] = -2
            continue
        bad = False
        for i in range(m):
            t = OUT[i]
            if symmetric:
                canonicalize(C, OUT[i], CAN, order, new_index)
                t = CAN
            w = words[j, i]
            inputs = pack_changed(C, FT, F, PW, t, w)
            acts[j, i] = ACT[i]
            if inputs < 0:
                bad = True
                break
            key[0] = find_key(NODES, ROOT, w, PW, PID, ID, CH, pair, pool, ptable)
            if key[0] >= 0 and find_hashed(table, roots, key, 1, hash_words(key, 1)) >= 0:
                flags[j, i] = F_STORED
                continue
            terminal = is_terminal(C, t)
            p = -1 if not terminal and inputs == 0 else first_violated(C, t, terminal, props)
            flags[j, i] = (F_TERMINAL if terminal else 0) | ((p + 1) << 8)
        counts[j] = -1 if bad else m


@kernel
def _store(NODES, ROOT, roots, parent, table, pool, ptable, st, lo, nstates, words, flags, counts, pws, pids,
           depth):
    """Phase 2, serial: enter the unmarked candidates in frontier order; S_VIOLATED stops at a violation."""
    nn = NODES.shape[0]
    return _store_into(NODES, ROOT, roots, parent, table, pool, ptable, st, lo, nstates, words, flags, counts, pws,
                       pids, depth, np.empty(nn, np.int64), np.empty(nn, np.bool_), np.empty(2, np.int64),
                       np.empty(1, np.int64))


@hot
def _store_into(NODES, ROOT, roots, parent, table, pool, ptable, st, lo, nstates, words, flags, counts, pws, pids,
                depth, ID, CH, pair, key):
    """``_store`` over the scratch buffers it was given."""
    pst = st[ST_POOL:ST_POOL + 1]
    n = st[ST_N]
    status = S_CHUNK
    for j in range(nstates):
        st[ST_TRANSITIONS] += counts[j]
        for i in range(counts[j]):
            f = flags[j, i]
            if f & F_STORED:
                continue
            key[0] = encode_key(NODES, ROOT, words[j, i], pws[j], pids[j], ID, CH, pair, pool, ptable, pst)
            if key[0] < 0:
                status = S_FULL
                break
            if find_or_insert(table, roots, n, key, 1) >= 0:
                continue
            parent[n] = lo + j
            n += 1
            st[ST_MAX_DEPTH_SEEN] = depth + 1
            st[ST_TERMINAL] += f & F_TERMINAL
            if f >> 8:
                st[ST_BAD] = n - 1
                st[ST_PROP] = (f >> 8) - 1
                status = S_VIOLATED
                break
        if status != S_CHUNK:
            break
        st[ST_HEAD] = lo + j + 1
    st[ST_N] = n
    return status


class TreeBuffers(Buffers):
    """``parallel.Buffers`` with the parents' words and node ids of a block."""

    def __init__(self, C, leaves: int, nodes: int, workers: int) -> None:
        super().__init__(C, leaves, workers)
        self.pws = np.zeros((self.block, leaves), np.int64)
        self.pids = np.zeros((self.block, nodes), np.int64)

    def expand_tree(self, C, FT, props, tree, roots, table, lo: int, hi: int, symmetric: bool,
                    check_deadlock: bool) -> None:
        words, _, acts, flags, counts = self.arrays
        cuts = [(a, min(hi, a + PIECE)) for a in range(lo, hi, PIECE)]
        self._run(len(cuts), lambda k: _expand_tree_range(
            C, FT, props, tree.NODES, tree.ROOT, roots, table, tree.pool, tree.ptable, cuts[k][0], cuts[k][1], lo,
            symmetric, check_deadlock, words, acts, flags, counts, self.pws, self.pids))


def tree_parallel_chunk(C, FT, props, tree, roots, parent, table, table_load, capacity, st, budget,
                        check_deadlock, max_depth, max_states, symmetric, buffers: TreeBuffers) -> int:
    """``tree_bfs.tree_bfs_chunk``'s contract, with the expansion on the buffers' threads."""
    words, _, _, flags, counts = buffers.arrays
    cap = int(C[C_MAXSUCC])
    nn = tree.NODES.shape[0]
    done = 0
    while True:
        if st[ST_HEAD] == st[ST_LEVEL_END]:
            status = next_level(st, max_depth, max_states)
            if status != S_CHUNK:
                return status
        if done >= budget:
            return S_CHUNK
        head, n, level_end = int(st[ST_HEAD]), int(st[ST_N]), int(st[ST_LEVEL_END])
        hi = min(level_end, head + buffers.block)
        room = (table.shape[0] * table_load // LOAD_DEN - n) // cap
        pool_room = (tree.ptable.shape[0] * LOAD_NUM // LOAD_DEN - int(st[ST_POOL])) // (cap * nn)
        hi = head + max(0, min(hi - head, room, pool_room))
        if hi == head:
            return S_GROW if room < 1 else S_GROW_POOL
        if n + cap > capacity or int(st[ST_POOL]) + cap * nn > tree.pool_capacity:
            return S_FULL                 # as the serial search: no room for one more state's successors
        hi = min(hi, head + (capacity - n) // cap, head + (tree.pool_capacity - int(st[ST_POOL])) // (cap * nn))
        buffers.expand_tree(C, FT, props, tree, roots, table, head, hi, symmetric, check_deadlock)
        block_counts = counts[:hi - head]
        stopped = np.flatnonzero(block_counts < 0)
        nstates = int(stopped[0]) if stopped.size else hi - head
        status = _store(tree.NODES, tree.ROOT, roots, parent, table, tree.pool, tree.ptable, st, head, nstates,
                        words, flags, counts, buffers.pws, buffers.pids, int(st[ST_DEPTH]))
        if status != S_CHUNK:
            return status
        if stopped.size:
            st[ST_BAD] = head + nstates
            return S_OVERFLOW if counts[nstates] == -1 else S_DEADLOCK
        done += hi - head

"""Parallel BFS on the compiled core: each block of the frontier expanded by all threads, merged in order.

A block of a BFS level is cut into pieces, and the workers
(Python threads, each running the compiled ``_expand_range``, which releases
the GIL) expand them at once: every state's successors are computed, canonicalized under
symmetry, packed and hashed, and looked up in the visited set, which no
thread writes during this phase, so the lookups may run side by side. A
successor already stored is marked and costs nothing more; only the others
are judged by the properties. The merge then runs in one thread, in
frontier order and successor order, and inserts the unmarked candidates
exactly as ``bfs.bfs_chunk`` would, so the states, their indices,
transitions, depth, the first violation and its trace are the serial
search's. What stays serial is the insertion of new states (and of the
duplicates found inside one block), about a third of the lookups on the
honest configurations.

Python threads rather than numba's ``prange``: between two blocks numba's
OpenMP threads spin while they wait, which on a machine shared with other
jobs costs as much CPU as the search itself; a thread of the pool sleeps.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from checker.compiled.bfs import (S_CHUNK, S_DEADLOCK, S_DONE, S_FULL, S_GROW, S_MAX_DEPTH, S_MAX_STATES,
                                  S_OVERFLOW, S_VIOLATED, ST_BAD, ST_DEPTH, ST_HEAD,
                                  ST_LEVEL_END, ST_MAX_DEPTH_SEEN, ST_N, ST_PROP, ST_TERMINAL, ST_TRANSITIONS)
from checker.compiled.layout import C_MAXSUCC, C_NFLAT, C_NWORDS, C_P, pack_changed, unpack
from checker.compiled.predicates import first_violated
from checker.compiled.steps import is_terminal, successors
from checker.compiled.symmetry import canonicalize
from checker.compiled.visited import LOAD_DEN, LOAD_NUM, find_hashed, find_or_insert_hashed, hash_words

BLOCK = 1024
"""Frontier states expanded together before a merge."""
PIECE = 256
"""Frontier states one worker expands at a time."""

F_TERMINAL, F_STORED = 1, 2
"""Candidate flags: bit 0 terminal, bit 1 already in the visited set; bits 8.. the violated property + 1."""


@njit(cache=True, nogil=True)
def _expand_range(C, FT, props, states, table, lo, hi, base, symmetric, check_deadlock,
                  words, hashes, acts, flags, counts):
    """Expand states lo..hi-1 into rows (state - base) of the candidate buffers.

    counts per state: successors, or -1 when a value does not fit the layout, -2 deadlock.
    """
    K = C[C_NWORDS]
    nf = C[C_NFLAT]
    cap = C[C_MAXSUCC]
    F = np.empty(nf, np.int64)
    OUT = np.empty((cap, nf), np.int64)
    ACT = np.empty(cap, np.int64)
    CAN = np.empty(nf, np.int64)
    order = np.empty(C[C_P], np.int64)
    new_index = np.empty(C[C_P], np.int64)
    for s in range(lo, hi):
        j = s - base
        unpack(C, FT, states[s], F)
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
            inputs = pack_changed(C, FT, F, states[s], t, w)
            acts[j, i] = ACT[i]
            if inputs < 0:
                bad = True
                break
            h = hash_words(w, K)
            hashes[j, i] = h
            if find_hashed(table, states, w, K, h) >= 0:
                flags[j, i] = F_STORED
                continue
            terminal = is_terminal(C, t)
            p = -1 if not terminal and inputs == 0 else first_violated(C, t, terminal, props)
            flags[j, i] = (F_TERMINAL if terminal else 0) | ((p + 1) << 8)
        counts[j] = -1 if bad else m


@njit(cache=True)
def _merge(C, states, parent, action, table, st, lo, hi, words, hashes, acts, flags, counts, depth):
    """Insert the candidates of states lo..hi-1 in order; the status, S_CHUNK if none stopped it."""
    K = C[C_NWORDS]
    n = st[ST_N]
    status = S_CHUNK
    for j in range(hi - lo):
        m = counts[j]
        if m == -1:
            st[ST_BAD] = lo + j
            status = S_OVERFLOW
            break
        if m == -2:
            st[ST_BAD] = lo + j
            status = S_DEADLOCK
            break
        st[ST_TRANSITIONS] += m
        for i in range(m):
            f = flags[j, i]
            if f & F_STORED:
                continue
            if find_or_insert_hashed(table, states, n, words[j, i], K, hashes[j, i]) >= 0:
                continue
            parent[n] = lo + j
            action[n] = acts[j, i]
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


def bfs_parallel_chunk(C, FT, props, states, parent, action, table, capacity, st, budget, check_deadlock,
                       max_depth, max_states, symmetric, buffers) -> int:
    """bfs.bfs_chunk's contract, with the expansion in parallel (``buffers`` from ``make_buffers``)."""
    words, hashes, acts, flags, counts = buffers.arrays
    cap = int(C[C_MAXSUCC])
    done = 0
    while True:
        head, n, level_end = int(st[ST_HEAD]), int(st[ST_N]), int(st[ST_LEVEL_END])
        if head == level_end:
            if head == n:
                return S_DONE
            if max_states > 0 and n >= max_states:
                return S_MAX_STATES
            st[ST_DEPTH] += 1
            st[ST_LEVEL_END] = n
            level_end = n
            if max_depth > 0 and st[ST_DEPTH] >= max_depth:
                return S_MAX_DEPTH
        if done >= budget:
            return S_CHUNK
        hi = min(level_end, head + BLOCK)
        need = n + (hi - head) * cap
        if need * LOAD_DEN > table.shape[0] * LOAD_NUM:
            hi = head + max(1, min(hi - head, (table.shape[0] * LOAD_NUM // LOAD_DEN - n) // cap))
            if (n + (hi - head) * cap) * LOAD_DEN > table.shape[0] * LOAD_NUM:
                return S_GROW
        if n + (hi - head) * cap > capacity:
            return S_FULL
        buffers.expand(C, FT, props, states, table, head, hi, symmetric, check_deadlock)
        status = _merge(C, states, parent, action, table, st, head, hi, words, hashes, acts, flags, counts,
                        int(st[ST_DEPTH]))
        if status != S_CHUNK:
            return status
        done += hi - head


class Buffers:
    """The candidate buffers of one block and the pool of threads that fill them."""

    def __init__(self, C, nwords: int, workers: int) -> None:
        cap = int(C[C_MAXSUCC])
        self.arrays = (np.zeros((BLOCK, cap, nwords), np.int64), np.zeros((BLOCK, cap), np.uint64),
                       np.zeros((BLOCK, cap), np.int64), np.zeros((BLOCK, cap), np.int64),
                       np.zeros(BLOCK, np.int64))
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers - 1) if workers > 1 else None

    def expand(self, C, FT, props, states, table, lo: int, hi: int, symmetric: bool,
               check_deadlock: bool) -> None:
        """Expand states lo..hi-1: pieces of PIECE states, each taken by whichever worker is free.

        Taking pieces from a shared counter (``next`` on it is atomic under the GIL) rather than
        one fixed half each means a worker the operating system holds back only delays the block
        by one piece, not by half of it.
        """
        cuts = [(a, min(hi, a + PIECE)) for a in range(lo, hi, PIECE)]
        taken = itertools.count()

        def work() -> None:
            while True:
                k = next(taken)
                if k >= len(cuts):
                    return
                a, b = cuts[k]
                _expand_range(C, FT, props, states, table, a, b, lo, symmetric, check_deadlock, *self.arrays)

        others = [self.pool.submit(work) for _ in range(self.workers - 1)] if self.pool else []
        work()
        for f in others:
            f.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def make_buffers(C, nwords: int, workers: int = 2) -> Buffers:
    """Candidate buffers for one block of the frontier, with ``workers`` threads to fill them."""
    return Buffers(C, nwords, workers)

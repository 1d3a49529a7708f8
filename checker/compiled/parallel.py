"""Parallel BFS on the compiled core: the frontier expanded by several threads, merged in order.

Each chunk of a BFS level is expanded in parallel (numba ``prange``): every
state's successors are computed, canonicalized under symmetry, packed, and
judged by the properties, into per-state rows of a candidate buffer. The
merge into the visited set then runs in one thread, in frontier order and
successor order, exactly as ``bfs.bfs_chunk`` would insert them; so the
states, transitions, depth, the first violation and its trace are the serial
search's. What is parallel is the expansion (successors, packing,
predicates); the lookups stay serial.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from checker.compiled.bfs import (S_CHUNK, S_DEADLOCK, S_DONE, S_FULL, S_GROW, S_MAX_DEPTH, S_MAX_STATES,
                                  S_OVERFLOW, S_VIOLATED, ST_BAD, ST_DEPTH, ST_HEAD,
                                  ST_LEVEL_END, ST_MAX_DEPTH_SEEN, ST_N, ST_PROP, ST_TERMINAL, ST_TRANSITIONS)
from checker.compiled.layout import C_MAXSUCC, C_NFLAT, C_NWORDS, C_P, pack_changed, unpack
from checker.compiled.predicates import first_violated
from checker.compiled.steps import is_terminal, successors
from checker.compiled.symmetry import canonicalize
from checker.compiled.visited import LOAD_DEN, LOAD_NUM, find_or_insert

BLOCK = 8192
"""Frontier states expanded together before a merge."""


@njit(cache=True, parallel=True)
def _expand(C, FT, props, states, lo, hi, symmetric, check_deadlock, words, acts, flags, counts):
    """Expand states lo..hi-1 into rows (state - lo) of the candidate buffers.

    flags per candidate: bit 0 terminal, bits 8.. the violated property + 1
    (0 none); counts per state: successors, or -1 overflow, -2 deadlock.
    """
    nf = C[C_NFLAT]
    cap = C[C_MAXSUCC]
    for j in prange(hi - lo):
        F = np.empty(nf, np.int64)
        T = np.empty(nf, np.int64)
        OUT = np.empty((cap, nf), np.int64)
        ACT = np.empty(cap, np.int64)
        CAN = np.empty(nf, np.int64)
        order = np.empty(C[C_P], np.int64)
        new_index = np.empty(C[C_P], np.int64)
        s = lo + j
        unpack(C, FT, states[s], F)
        m = successors(C, F, OUT, ACT, T)
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
            inputs = pack_changed(C, FT, F, states[s], t, words[j, i])
            if inputs < 0:
                bad = True
                acts[j, i] = ACT[i]
                break
            acts[j, i] = ACT[i]
            terminal = is_terminal(C, t)
            p = -1 if not terminal and inputs == 0 else first_violated(C, t, terminal, props)
            flags[j, i] = (1 if terminal else 0) | ((p + 1) << 8)
        counts[j] = -1 if bad else m
    return 0


@njit(cache=True)
def _merge(C, states, parent, action, table, st, lo, hi, words, acts, flags, counts, depth):
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
            if find_or_insert(table, states, n, words[j, i], K) >= 0:
                continue
            parent[n] = lo + j
            action[n] = acts[j, i]
            n += 1
            st[ST_MAX_DEPTH_SEEN] = depth + 1
            f = flags[j, i]
            st[ST_TERMINAL] += f & 1
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
    words, acts, flags, counts = buffers
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
        _expand(C, FT, props, states, head, hi, symmetric, check_deadlock, words, acts, flags, counts)
        status = _merge(C, states, parent, action, table, st, head, hi, words, acts, flags, counts,
                        int(st[ST_DEPTH]))
        if status != S_CHUNK:
            return status
        done += hi - head


def make_buffers(C, nwords: int):
    """Candidate buffers for one block of the frontier."""
    cap = int(C[C_MAXSUCC])
    return (np.zeros((BLOCK, cap, nwords), np.int64), np.zeros((BLOCK, cap), np.int64),
            np.zeros((BLOCK, cap), np.int64), np.zeros(BLOCK, np.int64))

"""Breadth-first search on the compiled core, in chunks the driver (``engine``) resumes.

The queue is the visited set itself: states are stored in the order they
are found, so the states of one BFS level are a contiguous index range and
``head`` walks through them. The order of expansion and of successors is the
Python BFS's (``checker.bfs``), so counts, depth and the first violation, with
its shortest trace, are the same.

``st`` carries the search's counters between chunks (``ST_*``); the kernel
returns a status (``S_*``) saying why it stopped.
"""

from __future__ import annotations

import numpy as np

from checker.compiled.jit import hot, kernel
from checker.compiled.layout import C_MAXSUCC, C_NFLAT, C_NWORDS, C_P, pack_changed, unpack
from checker.compiled.symmetry import canonicalize
from checker.compiled.predicates import first_violated
from checker.compiled.steps import is_terminal, successors
from checker.compiled.visited import (LOAD_DEN, LOAD_NUM, find_or_insert_hashed, hash_words, prefetch_first_probe,
                                      prefetch_slot, slot_bits)

ST_N, ST_HEAD, ST_LEVEL_END, ST_DEPTH, ST_TRANSITIONS, ST_TERMINAL, ST_MAX_DEPTH_SEEN = range(7)
ST_BAD, ST_PROP, ST_BAD_ACTION, ST_CUT, ST_TOP, ST_POOL = range(7, 13)
ST_LEN = 16

S_DONE, S_VIOLATED, S_DEADLOCK, S_CHUNK, S_GROW, S_FULL, S_MAX_DEPTH, S_MAX_STATES, S_OVERFLOW = range(9)
"""Complete; a property violated at ST_BAD; no step at ST_BAD; chunk used up; the table needs
growing; the store is at capacity; depth limit; state limit; a value did not fit the layout."""
S_GROW_POOL = 9
"""The tree store's pool table needs growing (``tree_bfs``); ST_POOL is the pool's count."""


@hot(inline="always")
def judge_new_state(C, t, inputs, props, st):
    """Count new state ``t`` in ST_TERMINAL and return the first property it violates, or -1.

    ``inputs`` is ``pack_changed``'s answer: 0 when no field a property reads
    changed from the parent, which was judged already, so a non-terminal
    state is not judged again.
    """
    terminal = is_terminal(C, t)
    st[ST_TERMINAL] += terminal
    if not terminal and inputs == 0:
        return -1
    return first_violated(C, t, terminal, props)


GROUP = 16
"""States expanded together before their successors are looked up (see ``prefetch``)."""


@kernel
def bfs_chunk(C, FT, props, states, parent, action, table, capacity, st, budget, check_deadlock,
              max_depth, max_states, symmetric):
    """Expand up to ``budget`` states; return the status that ended the chunk.

    With ``symmetric``, every successor is replaced by its representative
    under producer renaming (``symmetry.canonicalize``) before it is looked up.

    States are taken in groups of up to ``GROUP`` of one BFS level. First
    every state of the group is unpacked and its successors computed, packed
    and hashed, and the table slot each will probe is prefetched; then, in
    the same order, each successor is looked up and entered exactly as one
    state at a time would do it. A group is sized so that none of the
    per-state checks (table load, capacity) could have stopped inside it, so
    the order, the counts and the statuses are those of one state at a time.
    """
    K = C[C_NWORDS]
    nf = C[C_NFLAT]
    cap = C[C_MAXSUCC]
    FB = np.zeros((GROUP, nf), np.int64)
    MB = np.zeros(GROUP, np.int64)
    T = np.zeros(nf, np.int64)
    OUT = np.zeros((GROUP * cap, nf), np.int64)
    ACT = np.zeros(GROUP * cap, np.int64)
    WB = np.zeros((GROUP * cap, K), np.int64)
    HB = np.zeros(GROUP * cap, np.uint64)
    INP = np.zeros(GROUP * cap, np.int64)
    CAN = np.zeros(nf, np.int64)
    order = np.zeros(C[C_P], np.int64)
    new_index = np.zeros(C[C_P], np.int64)
    return _bfs_chunk(C, FT, props, states, parent, action, table, capacity, st, budget, check_deadlock,
                      max_depth, max_states, symmetric, FB, MB, T, OUT, ACT, WB, HB, INP, CAN, order, new_index)


@hot
def _bfs_chunk(C, FT, props, states, parent, action, table, capacity, st, budget, check_deadlock,
               max_depth, max_states, symmetric, FB, MB, T, OUT, ACT, WB, HB, INP, CAN, order, new_index):
    """``bfs_chunk``'s loop, over buffers it was given."""
    K = C[C_NWORDS]
    cap = C[C_MAXSUCC]
    n = st[ST_N]
    head = st[ST_HEAD]
    level_end = st[ST_LEVEL_END]
    depth = st[ST_DEPTH]
    done = 0
    status = S_CHUNK
    tsize = table.shape[0]
    k = slot_bits(table)
    while True:
        if head == level_end:
            if head == n:
                status = S_DONE
                break
            if max_states > 0 and n >= max_states:
                status = S_MAX_STATES
                break
            depth += 1
            level_end = n
            if max_depth > 0 and depth >= max_depth:
                status = S_MAX_DEPTH
                break
        if done >= budget:
            break
        if (n + cap) * LOAD_DEN > tsize * LOAD_NUM:
            status = S_GROW
            break
        if n + cap > capacity:
            status = S_FULL
            break
        g = min(GROUP, level_end - head, budget - done,
                (tsize * LOAD_NUM - n * LOAD_DEN) // (cap * LOAD_DEN), (capacity - n) // cap)
        for j in range(g):                                   # expand, pack, hash, prefetch
            unpack(C, FT, states[head + j], FB[j])
            b = j * cap
            m = successors(C, FB[j], OUT[b:b + cap], ACT[b:b + cap], T)
            MB[j] = m
            if m < 0:
                g = j + 1
                break
            for i in range(b, b + m):
                if symmetric:
                    canonicalize(C, OUT[i], CAN, order, new_index)
                    for x in range(CAN.shape[0]):
                        OUT[i, x] = CAN[x]
                INP[i] = pack_changed(C, FT, FB[j], states[head + j], OUT[i], WB[i])
                if INP[i] >= 0:
                    HB[i] = hash_words(WB[i], K)
                    prefetch_slot(table, HB[i])
        for j in range(g):                                   # prefetch the stored state a first probe meets
            if MB[j] < 0:
                break
            for i in range(j * cap, j * cap + MB[j]):
                if INP[i] >= 0:
                    prefetch_first_probe(table, states, HB[i], k)
        for j in range(g):                                   # look up and enter, in order
            m = MB[j]
            if m < 0:
                status = S_OVERFLOW
                st[ST_BAD] = head
                break
            st[ST_TRANSITIONS] += m
            if m == 0 and check_deadlock and not is_terminal(C, FB[j]):
                status = S_DEADLOCK
                st[ST_BAD] = head
                break
            b = j * cap
            for i in range(b, b + m):
                t = OUT[i]
                inputs = INP[i]
                if inputs < 0:
                    status = S_OVERFLOW
                    st[ST_BAD] = head
                    st[ST_BAD_ACTION] = ACT[i]
                    break
                if find_or_insert_hashed(table, states, n, WB[i], K, HB[i]) >= 0:
                    continue
                parent[n] = head
                action[n] = ACT[i]
                n += 1
                st[ST_MAX_DEPTH_SEEN] = depth + 1
                p = judge_new_state(C, t, inputs, props, st)
                if p >= 0:
                    status = S_VIOLATED
                    st[ST_BAD] = n - 1
                    st[ST_PROP] = p
                    break
            if status != S_CHUNK:
                break
            head += 1
            done += 1
        if status != S_CHUNK:
            break
    st[ST_N] = n
    st[ST_HEAD] = head
    st[ST_LEVEL_END] = level_end
    st[ST_DEPTH] = depth
    return status

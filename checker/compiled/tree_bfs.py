"""Breadth-first search over the tree store (``tree``): ``bfs.bfs_chunk`` with states kept as root pairs.

The loop is ``bfs_chunk``'s, step for step (same order of expansion and of
successors, so the same counts, depth and first violation); what differs is
only where a state lives. The state being expanded is decoded from its root
pair (``tree.decode_key``), and a successor is stored as the root pair
``tree.encode_key`` builds from the parent's nodes. ``roots`` is a one-word
flat store, so the root table is probed by ``visited.find_or_insert`` as
the flat store's is; it keeps parent links but no action codes.
"""

from __future__ import annotations

import numpy as np

from checker.compiled.bfs import (S_CHUNK, S_DEADLOCK, S_DONE, S_FULL, S_GROW, S_MAX_DEPTH, S_MAX_STATES,
                                  S_OVERFLOW, S_VIOLATED, ST_BAD, ST_BAD_ACTION, ST_DEPTH, ST_HEAD, ST_LEVEL_END,
                                  ST_MAX_DEPTH_SEEN, ST_N, ST_POOL, ST_PROP, ST_TRANSITIONS,
                                  S_GROW_POOL, judge_new_state)
from checker.compiled.jit import hot, kernel
from checker.compiled.layout import C_MAXSUCC, C_NFLAT, C_P, pack_changed, unpack
from checker.compiled.steps import is_terminal, successors
from checker.compiled.symmetry import canonicalize
from checker.compiled.tree import decode_key, encode_key
from checker.compiled.visited import LOAD_DEN, LOAD_NUM, find_or_insert


@kernel
def tree_bfs_chunk(C, FT, props, NODES, ROOT, leaves, roots, parent, table, table_load, capacity, pool, ptable,
                   pool_capacity, st, budget, check_deadlock, max_depth, max_states, symmetric):
    """Expand up to ``budget`` states; return the status that ended the chunk (``bfs.S_*``).

    No action codes are stored: the step from a parent to a state is found
    again when a trace is read back (``engine``), which saves 4 bytes a
    state. ``table_load`` is the root table's load limit in tenths (7, or 9
    once doubling the table would pass the memory bound).
    """
    nf = C[C_NFLAT]
    cap = C[C_MAXSUCC]
    nn = NODES.shape[0]
    F = np.zeros(nf, np.int64)
    T = np.zeros(nf, np.int64)
    OUT = np.zeros((cap, nf), np.int64)
    ACT = np.zeros(cap, np.int64)
    PW = np.zeros(leaves, np.int64)
    W = np.zeros(leaves, np.int64)
    PID = np.zeros(nn, np.int64)
    ID = np.zeros(nn, np.int64)
    CH = np.zeros(nn, np.bool_)
    pair = np.zeros(2, np.int64)
    key = np.zeros(1, np.int64)
    pst = st[ST_POOL:ST_POOL + 1]
    CAN = np.zeros(nf, np.int64)
    order = np.zeros(C[C_P], np.int64)
    new_index = np.zeros(C[C_P], np.int64)
    return _tree_bfs_chunk(C, FT, props, NODES, ROOT, leaves, roots, parent, table, table_load, capacity, pool,
                           ptable, pool_capacity, st, budget, check_deadlock, max_depth, max_states, symmetric,
                           F, T, OUT, ACT, PW, W, PID, ID, CH, pair, key, pst, CAN, order, new_index)


@hot
def _tree_bfs_chunk(C, FT, props, NODES, ROOT, leaves, roots, parent, table, table_load, capacity, pool, ptable,
                    pool_capacity, st, budget, check_deadlock, max_depth, max_states, symmetric,
                    F, T, OUT, ACT, PW, W, PID, ID, CH, pair, key, pst, CAN, order, new_index):
    """``tree_bfs_chunk``'s loop, over the scratch buffers it was given."""
    nf = C[C_NFLAT]
    cap = C[C_MAXSUCC]
    nn = NODES.shape[0]
    n = st[ST_N]
    head = st[ST_HEAD]
    level_end = st[ST_LEVEL_END]
    depth = st[ST_DEPTH]
    done = 0
    status = S_CHUNK
    tsize = table.shape[0]
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
        if (n + cap) * LOAD_DEN > tsize * table_load:
            status = S_GROW
            break
        if (pst[0] + cap * nn) * LOAD_DEN > ptable.shape[0] * LOAD_NUM:
            status = S_GROW_POOL
            break
        if n + cap > capacity or pst[0] + cap * nn > pool_capacity:
            status = S_FULL
            break
        decode_key(NODES, ROOT, roots[head, 0], pool, PW, PID)
        unpack(C, FT, PW, F)
        m = successors(C, F, OUT, ACT, T)
        if m < 0:
            status = S_OVERFLOW
            st[ST_BAD] = head
            break
        st[ST_TRANSITIONS] += m
        if m == 0 and check_deadlock and not is_terminal(C, F):
            status = S_DEADLOCK
            st[ST_BAD] = head
            break
        for i in range(m):
            t = OUT[i]
            if symmetric:
                canonicalize(C, OUT[i], CAN, order, new_index)
                t = CAN
            inputs = pack_changed(C, FT, F, PW, t, W)
            if inputs < 0:
                status = S_OVERFLOW
                st[ST_BAD] = head
                st[ST_BAD_ACTION] = ACT[i]
                break
            key[0] = encode_key(NODES, ROOT, W, PW, PID, ID, CH, pair, pool, ptable, pst)
            if key[0] < 0:
                status = S_FULL
                break
            if find_or_insert(table, roots, n, key, 1) >= 0:
                continue
            parent[n] = head
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
    st[ST_N] = n
    st[ST_HEAD] = head
    st[ST_LEVEL_END] = level_end
    st[ST_DEPTH] = depth
    return status

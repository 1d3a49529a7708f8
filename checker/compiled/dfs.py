"""Depth-first search on the compiled core, in chunks the driver (``engine``) resumes.

The stack holds one frame per state on the current path: its index in the
visited set and the next successor to try. A frame's successors are
recomputed when the search comes back to it (cheaper in memory than keeping
them). The order is the Python DFS's (``checker.dfs``); parent links follow
the stack, so the trace of a violation is the path on the stack.
"""

from __future__ import annotations

import numpy as np

from checker.compiled.bfs import (S_CHUNK, S_DEADLOCK, S_DONE, S_FULL, S_GROW, S_OVERFLOW, S_VIOLATED,
                                  ST_BAD, ST_BAD_ACTION, ST_CUT, ST_MAX_DEPTH_SEEN, ST_N, ST_PROP,
                                  ST_TERMINAL, ST_TOP, ST_TRANSITIONS)
from checker.compiled.jit import hot, kernel
from checker.compiled.layout import C_MAXSUCC, C_NFLAT, C_NWORDS, pack_changed, unpack
from checker.compiled.predicates import first_violated
from checker.compiled.steps import is_terminal, successors
from checker.compiled.visited import LOAD_DEN, LOAD_NUM, find_or_insert


@kernel
def dfs_chunk(C, FT, props, states, parent, action, table, capacity, frame_state, frame_next, st, budget,
              check_deadlock, max_depth):
    """Take up to ``budget`` steps of the depth-first walk; return the status that ended the chunk."""
    K = C[C_NWORDS]
    nf = C[C_NFLAT]
    cap = C[C_MAXSUCC]
    return _dfs_chunk(C, FT, props, states, parent, action, table, capacity, frame_state, frame_next, st, budget,
                      check_deadlock, max_depth, np.zeros(nf, np.int64), np.zeros(nf, np.int64),
                      np.zeros((cap, nf), np.int64), np.zeros(cap, np.int64), np.zeros((cap, nf), np.int64),
                      np.zeros(cap, np.int64), np.zeros(K, np.int64))


@hot
def _dfs_chunk(C, FT, props, states, parent, action, table, capacity, frame_state, frame_next, st, budget,
               check_deadlock, max_depth, F, T, OUT, ACT, OUT2, ACT2, W):
    """``dfs_chunk``'s walk, over the scratch buffers it was given."""
    K = C[C_NWORDS]
    n = st[ST_N]
    top = st[ST_TOP]
    done = 0
    status = S_CHUNK
    tsize = table.shape[0]
    while True:
        if top == 0:
            status = S_DONE
            break
        if done >= budget:
            break
        if (n + 1) * LOAD_DEN > tsize * LOAD_NUM:
            status = S_GROW
            break
        if n + 1 > capacity or top + 1 > frame_state.shape[0]:
            status = S_FULL
            break
        done += 1
        s = frame_state[top - 1]
        k = frame_next[top - 1]
        unpack(C, FT, states[s], F)
        m = successors(C, F, OUT, ACT, T)
        if k >= m:
            top -= 1
            continue
        frame_next[top - 1] = k + 1
        inputs = pack_changed(C, FT, F, states[s], OUT[k], W)
        if inputs < 0:
            status = S_OVERFLOW
            st[ST_BAD] = s
            st[ST_BAD_ACTION] = ACT[k]
            break
        if find_or_insert(table, states, n, W, K) >= 0:
            continue
        parent[n] = s
        action[n] = ACT[k]
        t = n
        n += 1
        if top > st[ST_MAX_DEPTH_SEEN]:
            st[ST_MAX_DEPTH_SEEN] = top
        terminal = is_terminal(C, OUT[k])
        st[ST_TERMINAL] += terminal
        p = -1 if not terminal and inputs == 0 else first_violated(C, OUT[k], terminal, props)
        if p >= 0:
            status = S_VIOLATED
            st[ST_BAD] = t
            st[ST_PROP] = p
            break
        if max_depth > 0 and top >= max_depth:
            st[ST_CUT] = 1
            continue
        m2 = successors(C, OUT[k], OUT2, ACT2, T)
        if m2 < 0:
            status = S_OVERFLOW
            st[ST_BAD] = t
            break
        st[ST_TRANSITIONS] += m2
        if m2 == 0 and check_deadlock and not is_terminal(C, OUT[k]):
            status = S_DEADLOCK
            st[ST_BAD] = t
            break
        frame_state[top] = t
        frame_next[top] = 0
        top += 1
    st[ST_N] = n
    st[ST_TOP] = top
    return status

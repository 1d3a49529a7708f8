"""Parallel BFS on the compiled core: each block of the frontier expanded and inserted by all threads.

A block of a BFS level goes through three phases:

1. *expand*, in pieces taken by whichever worker is free (Python threads,
   each running the compiled ``_expand_range``, which releases the GIL):
   every state's successors are computed, canonicalized under symmetry,
   packed and hashed, and looked up in the visited set, which no thread
   writes during this phase. A successor already stored is marked and costs
   nothing more; only the others are judged by the properties;
2. *claim*, each worker in its own shards of the table (``visited``: a
   probe never leaves its shard): in frontier and successor order, each
   unstored candidate enters its shard as a placeholder naming the
   candidate, or finds the placeholder of an equal candidate before it in
   the block, which makes it a duplicate;
3. *number*, in one thread: the claimed candidates, in frontier order and
   successor order, become states n, n + 1, ... with their parents, and
   their placeholders become table entries.

Phase 3 is the only serial one and copies a few words per new state into
memory it has just touched. The states, their indices, transitions, depth,
the first violation and its trace are the serial search's (``bfs.bfs_chunk``):
duplicates are decided in the same order, and the numbering follows it.

Python threads rather than numba's ``prange``: between two blocks numba's
OpenMP threads spin while they wait, which on a machine shared with other
jobs costs as much CPU as the search itself; a thread of the pool sleeps.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from checker.compiled.bfs import (GROUP, S_CHUNK, S_DEADLOCK, S_DONE, S_FULL, S_GROW, S_MAX_DEPTH, S_MAX_STATES,
                                  S_OVERFLOW, S_VIOLATED, ST_BAD, ST_DEPTH, ST_HEAD,
                                  ST_LEVEL_END, ST_MAX_DEPTH_SEEN, ST_N, ST_PROP, ST_TERMINAL, ST_TRANSITIONS)
from checker.compiled.jit import hot, kernel
from checker.compiled.layout import C_MAXSUCC, C_NFLAT, C_NWORDS, C_P, pack_changed, unpack
from checker.compiled.predicates import first_violated
from checker.compiled.steps import is_terminal, successors
from checker.compiled.symmetry import canonicalize
from checker.compiled.visited import (LOAD_DEN, LOAD_NUM, SHARD_BITS, find_hashed, hash_words, next_slot,
                                      prefetch_first_probe, prefetch_slot, rebuild, shard_mask, slot_bits, tag_of)

PIECE = 512
"""Frontier states one worker expands at a time."""
BLOCK = 4096
"""Frontier states expanded together before a merge (fewer when a state has many successors)."""
BLOCK_CANDIDATES = 1 << 16
"""At most this many successor rows per block: the adversarial consumer has hundreds per state."""


def block_states(cap: int) -> int:
    """Frontier states per block for states of at most ``cap`` successors."""
    return max(PIECE // 8, min(BLOCK, BLOCK_CANDIDATES // max(1, cap)))


F_TERMINAL, F_STORED, F_NEW = 1, 2, 4
"""Candidate flags: bit 0 terminal, bit 1 already in the visited set (or earlier in the block),
bit 2 the first of its words in the block; bits 8.. the violated property + 1."""


@kernel(nogil=True)
def _expand_range(C, FT, props, states, table, lo, hi, base, symmetric, check_deadlock,
                  words, hashes, acts, flags, counts):
    """Expand states lo..hi-1 into rows (state - base) of the candidate buffers.

    counts per state: successors, or -1 when a value does not fit the layout, -2 deadlock.
    """
    nf = C[C_NFLAT]
    rows = GROUP * C[C_MAXSUCC]
    _expand_range_into(C, FT, props, states, table, lo, hi, base, symmetric, check_deadlock,
                       words, hashes, acts, flags, counts, np.empty((GROUP, nf), np.int64),
                       np.empty((rows, nf), np.int64), np.empty(rows, np.int64), np.empty(rows, np.int64),
                       np.empty(nf, np.int64), np.empty(nf, np.int64), np.empty(C[C_P], np.int64),
                       np.empty(C[C_P], np.int64))


@hot(nogil=True)
def _expand_range_into(C, FT, props, states, table, lo, hi, base, symmetric, check_deadlock,
                       words, hashes, acts, flags, counts, FB, OUT, ACT, INP, T, CAN, order, new_index):
    """``_expand_range`` over the scratch buffers it was given.

    As in ``bfs.bfs_chunk``, states are taken in groups of ``GROUP``: all their
    successors are packed and hashed, and the table slots they will probe
    prefetched, before any of them is looked up.
    """
    K = C[C_NWORDS]
    cap = C[C_MAXSUCC]
    nf = C[C_NFLAT]
    k = slot_bits(table)
    for g0 in range(lo, hi, GROUP):
        g1 = min(hi, g0 + GROUP)
        for s in range(g0, g1):                             # expand, pack, hash, prefetch
            j = s - base
            b = (s - g0) * cap
            F = FB[s - g0]
            unpack(C, FT, states[s], F)
            m = successors(C, F, OUT[b:b + cap], ACT[b:b + cap], T)
            if m < 0:
                counts[j] = -1
                continue
            if m == 0 and check_deadlock and not is_terminal(C, F):
                counts[j] = -2
                continue
            bad = False
            for i in range(m):
                if symmetric:
                    canonicalize(C, OUT[b + i], CAN, order, new_index)
                    for x in range(nf):
                        OUT[b + i, x] = CAN[x]
                w = words[j, i]
                inputs = pack_changed(C, FT, F, states[s], OUT[b + i], w)
                acts[j, i] = ACT[b + i]
                if inputs < 0:
                    bad = True
                    break
                INP[b + i] = inputs
                h = hash_words(w, K)
                hashes[j, i] = h
                prefetch_slot(table, h)
            counts[j] = -1 if bad else m
        for s in range(g0, g1):                             # prefetch the stored state a first probe meets
            j = s - base
            for i in range(counts[j]):
                prefetch_first_probe(table, states, hashes[j, i], k)
        for s in range(g0, g1):                             # look up; judge the new ones
            j = s - base
            b = (s - g0) * cap
            for i in range(counts[j]):
                if find_hashed(table, states, words[j, i], K, hashes[j, i]) >= 0:
                    flags[j, i] = F_STORED
                    continue
                t = OUT[b + i]
                terminal = is_terminal(C, t)
                p = -1 if not terminal and INP[b + i] == 0 else first_violated(C, t, terminal, props)
                flags[j, i] = (F_TERMINAL if terminal else 0) | ((p + 1) << 8)


@hot(nogil=True)
def _claim(table, nstates, group, groups, cap, K, words, hashes, flags, counts, slots):
    """Phase 2, the shards s with s % groups == group: enter their unstored candidates as placeholders.

    A placeholder is ``-(c + 1)`` for candidate ``c = j * cap + i``; the first
    candidate with given words claims an empty slot (flag F_NEW, slot kept in
    ``slots``), a later one with the same words finds the placeholder and is
    marked F_STORED: a duplicate inside the block, as the serial insert would
    find it, since each shard's candidates are taken in frontier order. Only
    these shards' slots are read or written, so threads given different
    groups need no lock. No stored state is read: the expansion already
    looked every candidate up in the table, and since then only placeholders
    were added.
    """
    tmask = table.shape[0] - 1
    smask = shard_mask(table)
    shift = 0
    while (1 << shift) <= smask:
        shift += 1
    for j in range(nstates):
        for i in range(counts[j]):
            if flags[j, i] & F_STORED:
                continue
            h = hashes[j, i]
            x = np.int64(h & np.uint64(tmask))
            if (x >> shift) % groups != group:
                continue
            while True:
                e = np.int64(table[x])
                if e == 0:
                    table[x] = -(j * cap + i + 1)
                    slots[j, i] = x
                    flags[j, i] |= F_NEW
                    break
                if e < 0:
                    c = -e - 1
                    a, b = c // cap, c % cap
                    if hashes[a, b] == h:
                        same = True
                        for k in range(K):
                            if words[a, b, k] != words[j, i, k]:
                                same = False
                                break
                        if same:
                            flags[j, i] |= F_STORED
                            break
                x = next_slot(x, smask)


@hot
def _number(states, parent, action, table, st, lo, nstates, cap, K, words, hashes, acts, flags, counts, slots,
            depth):
    """Phase 3, serial: give the claimed candidates their indices in frontier order and store them.

    Each claimed candidate becomes the next state, exactly where the serial
    BFS would put it, and its placeholder becomes the usual tagged entry.
    The status is S_CHUNK unless a new state violates a property; then the
    candidates after it keep their placeholders and the caller rebuilds the
    table.
    """
    k = slot_bits(table)
    n = st[ST_N]
    status = S_CHUNK
    for j in range(nstates):
        st[ST_TRANSITIONS] += counts[j]
        for i in range(counts[j]):
            f = flags[j, i]
            if not f & F_NEW:
                continue
            for x in range(K):
                states[n, x] = words[j, i, x]
            parent[n] = lo + j
            action[n] = acts[j, i]
            table[slots[j, i]] = tag_of(hashes[j, i], k) | (n + 1)
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


def next_level(st, max_depth: int, max_states: int) -> int:
    """At the end of a BFS level: S_DONE, a limit's status, or S_CHUNK after starting the next level.

    The check ``bfs.bfs_chunk`` makes when its head reaches the level's end,
    on ``st`` (shared by the parallel searches of both stores).
    """
    n = int(st[ST_N])
    if int(st[ST_HEAD]) == n:
        return S_DONE
    if max_states > 0 and n >= max_states:
        return S_MAX_STATES
    st[ST_DEPTH] += 1
    st[ST_LEVEL_END] = n
    if max_depth > 0 and st[ST_DEPTH] >= max_depth:
        return S_MAX_DEPTH
    return S_CHUNK


def bfs_parallel_chunk(C, FT, props, states, parent, action, table, capacity, st, budget, check_deadlock,
                       max_depth, max_states, symmetric, buffers) -> int:
    """bfs.bfs_chunk's contract, with the expansion in parallel (``buffers`` from ``make_buffers``)."""
    words, hashes, acts, flags, counts = buffers.arrays
    cap = int(C[C_MAXSUCC])
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
        need = n + (hi - head) * cap
        if need * LOAD_DEN > table.shape[0] * LOAD_NUM:
            hi = head + max(1, min(hi - head, (table.shape[0] * LOAD_NUM // LOAD_DEN - n) // cap))
            if (n + (hi - head) * cap) * LOAD_DEN > table.shape[0] * LOAD_NUM:
                return S_GROW
        if n + cap > capacity:            # as the serial search: no room for one more state's successors
            return S_FULL
        hi = min(hi, head + (capacity - n) // cap)
        buffers.expand(C, FT, props, states, table, head, hi, symmetric, check_deadlock)
        counts = buffers.arrays[4][:hi - head]
        stopped = np.flatnonzero(counts < 0)
        nstates = int(stopped[0]) if stopped.size else hi - head
        buffers.claim(table, nstates, cap, int(C[C_NWORDS]))
        status = _number(states, parent, action, table, st, head, nstates, cap, int(C[C_NWORDS]),
                         words, hashes, acts, flags, counts, buffers.slots, int(st[ST_DEPTH]))
        if status == S_VIOLATED:
            table[:] = 0                  # the candidates after the violation left placeholders
            rebuild(table, states, int(st[ST_N]), int(C[C_NWORDS]))
            return status
        if stopped.size:
            st[ST_BAD] = head + nstates
            return S_OVERFLOW if counts[nstates] == -1 else S_DEADLOCK
        done += hi - head


class Buffers:
    """The candidate buffers of one block and the pool of threads that fill them."""

    def __init__(self, C, nwords: int, workers: int) -> None:
        cap = int(C[C_MAXSUCC])
        self.block = block = block_states(cap)
        self.arrays = (np.zeros((block, cap, nwords), np.int64), np.zeros((block, cap), np.uint64),
                       np.zeros((block, cap), np.int64), np.zeros((block, cap), np.int64),
                       np.zeros(block, np.int64))
        self.slots = np.zeros((block, cap), np.int64)
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers - 1) if workers > 1 else None

    def expand(self, C, FT, props, states, table, lo: int, hi: int, symmetric: bool,
               check_deadlock: bool) -> None:
        """Expand states lo..hi-1: pieces of PIECE states, each taken by whichever worker is free."""
        cuts = [(a, min(hi, a + PIECE)) for a in range(lo, hi, PIECE)]
        self._run(len(cuts), lambda k: _expand_range(C, FT, props, states, table, cuts[k][0], cuts[k][1], lo,
                                                     symmetric, check_deadlock, *self.arrays))

    def claim(self, table, nstates: int, cap: int, K: int) -> None:
        """Enter the block's unstored candidates as placeholders, each worker in its own shards."""
        words, hashes, _, flags, counts = self.arrays
        groups = min(self.workers, 1 << SHARD_BITS)
        self._run(groups, lambda g: _claim(table, nstates, g, groups, cap, K, words, hashes, flags, counts,
                                           self.slots))

    def _run(self, tasks: int, task) -> None:
        """Run task(0) .. task(tasks - 1) on the workers, each taking the next from a shared counter.

        Taking tasks from a shared counter (``next`` on it is atomic under the GIL) rather than
        one fixed half each means a worker the operating system holds back only delays the phase
        by one task, not by half of it.
        """
        taken = itertools.count()

        def work() -> None:
            while True:
                k = next(taken)
                if k >= tasks:
                    return
                task(k)

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

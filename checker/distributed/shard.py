"""One worker's part of the search: a shard of the visited set, with its parent links and frontier.

A ``Shard`` is plain Python over numpy arrays; ``transport`` runs it in a
local process or as a Ray actor and calls its methods. Within a shard the
states are stored in the order they are found, so the frontier (the states
of the last finished level) is a contiguous index range, and the states of
the level being built follow it.

A state's parent is (shard, index): ``parent_shard`` and ``parent``.
Its memory bound: the state arrays are allocated once at the capacity the
bound allows (``np.empty``: pages are mapped only when written), and the
resident set is compared with the bound after every batch; reaching either
makes the shard answer ``full`` and the driver end the run as bounded.
"""

from __future__ import annotations

import os
import resource
import signal

import numpy as np

from checker.compiled.layout import C_MAXSUCC, build_layout
from checker.compiled.predicates import PROPERTY_ID
from checker.compiled.visited import Visited, rebuild, table_size_for
from checker.distributed import sources_digest
from checker.distributed.kernels import EXTRA_COLUMNS, expand_block, insert_batch, owner_of
from model.config import Config

MB = 1 << 20
BLOCK = 4096
"""Frontier states expanded into one round of batches."""
TABLE_BYTES_PER_STATE = 12
PARENT_BYTES = 4 + 4 + 2
"""Parent index, action code, parent shard."""


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class ShardFull(Exception):
    """The shard reached its capacity or its memory bound."""


class Shard:
    """The visited set, parent links and frontier of shard ``index`` of ``nshards``."""

    def __init__(self, index: int, nshards: int, config: dict, start: int, properties: list[str],
                 symmetric: bool, check_deadlock: bool, memory_bytes: int, fault_level: int = -1) -> None:
        self.index, self.nshards = index, nshards
        self.lay = build_layout(Config.from_dict(config), start)
        self.K = self.lay.nwords
        self.cap = int(self.lay.C[C_MAXSUCC])
        self.props = np.array([PROPERTY_ID[p] for p in properties], dtype=np.int64)
        self.symmetric, self.check_deadlock = symmetric, check_deadlock
        self.memory_bytes = memory_bytes
        self.fault_level = fault_level
        """For the fault tests: at this level the shard kills its own process with SIGKILL (-1: never)."""
        per_state = 8 * self.K + PARENT_BYTES + TABLE_BYTES_PER_STATE
        buffers = 4 * BLOCK * self.cap * (self.K + EXTRA_COLUMNS) * 8
        self.capacity = max(1 << 10, (memory_bytes - _rss() - buffers) // per_state)
        self.vis = Visited(self.K, self.capacity)
        self.parent_shard = np.empty(self.capacity, dtype=np.int16)
        self.n = 0
        self.frontier_lo = self.frontier_hi = 0
        self.ranks = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)
        self.level_lo = 0
        self.level_key = np.zeros(1 << 12, dtype=np.int64)
        self.level_flags = np.zeros(1 << 12, dtype=np.int64)
        self.head = 0
        self.level = 0
        self.messages_sent = self.messages_received = 0
        self.bytes_sent = self.bytes_received = 0
        self.peak_rss = _rss()
        self.own = np.zeros((0, self.K + EXTRA_COLUMNS), dtype=np.int64)
        """This shard's own candidates of the last block, inserted with the batches that come back."""

    # ---------------------------------------------------------------- identity and start

    def hello(self) -> dict:
        """Who this worker is: its sources' digest (the driver refuses a mismatch), pid, host, capacity."""
        import socket

        node = None
        try:
            import ray

            if ray.is_initialized():
                node = ray.get_runtime_context().get_node_id()
        except ImportError:
            pass
        return {"digest": sources_digest(), "pid": os.getpid(), "host": socket.gethostname(), "node": node,
                "capacity": int(self.capacity)}

    def owner(self, words: np.ndarray) -> int:
        return int(owner_of(np.asarray(words, dtype=np.int64), self.K, self.nshards))

    def add_root(self, words: np.ndarray) -> None:
        """Store the initial state (this shard owns it): level 0, ended and ranked like any other."""
        self._insert(np.concatenate([np.asarray(words, np.int64), [0, -1, 0, 0]])[None, :], -1)

    # ---------------------------------------------------------------- one level

    def expand_next(self) -> tuple[dict, list[np.ndarray]]:
        """Expand the next block of the frontier: a summary and one batch of candidates per shard."""
        if self.fault_level == self.level:
            os.kill(os.getpid(), signal.SIGKILL)
        lo = self.head
        hi = min(self.frontier_hi, lo + BLOCK)
        cand = np.empty(((hi - lo) * self.cap, self.K + EXTRA_COLUMNS), dtype=np.int64)
        owners = np.empty(cand.shape[0], dtype=np.int64)
        c, deadlock, overflow = expand_block(self.lay.C, self.lay.FT, self.props, self.vis.states, lo, hi,
                                             self.ranks, self.frontier_lo, self.nshards, self.symmetric,
                                             self.check_deadlock, cand, owners,
                                             self.counts[lo - self.frontier_lo:])
        self.head = hi
        cand, owners = cand[:c], owners[:c]
        batches = [cand[owners == j] for j in range(self.nshards)]
        for j, b in enumerate(batches):
            if j != self.index and len(b):
                self.messages_sent += 1
                self.bytes_sent += b.nbytes
        self.own = batches[self.index]                   # kept here: it need not travel
        batches[self.index] = cand[:0]
        return ({"done": self.head >= self.frontier_hi, "deadlock": int(deadlock), "overflow": int(overflow),
                 "expanded": hi - lo}, batches)

    def attach_outboxes(self, outboxes: list) -> None:
        """Local workers: one shared memory block per worker (``transport.LocalPool``), where each
        writes the candidates of its last block, grouped by owner, for the owners to read in place."""
        cols = self.K + EXTRA_COLUMNS
        self.outboxes = [np.frombuffer(mm, dtype=np.int64).reshape(-1, cols) for mm in outboxes]

    def expand_to_outbox(self) -> dict:
        """``expand_next`` into this worker's outbox: the summary, with the rows (lo, hi) for each owner."""
        summary, batches = self.expand_next()
        batches[self.index], self.own = self.own, self.own[:0]
        out = self.outboxes[self.index]
        slices, lo = [], 0
        for b in batches:
            out[lo:lo + len(b)] = b
            slices.append((lo, lo + len(b)))
            lo += len(b)
        summary["slices"] = slices
        return summary

    def insert_from_outboxes(self, slices: list[tuple[int, int]]) -> dict:
        """Insert rows ``slices[k]`` of worker k's outbox, for every k (this worker's own included)."""
        own = self.outboxes[self.index]
        self.own = own[slices[self.index][0]:slices[self.index][1]]
        return self.insert(*[self.outboxes[k][lo:hi] if k != self.index else own[:0]
                             for k, (lo, hi) in enumerate(slices)])

    def insert(self, *batches: np.ndarray) -> dict:
        """Insert the batches addressed to this shard (``batches[k]`` from shard k)."""
        try:
            for k, b in enumerate(batches):
                if k == self.index:
                    b, self.own = self.own, self.own[:0]
                if len(b) == 0:
                    continue
                if k != self.index:
                    self.messages_received += 1
                    self.bytes_received += b.nbytes
                self._insert(b, k)
        except ShardFull as e:
            return {"full": str(e)}
        rss = _rss()
        self.peak_rss = max(self.peak_rss, rss)
        if rss > self.memory_bytes:
            return {"full": f"resident memory {rss / MB:.0f} MB above the bound"}
        return {"full": None}

    def _insert(self, b: np.ndarray, source: int) -> None:
        need = self.n + len(b)
        if need > self.capacity:
            raise ShardFull(f"capacity of {self.capacity} states reached")
        if not self.vis.room_for(need):
            if _rss() + self.vis.table_bytes_after_growth(2 * need) > self.memory_bytes:
                raise ShardFull("no room to grow the hash table")
            self.vis.grow_table(self.n, 2 * need)
        used = need - self.level_lo
        if used > len(self.level_key):
            size = max(used, 2 * len(self.level_key))
            self.level_key = np.resize(self.level_key, size)
            self.level_flags = np.resize(self.level_flags, size)
        self.n = int(insert_batch(self.vis.table, self.vis.states, self.vis.parent, self.vis.action,
                                  self.parent_shard, self.level_key, self.level_flags, self.n, self.level_lo,
                                  b, source, self.K))

    def end_level(self) -> tuple[dict, np.ndarray]:
        """The level just built: its summary (new states, terminal ones, first violation) and its keys."""
        new = self.n - self.level_lo
        keys = self.level_key[:new].copy()
        flags = self.level_flags[:new]
        bad = np.nonzero(flags >> 8)[0]
        first = None
        if len(bad):
            j = int(bad[np.argmin(keys[bad])])
            first = {"key": int(keys[j]), "index": self.level_lo + j, "property": int(flags[j] >> 8) - 1}
        return ({"new": int(new), "terminal": int(np.count_nonzero(flags & 1)), "violation": first,
                 "transitions": int(self.counts.sum())}, keys)

    def count_upto(self, key: int, rank: int) -> dict:
        """What the serial BFS had counted when it stopped at ``key``: new states and terminal ones with
        a key up to it, and the successors of the frontier states of rank up to ``rank``."""
        new = self.n - self.level_lo
        keys, flags = self.level_key[:new], self.level_flags[:new]
        upto = keys <= key
        return {"new": int(np.count_nonzero(upto)), "terminal": int(np.count_nonzero(flags[upto] & 1)),
                "transitions": int(self.counts[self.ranks <= rank].sum())}

    def expand_next_flat(self) -> tuple:
        """``expand_next`` as (summary, batch for shard 0, batch for shard 1, ...): one Ray object each."""
        summary, batches = self.expand_next()
        return (summary, *batches)

    def set_ranks(self, ranks: np.ndarray, level: int) -> None:
        """The level just built becomes the frontier (level ``level``), ranked as the serial BFS orders it."""
        self.frontier_lo, self.frontier_hi = self.level_lo, self.n
        self.ranks = np.asarray(ranks, dtype=np.int64)
        assert len(self.ranks) == self.frontier_hi - self.frontier_lo
        self.counts = np.zeros(len(self.ranks), dtype=np.int64)
        self.head = self.frontier_lo
        self.level_lo = self.n
        self.level = level

    # ---------------------------------------------------------------- traces, statistics, checkpoints

    def node(self, i: int) -> tuple[np.ndarray, int, int, int]:
        """State i: its packed words, parent shard, parent index and action code."""
        return (self.vis.states[i].copy(), int(self.parent_shard[i]), int(self.vis.parent[i]),
                int(self.vis.action[i]))

    def stats(self) -> dict:
        """States, bytes held by the visited set, messages and bytes sent and received, peak memory."""
        return {"worker": self.index, "states": int(self.n), "bytes": int(self.bytes_used()),
                "messages_sent": self.messages_sent, "messages_received": self.messages_received,
                "bytes_sent": self.bytes_sent, "bytes_received": self.bytes_received,
                "peak_mb": round(max(self.peak_rss, _rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                     * 1024) / MB, 1)}

    def bytes_used(self) -> int:
        return self.n * (8 * self.K + PARENT_BYTES) + self.vis.table.nbytes

    def segment(self, lo: int) -> dict:
        """States lo .. n-1 with their parent links, and the frontier's ranks (for a checkpoint)."""
        return {"states": self.vis.states[lo:self.n].copy(), "parent": self.vis.parent[lo:self.n].copy(),
                "action": self.vis.action[lo:self.n].copy(), "parent_shard": self.parent_shard[lo:self.n].copy(),
                "ranks": self.ranks.copy(), "frontier_lo": self.frontier_lo}

    def segment_of_frontier(self) -> dict:
        """The frontier's states with their links and ranks: what a checkpoint writes for this level."""
        return self.segment(self.frontier_lo)

    def frontier_index(self, rank: int) -> int:
        """The index of the frontier state of ``rank``, or -1 if another shard holds it."""
        found = np.nonzero(self.ranks == rank)[0]
        return self.frontier_lo + int(found[0]) if len(found) else -1

    def load(self, states: np.ndarray, parent: np.ndarray, action: np.ndarray, parent_shard: np.ndarray,
             ranks: np.ndarray, frontier_lo: int, level: int) -> None:
        """Take a checkpointed shard: its states and links, the frontier from ``frontier_lo`` ranked."""
        n = len(states)
        if n > self.capacity:
            raise ShardFull(f"the checkpoint holds {n} states, above this worker's capacity {self.capacity}")
        self.vis.states[:n] = states
        self.vis.parent[:n] = parent
        self.vis.action[:n] = action
        self.parent_shard[:n] = parent_shard
        self.vis.table = np.zeros(table_size_for(max(n, 1 << 14)), dtype=np.int32)
        rebuild(self.vis.table, self.vis.states, n, self.K)
        self.n = n
        self.level_lo = frontier_lo
        self.set_ranks(ranks, level)


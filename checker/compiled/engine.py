"""The compiled engine's driver: runs the compiled BFS/DFS in chunks and gives today's Verdict and Stats.

Between chunks it reports progress, applies the time limit, grows the hash
table, and stops honestly at the memory bound. A counterexample is read back
through the parent links, decoded to model States and Actions, and replayed
in the Python model before it is returned (check (c) of issue 14): a trace
that does not replay, or whose last state the Python predicates judge
differently, raises ``CompiledCoreError`` naming the step, which the CLI
reports as an internal error (exit 2).
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np

from checker.compiled.actions import decode_action
from checker.compiled.bfs import (S_CHUNK, S_DEADLOCK, S_DONE, S_FULL, S_GROW, S_GROW_POOL, S_MAX_DEPTH,
                                  S_MAX_STATES, S_OVERFLOW, S_VIOLATED, ST_BAD, ST_CUT, ST_DEPTH, ST_POOL,
                                  ST_HEAD, ST_LEN, ST_LEVEL_END, ST_MAX_DEPTH_SEEN, ST_N, ST_PROP, ST_TERMINAL,
                                  ST_TOP, ST_TRANSITIONS, bfs_chunk)
from checker.compiled.dfs import dfs_chunk
from checker.compiled.layout import C_MAXSUCC, Layout, LayoutError, build_layout, decode, encode, to_flat
from checker.compiled.predicates import PROPERTY_ID, first_violated
from checker.compiled.steps import is_terminal, successors
from checker.compiled.tree import TreeStore
from checker.compiled.tree_bfs import tree_bfs_chunk
from checker.compiled.tree_layout import choose_shape, pilot_states
from checker.compiled.visited import LOAD_NUM, Visited, find_or_insert
from checker.search import DEADLOCK, Search
from checker.verdict import BOUNDED, HOLDS, VIOLATED, Verdict
from model.actions import Action
from model.state import State
from model.symmetry import canonicalize, concretize
from model.variants import SPINLOCK
from specs import PROPERTY_ORDER

ENGINE = "compiled"
STRATEGIES = ("bfs", "dfs")
STORES = ("flat", "tree")
"""How the visited states are kept: whole packed states, or as trees of shared nodes (``tree``)."""
CHUNK_SECONDS = 0.25


class CompiledCoreError(RuntimeError):
    """The compiled core disagrees with the Python model (a bug in the compiled core)."""


KNOWN_SEARCH_FIELDS = {"model", "properties", "limits", "progress", "progress_every", "check_deadlock",
                       "symmetry"}
KNOWN_LIMITS = {"max_states", "max_depth", "timeout", "max_memory"}
KNOWN_CONFIG_FIELDS = {"variant", "ring_size", "producers", "records", "hold", "sizes", "consumer", "nmi",
                       "discard", "wakeup_flags", "adversary_reach"}


def _unknown_option(obj: object, known: set[str]) -> str | None:
    """The first dataclass field of ``obj`` outside ``known`` that is not at its default."""
    for f in dataclasses.fields(obj):
        if f.name in known:
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if getattr(obj, f.name) != default:
            return f.name
    return None


def unsupported(search: Search, strategy: str) -> str | None:
    """Why the compiled core cannot run this search, or None when it can.

    Anything it does not know (a search option, a limit or a configuration
    field added after it was written, set away from its default) counts as
    unsupported, so that ``--engine auto`` falls back to the Python engine
    rather than silently ignore it.
    """
    for obj, known, what in ((search, KNOWN_SEARCH_FIELDS, "option"), (search.limits, KNOWN_LIMITS, "limit"),
                             (search.config, KNOWN_CONFIG_FIELDS, "configuration field")):
        unknown = _unknown_option(obj, known)
        if unknown is not None:
            return f"the {what} {unknown}={getattr(obj, unknown)!r}"
    rules = search.config.rules
    if rules.lock != SPINLOCK or rules.overwrite:
        return f"the variant {rules.name} (the compiled core has the spinlock variants without overwrite)"
    if strategy not in STRATEGIES:
        return f"strategy {strategy} (the compiled core has bfs and dfs)"
    if search.symmetry and strategy != "bfs":
        return "--symmetry with a strategy other than bfs"
    state = search.model.initial_states()[0]
    if getattr(state, "memory", None) is not None:
        return "a weak memory model (the compiled core is sequentially consistent only)"
    if any(p.name not in PROPERTY_ID for p in search.properties):
        return "a property the compiled core does not know"
    try:
        build_layout(search.config, search.model.start)
    except LayoutError as e:
        return f"the configuration does not fit the packed state: {e}"
    return None


MB = 1 << 20
TABLE_BYTES_PER_STATE = 12
"""The hash table's share per state, at its worst load (4-byte entries, at least 1/0.7 per state, doubled)."""
ROOT_LOAD_MAX = 9
"""With the tree store, when doubling the root table would pass the memory bound, it is filled to 9/10
(longer probes, but 30% more states) before the run ends at the bound."""
TREE_BYTES_PER_STATE = 16
"""What the tree store's capacity is sized by: a root pair, a parent link and the table at its usual load.
The capacity only reserves address space; the memory bound is enforced on the process's size."""


def store_unsupported(store: str, strategy: str) -> str | None:
    """Why ``store`` cannot be used with this strategy, or None."""
    if store not in STORES:
        return f"the store {store!r} (one of {', '.join(STORES)})"
    if store == "tree" and strategy != "bfs":
        return f"--store tree with strategy {strategy} (the tree store has the BFS)"
    return None


def _memory_limit(search: Search) -> int:
    """This run's memory bound in bytes: ``--max-memory`` (MiB), else 3/4 of what is available now.

    When the search carries a ``budget`` (checker.memory, the limits branch),
    its limit is used, so both engines stop at the same bound.
    """
    budget = getattr(search, "budget", None)
    if budget is not None:
        return int(budget.limit_mb * MB)
    limit_mb = getattr(search.limits, "max_memory", None)
    if limit_mb is not None:
        return int(limit_mb * MB)
    return _rss_bytes() + int(0.75 * _available_bytes())


def _available_bytes() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 8 << 30


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_compiled(search: Search, strategy: str = "bfs", workers: int = 1, store: str = "flat") -> Verdict:
    """Run ``search`` on the compiled core with ``strategy`` (bfs or dfs); BFS on ``workers`` threads.

    ``store`` is where the visited states are kept (``STORES``).
    """
    why = unsupported(search, strategy) or store_unsupported(store, strategy)
    if why is not None:
        raise CompiledCoreError(f"the compiled core does not support {why}")
    model = search.model
    lay = build_layout(search.config, model.start)
    props = np.array([PROPERTY_ID[p.name] for p in search.properties], dtype=np.int64)
    limits = search.limits
    symmetric = bool(search.symmetry and search.config.producers > 1)
    stats = search.stats
    """The search's own statistics, kept current between chunks, so an interrupted run reports them."""
    t0 = time.perf_counter()
    max_memory = _memory_limit(search)
    memory_bound = f"max_memory={max_memory / MB:.0f}MB"
    per_state = TREE_BYTES_PER_STATE if store == "tree" else 8 * lay.nwords + 8 + TABLE_BYTES_PER_STATE
    capacity = max(1 << 10, (max_memory - _rss_bytes()) // per_state)
    if limits.max_states is not None:
        capacity = min(capacity, limits.max_states + int(lay.C[C_MAXSUCC]) + 1)
    st = np.zeros(ST_LEN, dtype=np.int64)
    root = model.initial_states()[0]
    words = encode(lay, root)
    tree = None
    if store == "tree":
        shape = choose_shape(pilot_states(lay, words, symmetric))
        tree = TreeStore(lay.nwords, max(1 << 12, (max_memory - _rss_bytes()) // 16), shape)
        vis = Visited(1, capacity, actions=False)
        words = np.array([tree.key_of(words, st[ST_POOL:])], dtype=np.int64)
    else:
        vis = Visited(lay.nwords, capacity)
    find_or_insert(vis.table, vis.states, 0, words, vis.nwords)
    vis.parent[0] = -1
    if tree is None:
        vis.action[0] = 0
    table_load = LOAD_NUM             # the tree store's root-table load limit, in tenths (ROOT_LOAD_MAX at the bound)
    st[ST_N] = 1
    flat = to_flat(lay, root)
    root_prop = first_violated(lay.C, flat, is_terminal(lay.C, flat), props)
    buffers = None

    def finish(kind: str, **kw: object) -> Verdict:
        stats.states = int(st[ST_N])
        stats.transitions = int(st[ST_TRANSITIONS])
        stats.depth = int(st[ST_MAX_DEPTH_SEEN])
        stats.terminal = int(st[ST_TERMINAL])
        stats.queue = max(0, int(st[ST_N]) - int(st[ST_HEAD])) if strategy == "bfs" and kind != HOLDS else 0
        stats.seconds = time.perf_counter() - t0
        v = search.verdict(kind, stats, strategy, **kw)
        used = vis.bytes_used(stats.states) + (tree.bytes_used(int(st[ST_POOL])) if tree is not None else 0)
        v.stats.bytes_per_state = used / max(1, stats.states)
        v.engine = ENGINE
        v.threads = buffers.workers if buffers is not None else 1
        v.store = store
        if tree is not None:
            v.notes.append(f"tree store: words {tree.shape}, {int(st[ST_POOL]):,} inner nodes")
        return v

    def words_of(i: int) -> np.ndarray:
        """The packed words of stored state ``i``."""
        return vis.states[i] if tree is None else tree.words_of(int(vis.states[i, 0]))

    if root_prop >= 0:
        return _violation(search, lay, vis, words_of, 0, int(root_prop), finish, symmetric)

    frame_state = frame_next = None
    if strategy == "bfs":
        st[ST_HEAD], st[ST_LEVEL_END], st[ST_DEPTH] = 0, 1, 0
    else:
        m = successors(lay.C, flat, np.zeros((int(lay.C[C_MAXSUCC]), lay.nflat), np.int64),
                       np.zeros(int(lay.C[C_MAXSUCC]), np.int64), np.zeros(lay.nflat, np.int64))
        st[ST_TRANSITIONS] = m
        if m == 0 and search.check_deadlock and not is_terminal(lay.C, flat):
            return _violation(search, lay, vis, 0, -1, finish, symmetric)
        frame_state = np.zeros(1 << 12, dtype=np.int64)
        frame_next = np.zeros(1 << 12, dtype=np.int64)
        frame_state[0] = 0
        st[ST_TOP] = 1
    if workers > 1 and strategy == "bfs" and tree is not None:
        from checker.compiled.tree_parallel import TreeBuffers, tree_parallel_chunk

        buffers = TreeBuffers(lay.C, tree.leaves, tree.NODES.shape[0], min(workers, os.cpu_count() or 1))
    elif workers > 1 and strategy == "bfs":
        from checker.compiled.parallel import bfs_parallel_chunk, make_buffers

        buffers = make_buffers(lay.C, lay.nwords, min(workers, os.cpu_count() or 1))
    try:
        budget = 1 << 14
        next_report = t0 + search.progress_every
        while True:
            c0 = time.perf_counter()
            if buffers is not None and tree is not None:
                status = tree_parallel_chunk(lay.C, lay.FT, props, tree, vis.states, vis.parent, vis.table,
                                             table_load, vis.capacity, st, budget, search.check_deadlock,
                                             limits.max_depth or 0, limits.max_states or 0, symmetric, buffers)
            elif buffers is not None:
                status = bfs_parallel_chunk(lay.C, lay.FT, props, vis.states, vis.parent, vis.action, vis.table,
                                            vis.capacity, st, budget, search.check_deadlock,
                                            limits.max_depth or 0, limits.max_states or 0, symmetric, buffers)
            elif tree is not None:
                status = tree_bfs_chunk(lay.C, lay.FT, props, tree.NODES, tree.ROOT, tree.leaves, vis.states,
                                        vis.parent, vis.table, table_load, vis.capacity, tree.pool, tree.ptable,
                                        tree.pool_capacity, st, budget, search.check_deadlock,
                                        limits.max_depth or 0, limits.max_states or 0, symmetric)
            elif strategy == "bfs":
                status = bfs_chunk(lay.C, lay.FT, props, vis.states, vis.parent, vis.action, vis.table,
                                   vis.capacity, st, budget, search.check_deadlock,
                                   limits.max_depth or 0, limits.max_states or 0, symmetric)
            else:
                status = dfs_chunk(lay.C, lay.FT, props, vis.states, vis.parent, vis.action, vis.table,
                                   vis.capacity, frame_state, frame_next, st, budget, search.check_deadlock,
                                   limits.max_depth or 0)
            now = time.perf_counter()
            if status == S_CHUNK and now - c0 < CHUNK_SECONDS / 2:
                budget *= 2
            stats.states, stats.transitions = int(st[ST_N]), int(st[ST_TRANSITIONS])
            stats.depth, stats.seconds = int(st[ST_MAX_DEPTH_SEEN]), now - t0
            if search.progress and now >= next_report:
                search.progress(stats)
                next_report = now + search.progress_every
            if status == S_DONE:
                if st[ST_CUT]:
                    return finish(BOUNDED, bound=f"max_depth={limits.max_depth}")
                return finish(HOLDS)
            if status == S_VIOLATED:
                return _violation(search, lay, vis, words_of, int(st[ST_BAD]), int(st[ST_PROP]), finish, symmetric)
            if status == S_DEADLOCK:
                return _violation(search, lay, vis, words_of, int(st[ST_BAD]), -1, finish, symmetric)
            if status == S_OVERFLOW:
                raise CompiledCoreError(
                    f"a successor of state {decode(lay, words_of(int(st[ST_BAD])))} does not fit the packed layout")
            if status == S_MAX_DEPTH:
                return finish(BOUNDED, bound=f"max_depth={limits.max_depth}")
            if status == S_MAX_STATES or (limits.max_states is not None and st[ST_N] >= limits.max_states):
                return finish(BOUNDED, bound=f"max_states={limits.max_states}")
            if limits.timeout is not None and now - t0 >= limits.timeout:
                return finish(BOUNDED, bound=f"timeout={limits.timeout}s")
            if _rss_bytes() > max_memory:
                return finish(BOUNDED, bound=memory_bound)
            if status == S_GROW:
                upto = 2 * int(st[ST_N]) + 2 * int(lay.C[C_MAXSUCC])
                if _rss_bytes() + vis.table_bytes_after_growth(upto) > max_memory:
                    if tree is not None and table_load < ROOT_LOAD_MAX:
                        table_load = ROOT_LOAD_MAX
                        continue
                    return finish(BOUNDED, bound=memory_bound)
                vis.grow_table(int(st[ST_N]), upto)
            elif status == S_GROW_POOL:
                if _rss_bytes() + tree.ptable.nbytes > max_memory:            # doubled, the old one let go
                    return finish(BOUNDED, bound=memory_bound)
                n_pool = int(st[ST_POOL])
                tree.grow_table(n_pool, 2 * n_pool + 2 * int(lay.C[C_MAXSUCC]) * tree.NODES.shape[0])
            elif status == S_FULL:
                if frame_state is not None and st[ST_TOP] + 1 > frame_state.shape[0]:
                    frame_state = np.concatenate([frame_state, np.zeros_like(frame_state)])
                    frame_next = np.concatenate([frame_next, np.zeros_like(frame_next)])
                    continue
                if limits.max_states is not None and vis.capacity >= limits.max_states:
                    return finish(BOUNDED, bound=f"max_states={limits.max_states}")
                return finish(BOUNDED, bound=memory_bound)
    finally:
        if buffers is not None:
            buffers.close()


def _first_step_to(search: Search, before: State, after: State, symmetric: bool, k: int) -> Action:
    """The first action, in the model's order, that takes ``before`` to ``after`` (up to renaming).

    For a store that keeps no action codes (the tree store): the search
    stored ``after`` when it met it first, from the first successor of its
    parent equal to it, so this is the action the flat store records.
    """
    for action, nxt in search.model.successors(before):
        if (canonicalize(search.config, nxt)[0] if symmetric else nxt) == after:
            return action
    raise CompiledCoreError(f"compiled trace does not replay: no step of the model leads to step {k}'s state")


def _violation(search: Search, lay: Layout, vis: Visited, words_of, bad: int, prop: int, finish,
               symmetric: bool = False) -> Verdict:
    """Read the trace to state ``bad`` back, replay it in the Python model, and build the verdict.

    Under symmetry the stored states are representatives: each step must
    replay up to renaming, and ``model.symmetry.concretize`` turns the path
    into a real one, whose last state the Python predicates judge again.
    """
    chain = []
    i = bad
    while i != 0:
        chain.append(i)
        i = int(vis.parent[i])
    chain.reverse()
    model = search.model
    cfg = search.config
    root = decode(lay, words_of(0))
    if root != model.initial_states()[0]:
        raise CompiledCoreError("the compiled initial state is not the model's")
    path: list[tuple[Action, State]] = []
    before = root
    for k, i in enumerate(chain, 1):
        after = decode(lay, words_of(i))
        if vis.action.shape[0]:
            action = decode_action(cfg, int(vis.action[i]), before)
        else:
            action = _first_step_to(search, before, after, symmetric, k)
        replayed = model.apply(before, action)
        if replayed is None:
            raise CompiledCoreError(f"compiled trace does not replay: step {k} ({action}) is not enabled")
        if symmetric:
            replayed = canonicalize(cfg, replayed)[0]
        if replayed != after:
            raise CompiledCoreError(f"compiled trace does not replay: step {k} ({action}) leads elsewhere")
        path.append((action, after))
        before = after
    if symmetric:
        try:
            path = concretize(model, root, path)
        except AssertionError as e:
            raise CompiledCoreError(f"compiled trace does not map back: {e}") from None
        before = path[-1][1] if path else root
    final = before
    terminal = model.is_terminal(final)
    if prop < 0:
        if model.successors(final) or terminal:
            raise CompiledCoreError("compiled core reported a deadlock the Python model does not have")
        return finish(VIOLATED, prop=DEADLOCK, reason="no step is possible but the run is not finished",
                      path=path, initial=root)
    found = search.violation(final, terminal)
    if found is None or found[0] != PROPERTY_ORDER[prop]:
        raise CompiledCoreError(f"compiled predicate {PROPERTY_ORDER[prop]} disagrees with the Python "
                                f"model at the end of the trace ({found[0] if found else 'none violated'})")
    return finish(VIOLATED, prop=found[0], reason=found[1], path=path, initial=root)

"""The driver of a distributed search: level by level, over a pool of shards.

Each level: every worker expands its frontier in blocks, each block's
successors go to their owners in batches (``transport``), and the owners
insert them keeping the serial BFS's parent for every new state (the
smallest key, see ``kernels``). When the level is complete the driver
looks at what it found: a violation or a deadlock (the one the serial BFS
would meet first: the smallest key), or nothing new (the search is
complete); else it ranks the new states in the serial BFS's order, which
gives the next level's keys, writes a checkpoint if asked, and checks the
limits. So the counts, the verdict and the first counterexample are the
serial compiled engine's, whatever the number of workers.

A counterexample is read back through the parent links across shards,
decoded, and replayed in the Python model before it is printed: a trace
that does not replay raises ``CompiledCoreError`` (an internal error, exit 2).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from checker.compiled.actions import decode_action
from checker.compiled.engine import CompiledCoreError, unsupported
from checker.compiled.layout import C_MAXSUCC, build_layout, decode, to_flat
from checker.compiled.predicates import PROPERTY_ID
from checker.distributed import checkpoint as ckpt
from checker.distributed.kernels import EXTRA_COLUMNS, root_check
from checker.distributed.shard import BLOCK, MB, Shard
from checker.distributed.transport import LocalPool, RayPool, WorkerError, WorkerLost, import_ray
from checker.interrupt import Interrupted
from checker.search import DEADLOCK, Search, SearchError
from checker.verdict import BOUNDED, HOLDS, VIOLATED, Verdict
from model.symmetry import canonicalize, concretize
from specs import PROPERTY_ORDER

ON_WORKER_LOSS = ("stop", "resume")
MAX_RESUMES = 3
"""How often ``--on-worker-loss resume`` restarts the workers from the checkpoint before it gives up."""


class DistributedError(SearchError):
    """A distributed run cannot start or go on (one-line message, exit 2)."""


@dataclass
class DistributedVerdict(Verdict):
    """A verdict with the distributed run's statistics per worker and in total."""

    distributed: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(super().to_dict(), distributed=self.distributed)

    def worker_lines(self) -> list[str]:
        """The statistics per worker and in total, as text."""
        d = self.distributed
        out = [f"workers:  {d['workers']} ({d['transport']}), levels synchronised, batches by owner"]
        for w in d["per_worker"] + [dict(d["total"], worker="total")]:
            out.append(f"  worker {w['worker']!s:>5}: {w['states']:>12,} states {w['bytes'] / MB:>9.1f} MB "
                       f"({w['bytes'] / max(1, w['states']):.1f} bytes/state), {w['messages_sent']:,} batches "
                       f"sent ({w['bytes_sent'] / MB:.1f} MB), {w['messages_received']:,} received"
                       + (f", peak {w['peak_mb']:.0f} MB" if "peak_mb" in w else ""))
        return out


def _as_distributed(v: Verdict, info: dict) -> DistributedVerdict:
    return DistributedVerdict(**{f.name: getattr(v, f.name) for f in fields(Verdict)}, distributed=info)


@dataclass
class Totals:
    """What the driver counts across levels (all shards together)."""

    level: int = 0
    """The frontier's level: every state within this depth has been found and judged."""
    states: int = 0
    before_frontier: int = 0
    """States of the levels before the frontier (the global index of the frontier's first state)."""
    transitions: int = 0
    terminal: int = 0
    depth: int = 0


@dataclass
class Run:
    """One distributed search and what it needs to start (or restart) its workers."""

    search: Search
    workers: int
    address: str | None
    memory_bytes: int
    checkpoint: Path | None
    digest: str
    shard_config: dict
    fault: tuple[int, int] | None = None
    on_worker_loss: str = "stop"
    lay: object = None
    totals: Totals = field(default_factory=Totals)
    losses: list[str] = field(default_factory=list)
    pool_info: dict = field(default_factory=dict)

    def shard_args(self, fault: tuple[int, int] | None) -> list[tuple]:
        s = self.search
        names = [p.name for p in s.properties]
        symmetric = bool(s.symmetry and s.config.producers > 1)
        return [(k, self.workers, self.shard_config, s.model.start, names, symmetric, s.check_deadlock,
                 self.memory_bytes, fault[1] if fault and fault[0] == k else -1) for k in range(self.workers)]


def run_distributed(search: Search, workers: int | None = None, address: str | None = None,
                    checkpoint: str | Path | None = None, resume: str | Path | None = None,
                    worker_memory_mb: float | None = None, on_worker_loss: str = "stop",
                    fault: tuple[int, int] | None = None) -> Verdict:
    """Run ``search`` (BFS, compiled core) over ``workers`` shards: local processes, or Ray actors at ``address``.

    ``checkpoint``: write the shards at the end of every level into this
    directory; ``resume``: continue from a checkpoint (and keep writing
    it). ``worker_memory_mb``: each worker's memory bound (default: the
    search's ``max_memory`` split between the workers). ``on_worker_loss``:
    ``stop`` (a bounded verdict naming the lost worker) or ``resume`` (restart
    the workers from the last checkpoint). ``fault`` = (worker, level): that
    worker kills itself with SIGKILL when it starts expanding that level
    (the fault tests; once, not again after a resume).
    """
    why = unsupported(search, "bfs")
    if why is not None:
        raise DistributedError(f"workers: the distributed search runs the compiled core, which does not support {why}")
    if search.max_violations != 1 or search.coverage is not None:
        raise DistributedError("workers: --max-violations and --coverage are not available in the distributed search")
    if on_worker_loss not in ON_WORKER_LOSS:
        raise DistributedError(f"on-worker-loss: {on_worker_loss!r} is not one of {', '.join(ON_WORKER_LOSS)}")
    if workers is not None and workers < 1:
        raise DistributedError(f"workers: must be at least 1, got {workers}")
    cfg = search.config
    names = [p.name for p in search.properties]
    symmetric = bool(search.symmetry and cfg.producers > 1)
    digest = ckpt.run_digest(cfg.to_dict(), search.model.start, names, symmetric, search.check_deadlock)
    meta = None
    if resume is not None:
        resume = Path(resume)
        meta = ckpt.read_meta(resume)
        if meta.get("digest") != digest:
            raise DistributedError(f"resume: {resume} was made by a different model or configuration "
                                   f"({meta.get('describe', '?')}); refusing it")
        if workers is not None and workers != meta["workers"]:
            raise DistributedError(f"resume: {resume} has {meta['workers']} shards; resume it with "
                                   f"--workers {meta['workers']} (or without --workers)")
        workers = int(meta["workers"])
        if checkpoint is not None and Path(checkpoint).resolve() != resume.resolve():
            raise DistributedError("checkpoint: with --resume DIR the checkpoint is written to DIR itself")
        checkpoint = resume
    elif checkpoint is not None:
        checkpoint = Path(checkpoint)
        ckpt.prepare_new(checkpoint)
    if on_worker_loss == "resume" and checkpoint is None:
        raise DistributedError("on-worker-loss: resume needs --checkpoint DIR to resume from")
    if address is not None:
        ray = import_ray()
        if not ray.is_initialized():
            try:
                ray.init(address=address, log_to_driver=False, logging_level="ERROR")
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise DistributedError(f"ray: cannot connect to the cluster at {address}: "
                                       f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    workers = workers or 1
    if worker_memory_mb is None:
        worker_memory_mb = search.budget.limit_mb / workers
    run = Run(search, workers, address, int(worker_memory_mb * MB), checkpoint, digest, cfg.to_dict(), fault,
              on_worker_loss)
    run.lay = build_layout(cfg, search.model.start)
    t0 = time.perf_counter()
    try:
        return _run(run, meta, t0)
    except Interrupted as stop:
        from checker.run import interrupted

        t, st = run.totals, search.stats
        st.states, st.transitions, st.terminal, st.depth = t.states, t.transitions, t.terminal, t.depth
        st.queue, st.seconds = t.states - t.before_frontier, time.perf_counter() - t0
        v = interrupted(search, "bfs", stop.signal_name)
        v.engine = "compiled"
        v.notes.append(f"every state within depth {t.level} was found and checked"
                       + (f"; the checkpoint in {run.checkpoint} resumes from there" if run.checkpoint else ""))
        return v


def _start_pool(run: Run, fault: tuple[int, int] | None):
    args = run.shard_args(fault)
    if run.address is not None:
        pool = RayPool(args, run.address)
        from checker.distributed import sources_digest

        mine = sources_digest()
        for k, hello in enumerate(pool.nodes):
            if hello["digest"] != mine:
                pool.close()
                raise DistributedError(f"ray: worker {k} on {hello['host']} runs other ringcheck sources than "
                                       f"this driver; install the same ringcheck on every node")
        run.pool_info = {"transport": "ray", "address": run.address,
                         "hosts": sorted({h["host"] for h in pool.nodes}),
                         "nodes": [h["node"] for h in pool.nodes], "pids": [h["pid"] for h in pool.nodes]}
    else:
        cols = run.lay.nwords + EXTRA_COLUMNS
        pool = LocalPool(args, BLOCK * int(run.lay.C[C_MAXSUCC]) * cols * 8)
        run.pool_info = {"transport": "processes", "pids": pool.pids()}
    return pool


def _warm_up(run: Run) -> None:
    """Compile (or load from numba's cache) the shard's kernels once here, before the workers start,
    so that N local workers do not all compile them at the same time on a cold cache."""
    s = run.search
    shard = Shard(0, 1, run.shard_config, s.model.start, [p.name for p in s.properties], False, True, 64 * MB)
    shard.add_root(_root_words(run))
    shard.end_level()
    shard.set_ranks(np.zeros(1, dtype=np.int64), 0)
    shard.insert(*shard.expand_next()[1])


def _root_words(run: Run) -> np.ndarray:
    from checker.compiled.layout import encode

    return encode(run.lay, run.search.model.initial_states()[0])


def _run(run: Run, meta: dict | None, t0: float) -> Verdict:
    search = run.search
    root = search.model.initial_states()[0]
    props = np.array([PROPERTY_ID[p.name] for p in search.properties], dtype=np.int64)
    flat = to_flat(run.lay, root)
    bad, _terminal = root_check(run.lay.C, props, flat)
    if run.address is None:
        _warm_up(run)
    if bad >= 0:
        search.stats.states = 1
        return _finish(run, None, _violation_verdict(run, None, [], int(bad), t0), t0)
    fault = run.fault
    attempt = 0
    while True:
        try:
            pool = _start_pool(run, fault)
        except WorkerLost as lost:
            raise DistributedError(f"workers: {lost} as it started") from None
        except WorkerError as e:
            raise DistributedError(f"workers: {e}") from None
        fault = None
        try:
            if meta is None:
                _start_fresh(run, pool)
            else:
                _load(run, pool, meta)
            return _levels(run, pool, t0)
        except WorkerLost as lost:
            attempt += 1
            run.losses.append(str(lost))
            if run.checkpoint is None or not ckpt.is_checkpoint(run.checkpoint) or attempt > MAX_RESUMES \
                    or run.on_worker_loss != "resume":
                return _lost_verdict(run, pool, lost, t0)
            meta = ckpt.read_meta(run.checkpoint)
        except WorkerError as e:
            raise CompiledCoreError(str(e)) from None
        finally:
            pool.close()


def _start_fresh(run: Run, pool) -> None:
    words = _root_words(run)
    owner = int(pool.call_one(0, "owner", words))
    pool.call_one(owner, "add_root", words)
    run.totals = Totals()
    _rank_level(run, pool, [e[1] for e in pool.call("end_level")], 0)
    run.totals.states = 1
    _checkpoint(run, pool)


def _load(run: Run, pool, meta: dict) -> None:
    shards = ckpt.read_shards(run.checkpoint, meta)
    pool.call("load", [(d.states, d.parent, d.action, d.parent_shard, d.ranks, d.frontier_lo, int(meta["level"]))
                       for d in shards])
    t = meta["totals"]
    run.totals = Totals(level=int(meta["level"]), states=t["states"], before_frontier=t["before_frontier"],
                        transitions=t["transitions"], terminal=t["terminal"], depth=t["depth"])


def _rank_level(run: Run, pool, keys: list[np.ndarray], level: int) -> None:
    """Rank the new states of every shard in the serial BFS's order (by key) and make them the frontier."""
    flat = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    order = np.argsort(flat, kind="stable")
    ranks = np.empty(len(flat), dtype=np.int64)
    ranks[order] = np.arange(len(flat), dtype=np.int64)
    cuts = np.cumsum([0] + [len(k) for k in keys])
    pool.call("set_ranks", [(ranks[cuts[k]:cuts[k + 1]], level) for k in range(run.workers)])


def _checkpoint(run: Run, pool) -> None:
    if run.checkpoint is None:
        return
    segments = pool.call("segment_of_frontier")
    t = run.totals
    ckpt.write_level(run.checkpoint, t.level, segments, {
        "digest": run.digest, "workers": run.workers, "describe": run.search.config.describe(),
        "config": run.shard_config, "start": run.search.model.start,
        "totals": {"states": t.states, "before_frontier": t.before_frontier, "transitions": t.transitions,
                   "terminal": t.terminal, "depth": t.depth}})
    if os.environ.get(PAUSE_AFTER_LEVEL) == str(t.level):
        os.kill(os.getpid(), signal.SIGSTOP)


PAUSE_AFTER_LEVEL = "RINGCHECK_TEST_PAUSE_AFTER_LEVEL"
"""For the kill-and-resume test: the driver stops itself (SIGSTOP) right after writing this level's
checkpoint, so the test can SIGKILL it at a known point."""


def _levels(run: Run, pool, t0: float) -> Verdict:
    search, t = run.search, run.totals
    limits = search.limits
    cap = int(run.lay.C[C_MAXSUCC])
    next_report = time.perf_counter() + search.progress_every
    if t.level > 0:                                      # resumed: the limits may be tighter than the run's
        if limits.max_states is not None and t.states >= limits.max_states:
            return _bounded(run, pool, f"max_states={limits.max_states}", None, t0)
        if limits.max_depth is not None and t.level >= limits.max_depth:
            return _bounded(run, pool, f"max_depth={limits.max_depth}", None, t0)
    while True:
        deadlock = -1
        done = False
        expanded = 0
        while not done:
            summaries, inserted = pool.exchange()
            for k, s in enumerate(summaries):
                if s["overflow"] >= 0:
                    raise CompiledCoreError(f"worker {k}: a successor of a state does not fit the packed layout")
                if s["deadlock"] >= 0 and (deadlock < 0 or s["deadlock"] < deadlock):
                    deadlock = s["deadlock"]
                expanded += s["expanded"]
            done = all(s["done"] for s in summaries)
            full = [(k, r["full"]) for k, r in enumerate(inserted) if r["full"]]
            now = time.perf_counter()
            search.stats.seconds = now - t0
            if full:
                k, why = full[0]
                return _bounded(run, pool, f"max_memory={run.memory_bytes / MB:.0f}MB per worker "
                                           f"(worker {k}: {why})", expanded, t0)
            if limits.timeout is not None and now - t0 >= limits.timeout:
                return _bounded(run, pool, f"timeout={limits.timeout}s", expanded, t0)
            if search.progress and now >= next_report:
                search.stats.states, search.stats.depth = t.states, t.depth
                search.stats.transitions = t.transitions
                search.progress(search.stats)
                next_report = now + search.progress_every
        ends = pool.call("end_level")
        summaries = [e[0] for e in ends]
        found = [(s["violation"]["key"], k, s["violation"]) for k, s in enumerate(summaries) if s["violation"]]
        first = min(found, key=lambda x: x[0]) if found else None
        if first is not None and (deadlock < 0 or first[0] >= deadlock * cap):
            return _stop_at(run, pool, first[0], first[0] // cap, (first[1], first[2]), t0)
        if deadlock >= 0:
            return _stop_at(run, pool, deadlock * cap - 1, deadlock, None, t0)
        new = sum(s["new"] for s in summaries)
        t.transitions += sum(s["transitions"] for s in summaries)
        if new == 0:
            return _finish(run, pool, _verdict(run, HOLDS, t.states, t.transitions, t.terminal, t.depth, 0, t0), t0)
        t.terminal += sum(s["terminal"] for s in summaries)
        t.before_frontier = t.states
        t.states += new
        t.level += 1
        t.depth = t.level
        _rank_level(run, pool, [e[1] for e in ends], t.level)
        _checkpoint(run, pool)
        if limits.max_states is not None and t.states >= limits.max_states:
            return _bounded(run, pool, f"max_states={limits.max_states}", None, t0)
        if limits.max_depth is not None and t.level >= limits.max_depth:
            return _bounded(run, pool, f"max_depth={limits.max_depth}", None, t0)
        if limits.timeout is not None and time.perf_counter() - t0 >= limits.timeout:
            return _bounded(run, pool, f"timeout={limits.timeout}s", None, t0)


def _verdict(run: Run, kind: str, states: int, transitions: int, terminal: int, depth: int, queue: int,
             t0: float, **kw) -> Verdict:
    st = run.search.stats
    st.states, st.transitions, st.terminal, st.depth, st.queue = states, transitions, terminal, depth, queue
    st.seconds = time.perf_counter() - t0
    v = run.search.verdict(kind, st, "bfs", **kw)
    v.engine = "compiled"
    return v


def _stop_at(run: Run, pool, key: int, rank: int, violation: tuple[int, dict] | None, t0: float) -> Verdict:
    """The verdict of a violation (or, with ``violation`` None, a deadlock at frontier rank ``rank``), with
    the counts the serial BFS has when it stops there."""
    t = run.totals
    counts = pool.call("count_upto", [(key, rank)] * run.workers)
    new = sum(c["new"] for c in counts)
    states = t.states + new
    stats = (states, t.transitions + sum(c["transitions"] for c in counts), t.terminal + sum(c["terminal"] for c in counts),
             t.level + 1 if new else t.level, states - (t.before_frontier + rank))
    if violation is None:
        owner, index = _frontier_state(run, pool, rank)
        chain = _chain(pool, owner, index)
        return _finish(run, pool, _violation_verdict(run, stats, chain, -1, t0), t0)
    owner, info = violation
    chain = _chain(pool, owner, info["index"])
    return _finish(run, pool, _violation_verdict(run, stats, chain, info["property"], t0), t0)


def _frontier_state(run: Run, pool, rank: int) -> tuple[int, int]:
    """(shard, index) of the frontier state of ``rank``."""
    for k, found in enumerate(pool.call("frontier_index", [(rank,)] * run.workers)):
        if found >= 0:
            return k, found
    raise CompiledCoreError(f"no shard holds the frontier state of rank {rank}")


def _chain(pool, shard: int, index: int) -> list[tuple[np.ndarray, int]]:
    """(packed words, action code) from the initial state to state ``index`` of ``shard``."""
    out = []
    while True:
        words, ps, pi, action = pool.call_one(shard, "node", index)
        out.append((words, action))
        if ps < 0:
            break
        shard, index = ps, pi
    out.reverse()
    return out


def _violation_verdict(run: Run, stats: tuple | None, chain: list, prop: int, t0: float) -> Verdict:
    """Decode the chain, replay it in the Python model, and build the violated verdict."""
    search, lay = run.search, run.lay
    model, cfg = search.model, search.config
    symmetric = bool(search.symmetry and cfg.producers > 1)
    root = model.initial_states()[0]
    if chain and decode(lay, chain[0][0]) != root:
        raise CompiledCoreError("the distributed search's initial state is not the model's")
    path = []
    before = root
    for k, (words, code) in enumerate(chain[1:], 1):
        action = decode_action(cfg, code, before)
        after = decode(lay, words)
        replayed = model.apply(before, action)
        if replayed is None:
            raise CompiledCoreError(f"distributed trace does not replay: step {k} ({action}) is not enabled")
        if symmetric:
            replayed = canonicalize(cfg, replayed)[0]
        if replayed != after:
            raise CompiledCoreError(f"distributed trace does not replay: step {k} ({action}) leads elsewhere")
        path.append((action, after))
        before = after
    if symmetric:
        try:
            path = concretize(model, root, path)
        except AssertionError as e:
            raise CompiledCoreError(f"distributed trace does not map back: {e}") from None
        before = path[-1][1] if path else root
    final = before
    terminal = model.is_terminal(final)
    if stats is None:
        stats = (1, 0, 0, 0, 1)
    if prop < 0:
        if model.successors(final) or terminal:
            raise CompiledCoreError("the distributed search reported a deadlock the Python model does not have")
        return _verdict(run, VIOLATED, *stats, t0, prop=DEADLOCK,
                        reason="no step is possible but the run is not finished", path=path, initial=root)
    found = search.violation(final, terminal)
    if found is None or found[0] != PROPERTY_ORDER[prop]:
        raise CompiledCoreError(f"compiled predicate {PROPERTY_ORDER[prop]} disagrees with the Python model at "
                                f"the end of the distributed trace ({found[0] if found else 'none violated'})")
    return _verdict(run, VIOLATED, *stats, t0, prop=found[0], reason=found[1], path=path, initial=root)


def _bounded(run: Run, pool, bound: str, expanded: int | None, t0: float) -> Verdict:
    """Stopped at a limit: the states stored so far (a level may be half built)."""
    t = run.totals
    per = pool.call("stats")
    states = sum(w["states"] for w in per)
    transitions, terminal = t.transitions, t.terminal
    if expanded is not None:
        ends = [e[0] for e in pool.call("end_level")]
        transitions += sum(e["transitions"] for e in ends)
        terminal += sum(e["terminal"] for e in ends)
    queue = states - t.before_frontier - (expanded or 0)
    v = _verdict(run, BOUNDED, states, transitions, terminal, max(t.depth, t.level + (states > t.states)),
                 max(0, queue), t0, bound=bound)
    return _finish(run, pool, v, t0, per)


def _lost_verdict(run: Run, pool, lost: WorkerLost, t0: float) -> Verdict:
    """A worker died: bounded, naming it; what is known complete is every state within the frontier's depth."""
    t = run.totals
    bound = (f"worker {lost.worker} lost ({lost.how}) while depth {t.level + 1} was being built; "
             f"every state within depth {t.level} was found and checked")
    v = _verdict(run, BOUNDED, t.states, t.transitions, t.terminal, t.depth, t.states - t.before_frontier, t0,
                 bound=bound)
    return _finish(run, None, v, t0)


def _finish(run: Run, pool, v: Verdict, t0: float, per: list[dict] | None = None) -> DistributedVerdict:
    if per is None and pool is not None:
        per = pool.call("stats")
    per = per or []
    total = {k: sum(w[k] for w in per) for k in ("states", "bytes", "messages_sent", "messages_received",
                                                  "bytes_sent", "bytes_received")} if per else {}
    if per:
        total["peak_mb"] = round(sum(w["peak_mb"] for w in per), 1)
        v.stats.bytes_per_state = total["bytes"] / max(1, total["states"])
    info = {"workers": run.workers, **run.pool_info, "per_worker": per, "total": total,
            "checkpoint": str(run.checkpoint) if run.checkpoint else None, "lost": run.losses}
    if run.losses and v.kind != BOUNDED:
        v.notes.append(f"resumed from the checkpoint after: {'; '.join(run.losses)}")
    v.stats.seconds = time.perf_counter() - t0
    return _as_distributed(v, info)

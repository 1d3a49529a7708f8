"""Exhaustive lockstep: every transition of the model's operation graph, run on the implementation.

The model at API granularity (`Oracle`) has a finite graph for a
configuration: its nodes are model states, its edges the operations the
configuration allows (reserve of each size, write, commit with each
discard/flag choice, consume for an honest consumer, each consumer_pos the
adversary may store). `check_lockstep` walks that graph breadth first and
runs every edge on the implementation: a fresh implementation from the
factory replays the (shortest) path to the edge's source state, comparing
return values and samples on the way, then runs the edge's operation and
compares everything (`driver.compare`). The first difference is reported as
a `Divergence`; breadth-first order makes it one with the fewest
operations.

Soundness: states are memoised by the pair (model state, the
implementation's raw data area after the operation), so each edge is run at
least once from every distinct pair that reaches its source; when two
histories leave the model in one state but the implementation's bytes
differ (stale payload, another pg_off, ...), both are explored further.
An implementation is checked against every transition of the model, but
not along every path: a bug that only shows after one particular history
among several with the same model state and the same bytes (a difference
hidden in state the adapter does not expose) can escape. Replaying from scratch (rather than
undoing) needs nothing from the adapter but the factory, and keeps every
run independent of the previous one.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from checker.conformance.adapter import Factory, missing_capability
from checker.interrupt import Interrupted
from checker.conformance.divergence import Divergence, build_divergence
from checker.conformance.driver import ImplDriver, Observed, compare
from checker.conformance.guard import (DEFAULT_CALL_TIMEOUT, AdapterGuard, AdapterRaised, CallTimedOut,
                                      describe_exception, guarded)
from checker.conformance.ops import CONSUME, REOPEN, Op
from checker.conformance.oracle import Expected, Oracle
from model.config import Config
from model.state import State

CONFORMS, BOUNDED, DIVERGES, INTERRUPTED = "conforms", "bounded", "diverges", "interrupted"
EXIT_CODES = {CONFORMS: 0, DIVERGES: 1, BOUNDED: 3, INTERRUPTED: 130}


class FactoryError(ValueError):
    """The factory could not build an implementation for this configuration (one line)."""


@dataclass
class LockstepStats:
    """What a conformance run did."""

    states: int = 0
    """Distinct model states reached."""
    nodes: int = 0
    """Distinct (model state, implementation data area) pairs explored (lockstep)."""
    transitions: int = 0
    """Operations compared in full (edges of the operation graph, or steps of a log)."""
    calls: int = 0
    """Adapter calls made, replays included."""
    depth: int = 0
    seconds: float = 0.0
    """Wall-clock time."""
    cpu_seconds: float = 0.0
    """CPU time of this process (what a benchmark on a busy machine should quote)."""

    def to_dict(self) -> dict:
        return {"states": self.states, "nodes": self.nodes, "transitions": self.transitions, "calls": self.calls,
                "depth": self.depth, "seconds": round(self.seconds, 4),
                "cpu_seconds": round(self.cpu_seconds, 4)}


@dataclass
class ConformanceResult:
    """The answer of one conformance run: conforms, conforms up to a bound, or a divergence."""

    config: Config
    method: str
    kind: str
    stats: LockstepStats
    divergence: Divergence | None = None
    bound: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        """True when nothing diverged (complete or bounded)."""
        return self.divergence is None

    @property
    def exit_code(self) -> int:
        """0 conforms (complete), 1 diverges, 3 conforms up to a bound, 130 interrupted."""
        return EXIT_CODES[self.kind]

    def headline(self) -> str:
        """The verdict in one line."""
        if self.kind == CONFORMS:
            return "conforms (complete)"
        if self.kind == BOUNDED:
            return f"conforms up to bound {self.bound}"
        if self.kind == INTERRUPTED:
            return f"{self.bound}: no divergence in the part explored (not complete)"
        assert self.divergence is not None
        return f"diverges: {self.divergence.headline()}"

    def to_dict(self) -> dict:
        """The ``--json`` object."""
        return {"verdict": self.kind, "method": self.method, "config": self.config.to_dict(),
                "bound": self.bound, "stats": self.stats.to_dict(), "notes": self.notes,
                "divergence": self.divergence.to_dict() if self.divergence else None}


def new_driver(factory: Factory, config: Config) -> ImplDriver:
    """A fresh implementation; FactoryError (one line) if the factory refuses, or if the adapter lacks a
    capability the config's attacker needs (``adapter.CAPABILITIES``).

    With 32-bit positions the factory is asked for them (``position_bits=32``, `adapter.Factory`)."""
    bits = config.position_bits
    what = f"a {config.variant} ring of {config.ring_size} bytes" + (f" with {bits}-bit positions" if bits != 64 else "")
    try:
        adapter = factory(config.ring_size, config.variant, position_bits=bits) if bits != 64 else \
            factory(config.ring_size, config.variant)
    except CallTimedOut:
        raise
    except AdapterRaised as e:
        raise FactoryError(f"the factory cannot build {what}: {str(e).removeprefix('factory: ')}") from None
    except Exception as e:  # noqa: BLE001  (an unguarded factory)
        raise FactoryError(f"the factory cannot build {what}: {describe_exception(e)}") from None
    missing = missing_capability(adapter, config.attacker) if not config.honest else None
    if missing is not None:
        try:
            adapter.close()
        except Exception:  # noqa: BLE001
            pass
        raise FactoryError(missing)
    return ImplDriver(adapter, config.ring_size)


def timed_out(config: Config, method: str, stats: LockstepStats, t: CallTimedOut) -> ConformanceResult:
    """The divergence (field ``timeout``) of a run whose adapter call overran; FactoryError before any operation."""
    if not t.ops:
        raise FactoryError(f"a fresh {config.variant} ring of {config.ring_size} bytes: {t}")
    div = build_divergence(Oracle(config), t.ops, "timeout", f"a return within {t.limit:g}s",
                           f"{t.call} did not return", None, method)
    return ConformanceResult(config, method, DIVERGES, stats, div,
                             notes=[f"the run was stopped: {t} (call limit, --call-timeout)"])


@dataclass
class _Node:
    parent: int
    op: Op | None
    result: object


def _path(nodes: list[_Node], idx: int) -> list[_Node]:
    out = []
    while idx > 0:
        out.append(nodes[idx])
        idx = nodes[idx].parent
    out.reverse()
    return out


def check_lockstep(factory: Factory, config: Config, max_states: int | None = None,
                   timeout: float | None = None,
                   call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
                   progress: Callable[[LockstepStats], None] | None = None,
                   reopen: bool = False, warmup: int = 0) -> ConformanceResult:
    """Run every edge of the operation graph of `config` on implementations from `factory`.

    The implementation runs behind an `AdapterGuard` (each call at most
    `call_timeout` seconds, whatever it raises a divergence). ``progress`` gets
    the running statistics after each model state is expanded (in the guard's
    worker thread). On Ctrl-C or SIGTERM (``checker.interrupt``) the result is
    ``interrupted``, with the statistics so far.

    With ``reopen`` the graph also has a ``reopen`` edge wherever a consume
    is offered: the consumer closed and opened again (`Adapter` may define
    ``reopen()``; the model's shared state does not change).

    With ``warmup`` N the graph starts from a used ring: every path begins
    with `warmup.warmup_operations` (N whole records made and consumed), and
    the result's config is `warmup.warmup_config` (records raised by N; the
    exploration still gives each producer `config.records` reservations).
    ValueError if the warm-up does not fit the config.
    """
    prefix: list[Op] = []
    budget = None
    if warmup:
        from checker.conformance.warmup import warmup_budget, warmup_config, warmup_operations

        budget = warmup_budget(config, warmup)
        prefix = warmup_operations(config, warmup)
        config = warmup_config(config, warmup)
    guard = guarded(factory, call_timeout)
    stats = LockstepStats()
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        r = guard.run(lambda: _explore(guard, config, max_states, timeout, stats, t0, c0, progress, reopen,
                                       prefix, budget))
    except CallTimedOut as t:
        stats.seconds, stats.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        r = timed_out(config, "lockstep", stats, t)
    except Interrupted as stop:
        stats.seconds, stats.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        r = ConformanceResult(config, "lockstep", INTERRUPTED, stats, bound=f"interrupted by {stop.signal_name}")
    if warmup:
        r.notes.append(f"started from a used ring: {warmup} records made and consumed first "
                       f"(positions {_after(config, prefix)})")
    r.notes += guard.noted_output()
    return r


def _after(config: Config, prefix: list[Op]) -> int:
    """producer_pos (= consumer_pos) after the warm-up `prefix`."""
    oracle = Oracle(config)
    s = oracle.initial()
    for op in prefix:
        s, _ = oracle.apply(s, op)
    return s.producer_pos


def _explore(factory: AdapterGuard, config: Config, max_states: int | None, timeout: float | None,
             stats: LockstepStats, t0: float, c0: float,
             progress: Callable[[LockstepStats], None] | None = None,
             reopen: bool = False, prefix: list[Op] | None = None,
             budget: tuple[int, ...] | None = None) -> ConformanceResult:
    """The breadth-first walk of `check_lockstep`, run in the guard's worker thread.

    A warm-up `prefix` is a chain of nodes from the empty ring; the walk starts at its end.
    """
    oracle = Oracle(config, reopen=reopen, budget=budget)
    s0 = oracle.initial()
    nodes = [_Node(-1, None, None)]
    for op in prefix or []:
        s0, exp = oracle.apply(s0, op)
        nodes.append(_Node(len(nodes) - 1, op, exp.result))
    root = len(nodes) - 1
    seen: set[tuple] = {(oracle.key(s0), _initial_data(factory, config, prefix or [])) + ((False,) if reopen else ())}
    model_states: set[State] = {oracle.key(s0)}
    depth = {root: 0}
    reopened = {root: False}
    """Per node: a reopen since the last consume (an adapter's cursor may differ there; kept apart)."""
    queue: deque[tuple[int, State]] = deque([(root, s0)])
    bound = None
    while queue:
        idx, s = queue.popleft()
        path = _path(nodes, idx)
        for op in oracle.enabled(s):
            nxt, expected = oracle.apply(s, op)
            div, data = _run_edge(factory, config, oracle, path, op, expected, stats)
            stats.transitions += 1
            if div is not None:
                stats.seconds, stats.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
                stats.states, stats.nodes = len(model_states), len(seen)
                return ConformanceResult(config, "lockstep", DIVERGES, stats, div)
            flag = op.kind == REOPEN or (reopened[idx] and op.kind != CONSUME)
            k = (oracle.key(nxt), data) + ((flag,) if reopen else ())
            if k not in seen:
                seen.add(k)
                model_states.add(k[0])
                stats.states, stats.nodes = len(model_states), len(seen)
                reopened[len(nodes)] = flag
                depth[len(nodes)] = depth[idx] + 1
                stats.depth = max(stats.depth, depth[idx] + 1)
                nodes.append(_Node(idx, op, expected.result))
                queue.append((len(nodes) - 1, nxt))
        if progress is not None:
            stats.seconds = time.perf_counter() - t0
            progress(stats)
        if max_states is not None and len(model_states) >= max_states and queue:
            bound = f"max_states={max_states}"
            break
        if timeout is not None and time.perf_counter() - t0 > timeout and queue:
            bound = f"timeout={timeout:g}s"
            break
    stats.seconds, stats.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    stats.states, stats.nodes = len(model_states), len(seen)
    return ConformanceResult(config, "lockstep", BOUNDED if bound else CONFORMS, stats, bound=bound)


def _initial_data(factory: Factory, config: Config, prefix: list[Op] = []) -> bytes:  # noqa: B006 (read only)
    """The data area of a fresh implementation after the warm-up `prefix` (b"" if it cannot even be
    observed or the prefix fails; the first edge will say why)."""
    drv = new_driver(factory, config)
    try:
        for op in prefix:
            if drv.apply(op, observe=False).error is not None:
                return b""
        return bytes(drv.adapter.observe().data)
    except Exception:  # noqa: BLE001
        return b""
    finally:
        drv.close()


def _run_edge(factory: Factory, config: Config, oracle: Oracle, path: list[_Node], op: Op,
              expected: Expected, stats: LockstepStats) -> tuple[Divergence | None, bytes]:
    """Replay `path` on a fresh implementation, run `op`, compare in full; also its data area after."""
    drv = new_driver(factory, config)
    try:
        done: list[Op] = []
        for node in path:
            assert node.op is not None
            done.append(node.op)
            got = drv.apply(node.op, observe=False)
            stats.calls += 1
            m = compare(node.op, Expected(node.result, None), got, full=False)  # type: ignore[arg-type]
            if m is not None:
                return build_divergence(oracle, done, m.field, m.expected, m.observed, None,
                                        "lockstep"), b""
        got: Observed = drv.apply(op)
        stats.calls += 1
        m = compare(op, expected, got)
        if m is not None:
            return build_divergence(oracle, done + [op], m.field, m.expected, m.observed,
                                    got.observation, "lockstep"), b""
        assert got.observation is not None
        return None, bytes(got.observation.data)
    finally:
        drv.close()


def check_sequence(factory: Factory, config: Config, operations: list[Op],
                   call_timeout: float | None = DEFAULT_CALL_TIMEOUT) -> Divergence | None:
    """Run one sequence of operations on a fresh implementation in lockstep with the model.

    The building block for differential checks that bring their own
    sequences (e.g. drawn by `strategies.operation_sequences`); OperationError
    if the sequence is not a path the model can take. The implementation runs
    behind an `AdapterGuard`, as in `check_lockstep`.
    """
    guard = guarded(factory, call_timeout)
    try:
        return guard.run(lambda: _sequence(guard, config, operations))
    except CallTimedOut as t:
        return timed_out(config, "sequence", LockstepStats(), t).divergence


def _sequence(factory: Factory, config: Config, operations: list[Op]) -> Divergence | None:
    oracle = Oracle(config)
    s = oracle.initial()
    drv = new_driver(factory, config)
    try:
        for i, op in enumerate(operations):
            s, expected = oracle.apply(s, op)
            got = drv.apply(op)
            m = compare(op, expected, got)
            if m is not None:
                return build_divergence(oracle, list(operations[:i + 1]), m.field, m.expected, m.observed,
                                        got.observation, "sequence")
        return None
    finally:
        drv.close()

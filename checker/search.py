"""What every search strategy shares: limits, property checks, progress, verdicts.

``Search`` is the builder a run is configured with (model, properties,
limits, progress callback); the strategies in ``bfs``, ``dfs`` and
``simulation`` take one and return a ``Verdict``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

from checker.memory import MemoryBudget
from checker.trace import Step, Trace
from checker.verdict import BOUNDED, HOLDS, VIOLATED, Coverage, Stats, Verdict, Violation, peak_mb
from model.actions import Action
from model.config import Config
from model.ringbuf import RingBufModel, build_model
from model.state import State
from specs import Property, all_properties

DEADLOCK = "deadlock"
"""Pseudo-property: a state with no successor that is not terminal."""


class SearchError(ValueError):
    """A run was configured in a way that cannot work (one-line message)."""


@dataclass
class Limits:
    """When to stop: distinct states, depth, seconds, memory, random walks.

    ``None`` means no limit, except for ``max_memory`` (MiB), where it means
    the machine's default (``checker.memory.default_max_memory_mb``): a search
    always has a memory bound. ``walks`` is the number of random walks of
    ``--strategy random`` (default ``simulation.DEFAULT_WALKS``), whose length
    is ``max_depth``.
    """

    max_states: int | None = None
    max_depth: int | None = None
    timeout: float | None = None
    max_memory: float | None = None
    walks: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_states", "max_depth", "walks"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v <= 0):
                raise SearchError(f"{name.replace('_', '-')}: must be a positive integer, got {v!r}")
        for name in ("timeout", "max_memory"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)
                                  or not math.isfinite(v) or v <= 0):
                raise SearchError(f"{name.replace('_', '-')}: must be a positive finite number, got {v!r}")


Progress = Callable[[Stats], None]


@dataclass
class Search:
    """A configured run: which model, which properties, which limits."""

    model: RingBufModel
    properties: list[Property] = field(default_factory=all_properties)
    limits: Limits = field(default_factory=Limits)
    progress: Progress | None = None
    progress_every: float = 1.0
    check_deadlock: bool = True
    symmetry: bool = False
    """Keep one state per class of producer renamings (model.symmetry); BFS only."""
    max_violations: int = 1
    """BFS goes on after a violation until it has this many violating states (each with a shortest trace)."""
    coverage: Coverage | None = None
    """When set, the engines count how often each protocol step fired."""
    stats: Stats = field(default_factory=Stats)
    """The running statistics; kept here so that a run cut short (MemoryError) can still report them."""
    violations: list[Violation] = field(default_factory=list)

    def __post_init__(self) -> None:
        m = self.max_violations
        if not isinstance(m, int) or isinstance(m, bool) or m < 1:
            raise SearchError(f"max-violations: must be a positive integer, got {m!r}")
        self.budget = MemoryBudget(self.limits.max_memory)

    @classmethod
    def for_config(cls, config: Config, **kw: object) -> "Search":
        """A search over ``RingBufModel(config)``."""
        return cls(build_model(config), **kw)

    @property
    def config(self) -> Config:
        return self.model.config

    def violation(self, s: State, terminal: bool) -> tuple[str, str] | None:
        """(property, reason) for the first property ``s`` violates, else None."""
        cfg = self.model.config
        for p in self.properties:
            why = p.predicate(cfg, s, terminal)
            if why is not None:
                return p.name, why
        return None

    def trace(self, prop: str, reason: str, path: list[tuple[Action, State]], initial: State) -> Trace:
        """The trace of a violation."""
        return Trace(self.config, initial, [Step(a, s) for a, s in path], prop, reason, self.model.start)

    def found(self, prop: str, reason: str, path: list[tuple[Action, State]], initial: State) -> bool:
        """Record a violation; True when the search should stop (``max_violations`` reached)."""
        self.violations.append(Violation(prop, reason, self.trace(prop, reason, path, initial)))
        return len(self.violations) >= self.max_violations

    def verdict(self, kind: str, stats: Stats, strategy: str, *, prop: str | None = None,
                reason: str | None = None, bound: str | None = None,
                path: list[tuple[Action, State]] | None = None, initial: State | None = None) -> Verdict:
        """Assemble a verdict: the violations found so far, else ``kind`` (holds or bounded)."""
        stats.peak_mb = peak_mb()
        explored = kind == HOLDS
        if kind == HOLDS and self.model.bound_hit:
            kind, bound = BOUNDED, self.model.memory_bound
        elif kind == BOUNDED and self.model.bound_hit:
            bound = f"{bound}, {self.model.memory_bound}"
        if kind == VIOLATED and path is not None:
            assert initial is not None and prop is not None and reason is not None
            self.found(prop, reason, path, initial)
        assert kind != VIOLATED or self.violations
        v = Verdict(kind, self.config, stats, [p.name for p in self.properties], bound=bound,
                    strategy=strategy, coverage=self.coverage)
        if self.violations:
            first = self.violations[0]
            v.kind, v.property, v.reason, v.trace = VIOLATED, first.property, first.reason, first.trace
            v.violations = list(self.violations)
            if kind != VIOLATED:
                v.notes.append(f"{len(self.violations)} violating states found (fewer than max_violations="
                               f"{self.max_violations}); the search then "
                               + ("ended: every reachable state was explored" if kind == HOLDS
                                  else f"ended: every reachable state up to bound {bound} was explored"
                                  if explored else f"stopped at {bound}"))
            elif len(self.violations) > 1:
                v.notes.append(f"stopped at max_violations={self.max_violations}")
        return v


class Clock:
    """Elapsed time, the limits that are checked as the search goes, and a throttled progress callback."""

    def __init__(self, search: Search, stats: Stats) -> None:
        self.t0 = time.perf_counter()
        self.search = search
        self.stats = stats
        self.next_report = self.t0 + search.progress_every

    def tick(self) -> str | None:
        """Update the elapsed time, report progress if due; the bound that is reached, if any.

        Called every few hundred states: the timeout, ``max_states`` and the
        memory budget (one read of /proc/self/statm) are checked here.
        """
        now = time.perf_counter()
        self.stats.seconds = now - self.t0
        search = self.search
        if search.progress and now >= self.next_report:
            search.progress(self.stats)
            self.next_report = now + search.progress_every
        limits = search.limits
        if limits.timeout is not None and self.stats.seconds >= limits.timeout:
            return f"timeout={limits.timeout}s"
        if limits.max_states is not None and self.stats.states >= limits.max_states:
            return f"max_states={limits.max_states}"
        if search.budget.exceeded():
            return search.budget.bound()
        return None


__all__ = ["BOUNDED", "DEADLOCK", "HOLDS", "VIOLATED", "Clock", "Limits", "Search", "SearchError"]

"""What every search strategy shares: limits, property checks, progress, verdicts.

``Search`` is the builder a run is configured with (model, properties,
limits, progress callback); the strategies in ``bfs``, ``dfs`` and
``simulation`` take one and return a ``Verdict``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from checker.trace import Step, Trace
from checker.verdict import BOUNDED, HOLDS, VIOLATED, Stats, Verdict, peak_mb
from model.actions import Action
from model.config import Config
from model.ringbuf import RingBufModel
from model.state import State
from specs import Property, all_properties

DEADLOCK = "deadlock"
"""Pseudo-property: a state with no successor that is not terminal."""


class SearchError(ValueError):
    """A run was configured in a way that cannot work (one-line message)."""


@dataclass
class Limits:
    """When to stop: distinct states, depth, seconds. ``None`` means no limit."""

    max_states: int | None = None
    max_depth: int | None = None
    timeout: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_states", "max_depth", "timeout"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise SearchError(f"{name.replace('_', '-')}: must be positive, got {v}")


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

    def __post_init__(self) -> None:
        if self.symmetry and self.model.config.weak:
            raise SearchError("symmetry: the producer-symmetry reduction is for --memory sc only "
                              "(it does not rename the memory model's buffers and views)")

    @classmethod
    def for_config(cls, config: Config, **kw: object) -> "Search":
        """A search over ``RingBufModel(config)``."""
        return cls(RingBufModel(config), **kw)

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

    def verdict(self, kind: str, stats: Stats, strategy: str, *, prop: str | None = None,
                reason: str | None = None, bound: str | None = None,
                path: list[tuple[Action, State]] | None = None, initial: State | None = None) -> Verdict:
        """Assemble a verdict (and its trace, for violations)."""
        stats.peak_mb = peak_mb()
        if kind == HOLDS and self.model.bound_hit:
            kind, bound = BOUNDED, self.model.memory_bound
        elif kind == BOUNDED and self.model.bound_hit:
            bound = f"{bound}, {self.model.memory_bound}"
        trace = None
        if kind == VIOLATED:
            assert initial is not None and path is not None
            trace = Trace(self.config, initial, [Step(a, s) for a, s in path], prop, reason,
                          self.model.start)
        return Verdict(kind, self.config, stats, [p.name for p in self.properties], prop, reason,
                       bound, trace, strategy)


class Clock:
    """Elapsed time, the timeout, and a throttled progress callback."""

    def __init__(self, search: Search, stats: Stats) -> None:
        self.t0 = time.perf_counter()
        self.search = search
        self.stats = stats
        self.next_report = self.t0 + search.progress_every

    def tick(self) -> bool:
        """Update the elapsed time, report progress if due; True when the timeout has passed."""
        now = time.perf_counter()
        self.stats.seconds = now - self.t0
        if self.search.progress and now >= self.next_report:
            self.search.progress(self.stats)
            self.next_report = now + self.search.progress_every
        t = self.search.limits.timeout
        return t is not None and self.stats.seconds >= t


__all__ = ["BOUNDED", "DEADLOCK", "HOLDS", "VIOLATED", "Clock", "Limits", "Search", "SearchError"]

"""Shared helpers of the distributed-search tests."""

from __future__ import annotations

from checker.compiled.engine import run_compiled
from checker.search import Search
from model import Config


def summary(v) -> tuple:
    """What must be equal between engines: verdict, property, counts and the trace's actions and states."""
    return (v.kind, v.property, v.stats.states, v.stats.transitions, v.stats.depth, v.stats.terminal, v.stats.queue,
            [(s.action, s.state) for s in v.trace.steps] if v.trace else None)


def serial(cfg: Config, **kw):
    return run_compiled(Search.for_config(cfg, **kw), "bfs")

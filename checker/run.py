"""Run a check the way the CLI does, as a function a notebook or a test can call."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

from checker.bfs import bfs
from checker.dfs import dfs
from checker.search import Limits, Progress, Search, SearchError
from checker.simulation import simulate
from checker.verdict import Verdict
from model.config import Config
from specs import all_properties, get_property

STRATEGIES = ("bfs", "dfs", "random")
ENGINES = ("auto", "python", "compiled")
"""Explicit-state cores: ``auto`` takes the compiled one (checker.compiled) where it supports the run."""


def check(config: Config, properties: list[str] | None = None, strategy: str = "bfs",
          limits: Limits | None = None, seed: int = 0, progress: Progress | None = None,
          start: int = 0, symmetry: bool = False, engine: str = "auto", workers: int = 1) -> Verdict:
    """Check ``properties`` (default: all) of ``config`` with one search strategy on one engine.

    ``workers`` > 1 runs the compiled BFS on that many threads (the Python engines use one).
    """
    if engine not in ENGINES:
        raise SearchError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
    if strategy not in STRATEGIES:
        raise SearchError(f"strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    props = [get_property(n) for n in properties] if properties else all_properties()
    from model.ringbuf import RingBufModel

    if symmetry and strategy != "bfs":
        raise SearchError("symmetry: the producer-symmetry reduction works with --strategy bfs only")
    search = Search(RingBufModel(config, start), props, limits or Limits(), progress, symmetry=symmetry)
    why_not = _why_not_compiled(search, strategy) if engine != "python" else None
    if engine == "compiled" and why_not is not None:
        raise SearchError(f"engine: the compiled core does not support {why_not}; use --engine auto or python")
    if engine != "python" and why_not is None:
        from checker.compiled.engine import run_compiled

        return run_compiled(search, strategy, workers)
    run = {"bfs": bfs, "dfs": dfs, "random": lambda s: simulate(s, seed)}[strategy]
    with no_cyclic_gc():
        v = run(search)
    if why_not is not None:
        v.notes.append(f"engine auto: the Python engine ran; the compiled core does not support {why_not}")
    return v


def _why_not_compiled(search: Search, strategy: str) -> str | None:
    """Why the compiled core cannot run ``search`` (numba missing included), or None."""
    try:
        from checker.compiled.engine import unsupported
    except ImportError as e:
        return f"this installation ({e})"
    return unsupported(search, strategy)


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cycle collector during a search.

    States are acyclic tuples, so the collector finds nothing, yet with
    millions of live tuples each full collection walks all of them; pausing it
    makes large searches several times faster. Reference counting still frees
    everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

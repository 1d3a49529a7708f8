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


def check(config: Config, properties: list[str] | None = None, strategy: str = "bfs",
          limits: Limits | None = None, seed: int = 0, progress: Progress | None = None,
          start: int = 0, symmetry: bool = False) -> Verdict:
    """Check ``properties`` (default: all) of ``config`` with one search strategy."""
    if strategy not in STRATEGIES:
        raise SearchError(f"strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    props = [get_property(n) for n in properties] if properties else all_properties()
    from model.ringbuf import RingBufModel

    if symmetry and strategy != "bfs":
        raise SearchError("symmetry: the producer-symmetry reduction works with --strategy bfs only")
    if symmetry and config.weak:
        raise SearchError("symmetry: the producer-symmetry reduction is for --memory sc only "
                          "(it does not rename the memory model's buffers and views)")
    search = Search(RingBufModel(config, start), props, limits or Limits(), progress, symmetry=symmetry)
    engine = {"bfs": bfs, "dfs": dfs, "random": lambda s: simulate(s, seed)}[strategy]
    with no_cyclic_gc():
        return engine(search)


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

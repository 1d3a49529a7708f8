"""Run a check the way the CLI does, as a function a notebook or a test can call."""

from __future__ import annotations

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
          start: int = 0) -> Verdict:
    """Check ``properties`` (default: all) of ``config`` with one search strategy."""
    if strategy not in STRATEGIES:
        raise SearchError(f"strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    props = [get_property(n) for n in properties] if properties else all_properties()
    from model.ringbuf import RingBufModel

    search = Search(RingBufModel(config, start), props, limits or Limits(), progress)
    if strategy == "bfs":
        return bfs(search)
    if strategy == "dfs":
        return dfs(search)
    return simulate(search, seed)

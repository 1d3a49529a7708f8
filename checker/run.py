"""Run a check the way the CLI does, as a function a notebook or a test can call."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

from checker.bfs import bfs
from checker.dfs import dfs
from checker.liveness import STRATEGY as LIVENESS_STRATEGY
from checker.liveness import check_liveness
from checker.search import Limits, Progress, Search, SearchError
from checker.simulation import simulate
from checker.verdict import Verdict
from model.config import Config
from model.ringbuf import RingBufModel
from specs import all_properties, get_property, is_liveness

STRATEGIES = ("bfs", "dfs", "random")


def check(config: Config, properties: list[str] | None = None, strategy: str = "bfs",
          limits: Limits | None = None, seed: int = 0, progress: Progress | None = None,
          start: int = 0, symmetry: bool = False, fair: list[str] | None = None) -> Verdict:
    """Check ``properties`` (default: all safety ones) of ``config`` with one search strategy.

    Liveness properties (``specs.liveness``) go to the SCC engine
    (``checker.liveness``), under their own fairness or the ``fair`` units.
    """
    props = [get_property(n, liveness=True) for n in properties] if properties else all_properties()
    if any(is_liveness(p) for p in props):
        return _check_liveness(RingBufModel(config, start), props, strategy, limits, progress, symmetry, fair)
    if fair is not None:
        raise SearchError("fair: fairness applies to liveness properties only (e.g. --property eventually_delivered)")
    if strategy not in STRATEGIES:
        raise SearchError(f"strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    if symmetry and strategy != "bfs":
        raise SearchError("symmetry: the producer-symmetry reduction works with --strategy bfs only")
    search = Search(RingBufModel(config, start), props, limits or Limits(), progress, symmetry=symmetry)
    engine = {"bfs": bfs, "dfs": dfs, "random": lambda s: simulate(s, seed)}[strategy]
    with no_cyclic_gc():
        return engine(search)


def _check_liveness(model: RingBufModel, props: list, strategy: str, limits: Limits | None, progress: Progress | None,
                    symmetry: bool, fair: list[str] | None) -> Verdict:
    if not all(is_liveness(p) for p in props):
        raise SearchError("property: liveness and safety properties are checked by different engines; "
                          "give them in separate runs")
    if strategy not in ("bfs", LIVENESS_STRATEGY, "bmc"):
        raise SearchError(f"strategy: liveness is checked by the SCC engine (breadth-first exploration, "
                          f"shortest stems) or --strategy bmc (lassos of at most --max-depth steps); "
                          f"--strategy {strategy} cannot find fair cycles")
    search = Search(model, props, limits or Limits(), progress, symmetry=symmetry)
    if strategy == "bmc":
        from checker.liveness_bmc import check_liveness_bmc
        return check_liveness_bmc(search, props, fair)
    with no_cyclic_gc():
        return check_liveness(search, props, fair)


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

"""Run a check the way the CLI does, as a function a notebook or a test can call."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

from checker.bfs import bfs
from checker.dfs import dfs
from checker.liveness import STRATEGY as LIVENESS_STRATEGY
from checker.liveness import check_liveness
from checker.interrupt import Interrupted
from checker.search import Limits, Progress, Search, SearchError
from checker.simulation import simulate
from checker.verdict import BOUNDED, INTERRUPTED, Coverage, Verdict
from model.config import Config
from model.ringbuf import RingBufModel
from specs import all_properties, get_property, is_liveness

STRATEGIES = ("bfs", "dfs", "random")


def check(config: Config, properties: list[str] | None = None, strategy: str = "bfs",
          limits: Limits | None = None, seed: int = 0, progress: Progress | None = None,
          start: int = 0, symmetry: bool = False, fair: list[str] | None = None, *, max_violations: int = 1,
          coverage: bool = False, deadlock: bool = True, visibility: bool = True) -> Verdict:
    """Check ``properties`` (default: all safety ones) of ``config`` with one search strategy.

    Liveness properties (``specs.liveness``) go to the SCC engine
    (``checker.liveness``), under their own fairness or the ``fair`` units.

    ``max_violations``: BFS collects up to this many violating states before it
    stops; ``coverage``: count how often each step fired (``Verdict.coverage``);
    ``deadlock``: report a state with no step that is not terminal; ``visibility``: under
    ``--memory ra`` liveness assumes eventual visibility (``checker.liveness_visibility``).

    However memory runs out, the answer is a verdict: the engines stop at the
    budget ``limits.max_memory`` (a machine-derived default when None), and a
    MemoryError raised anywhere in the search is caught here, the search's
    states are freed, and the verdict is "holds up to bound max_memory=..."
    with the statistics gathered so far.
    """
    props = [get_property(n, liveness=True) for n in properties] if properties else all_properties()
    if any(is_liveness(p) for p in props):
        if max_violations != 1 or coverage or not deadlock:
            raise SearchError("liveness: --max-violations, --coverage and --no-deadlock are for safety properties")
        return _check_liveness(RingBufModel(config, start), props, strategy, limits, progress, symmetry, fair,
                               visibility)
    if fair is not None:
        raise SearchError("fair: fairness applies to liveness properties only (e.g. --property eventually_delivered)")
    if strategy not in STRATEGIES:
        raise SearchError(f"strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    if symmetry and strategy != "bfs":
        raise SearchError("symmetry: the producer-symmetry reduction works with --strategy bfs only")
    if symmetry and config.weak:
        raise SearchError("symmetry: the producer-symmetry reduction is for --memory sc only "
                          "(it does not rename the memory model's buffers and views)")
    if max_violations != 1 and strategy != "bfs":
        raise SearchError("max-violations: collecting several violations works with --strategy bfs only")
    search = Search(RingBufModel(config, start), props, limits or Limits(), progress, symmetry=symmetry,
                    max_violations=max_violations, coverage=Coverage() if coverage else None,
                    check_deadlock=deadlock)
    engine = {"bfs": bfs, "dfs": dfs, "random": lambda s: simulate(s, seed)}[strategy]
    with no_cyclic_gc():
        try:
            return engine(search)
        except MemoryError:
            pass
        except Interrupted as stop:
            return interrupted(search, strategy, stop.signal_name)
    return out_of_memory(search, strategy)


def interrupted(search: Search, strategy: str, signal_name: str) -> Verdict:
    """The verdict of a search Ctrl-C or SIGTERM ended (``checker.interrupt``): its statistics so far."""
    v = search.verdict(INTERRUPTED, search.stats, strategy, bound=f"interrupted by {signal_name}")
    if v.kind == INTERRUPTED:
        v.reason = signal_name
    return v


def out_of_memory(search: Search, strategy: str) -> Verdict:
    """The verdict of a search a MemoryError ended: bounded at the memory budget, with its statistics.

    Called after the ``except`` block has ended, so the traceback (and with it
    the engine's frames, visited set and frontier) is already released;
    ``gc.collect`` frees what cycles remain before the verdict is built.
    """
    gc.collect()
    search.budget.ran_out()
    return search.verdict(BOUNDED, search.stats, strategy, bound=search.budget.bound())


def _check_liveness(model: RingBufModel, props: list, strategy: str, limits: Limits | None, progress: Progress | None,
                    symmetry: bool, fair: list[str] | None, visibility: bool = True) -> Verdict:
    if not all(is_liveness(p) for p in props):
        raise SearchError("property: liveness and safety properties are checked by different engines; "
                          "give them in separate runs")
    if strategy not in ("bfs", LIVENESS_STRATEGY, "bmc"):
        raise SearchError(f"strategy: liveness is checked by the SCC engine (breadth-first exploration, "
                          f"shortest stems) or --strategy bmc (lassos of at most --max-depth steps); "
                          f"--strategy {strategy} cannot find fair cycles")
    if strategy == "bmc" and model.config.weak:
        raise SearchError(f"strategy: the bounded lasso search reasons about the sc machine; under --memory "
                          f"{model.config.memory} liveness is checked by the SCC engine (--strategy bfs)")
    search = Search(model, props, limits or Limits(), progress, symmetry=symmetry)
    try:
        if strategy == "bmc":
            from checker.liveness_bmc import check_liveness_bmc
            return check_liveness_bmc(search, props, fair)
        with no_cyclic_gc():
            return check_liveness(search, props, fair, visibility)
    except MemoryError:
        pass
    except Interrupted as stop:
        return interrupted(search, strategy, stop.signal_name)
    return out_of_memory(search, strategy)


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

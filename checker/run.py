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
from model.ringbuf import RingBufModel, build_model
from specs import all_properties, get_property, is_liveness

STRATEGIES = ("bfs", "dfs", "random")
ENGINES = ("auto", "python", "compiled")
"""Explicit-state cores: ``auto`` takes the compiled one (checker.compiled) where it supports the run."""


def check(config: Config, properties: list[str] | None = None, strategy: str = "bfs",
          limits: Limits | None = None, seed: int = 0, progress: Progress | None = None,
          start: int = 0, symmetry: bool = False, fair: list[str] | None = None, *, max_violations: int = 1,
          coverage: bool = False, deadlock: bool = True, engine: str = "auto", workers: int = 1,
          visibility: bool = True, store: str = "flat") -> Verdict:
    """Check ``properties`` (default: all safety ones) of ``config`` with one search strategy.

    ``engine``: the explicit-state core (``auto`` takes the compiled one,
    ``checker.compiled``, where it supports the run, and says in a note why
    not otherwise); ``workers`` > 1 runs the compiled BFS on that many threads;
    ``store``: how the compiled core keeps the visited states (``flat``, or
    ``tree``: shared nodes, a third of the memory, ``checker.compiled.tree``).

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
    if engine not in ENGINES:
        raise SearchError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
    props = [get_property(n, liveness=True) for n in properties] if properties else all_properties(config)
    for p in props:
        if not is_liveness(p) and not p.applies(config):
            raise SearchError(f"property: {p.name} is stated for map {', '.join(p.maps)}, not for this "
                              f"configuration (map {config.map}, variant {config.variant})")
    if config.map == "user" and any(is_liveness(p) for p in props):
        raise SearchError("property: the user ring buffer has no liveness properties; check its safety ones")
    if any(is_liveness(p) for p in props):
        if max_violations != 1 or coverage or not deadlock:
            raise SearchError("liveness: --max-violations, --coverage and --no-deadlock are for safety properties")
        if engine == "compiled":
            raise SearchError("engine: the compiled core checks safety properties; liveness runs on the Python engine")
        return _check_liveness(build_model(config, start), props, strategy, limits, progress, symmetry, fair,
                               visibility)
    if fair is not None:
        raise SearchError("fair: fairness applies to liveness properties only (e.g. --property eventually_delivered)")
    if strategy not in STRATEGIES:
        raise SearchError(f"strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    if symmetry and strategy != "bfs":
        raise SearchError("symmetry: the producer-symmetry reduction works with --strategy bfs only")
    if max_violations != 1 and strategy != "bfs":
        raise SearchError("max-violations: collecting several violations works with --strategy bfs only")
    model = build_model(config, start)
    search = Search(model, props, limits or Limits(), progress, symmetry=symmetry,
                    max_violations=max_violations, coverage=Coverage(model.step_names()) if coverage else None,
                    check_deadlock=deadlock)
    why_not = _why_not_compiled(search, strategy) if engine != "python" else None
    if engine == "compiled" and why_not is not None:
        raise SearchError(f"engine: the compiled core does not support {why_not}; use --engine auto or python")
    if store != "flat":
        _check_store(store, strategy, engine, why_not)
    run = {"bfs": bfs, "dfs": dfs, "random": lambda s: simulate(s, seed)}[strategy]
    with no_cyclic_gc():
        try:
            if engine != "python" and why_not is None:
                from checker.compiled.engine import run_compiled

                return run_compiled(search, strategy, workers, store)
            v = run(search)
            if why_not is not None:
                v.notes.append(f"engine auto: the Python engine ran; the compiled core does not support {why_not}")
            return v
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


NUMBA_ADDRESS_SPACE_MB = 1024
"""Address space to leave for loading numpy, numba and LLVM and running the core (about 350 MB measured, with
room); below it, loading fails, and numpy's BLAS would abort the process rather than raise MemoryError."""


def _address_space_room_mb() -> float | None:
    """MiB between this process's mapped address space and RLIMIT_AS, or None when there is no limit."""
    import os
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    return (soft - mapped) / 2**20


def _check_store(store: str, strategy: str, engine: str, why_not: str | None) -> None:
    """Refuse, in one line, a ``store`` other than flat where the compiled core will not run with it."""
    if engine == "python":
        raise SearchError(f"store: --store {store} is the compiled core's; drop --engine python")
    if why_not is not None:
        raise SearchError(f"store: --store {store} needs the compiled core, which does not support {why_not}")
    from checker.compiled.engine import store_unsupported

    why = store_unsupported(store, strategy)
    if why is not None:
        raise SearchError(f"store: the compiled core does not support {why}")


def _why_not_compiled(search: Search, strategy: str) -> str | None:
    """Why the compiled core cannot run ``search`` (numba missing included), or None."""
    room = _address_space_room_mb()
    if room is not None and room < NUMBA_ADDRESS_SPACE_MB:
        return (f"this process's address-space limit (ulimit -v): {room:.0f} MB left, and loading numba "
                f"and the core maps about {NUMBA_ADDRESS_SPACE_MB} MB")
    try:
        from checker.compiled.engine import unsupported
    except ImportError as e:
        return f"this installation ({e})"
    except MemoryError:
        return "this process's memory limit (numba could not be loaded)"
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

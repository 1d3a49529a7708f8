"""Compile the core (or load it from numba's cache) now, on a tiny configuration, once per search path.

``ringcheck compile`` runs this after an install, in a container image, or
before a benchmark, so that the first real search starts at once instead of
spending some 40 seconds compiling. Each path (``PATHS``) is a complete
compiled search with its verdict checked, so a path that compiled but gives
a wrong answer is an error here too. The signatures numba compiles depend
only on the array types, not on the configuration's sizes, so a two-producer
ring of 16 bytes compiles what every configuration of the same path runs.

The test suite's conftest starts this in the background, so that its workers
wait for one compile (``jit.one_compiler_at_a_time``) rather than each doing
their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from model.config import Config

WARM_CONFIG = Config(variant="v6.10", ring_size=16, producers=2, records=1, sizes=(8,), discard=True)
"""Small enough to search in milliseconds once compiled; two producers, so that symmetry has work."""

PATHS: dict[str, dict] = {
    "bfs": {},
    "bfs --symmetry": {"symmetry": True},
    "dfs": {"strategy": "dfs"},
    "bfs --threads 2": {"workers": 2},
    "bfs --store tree": {"store": "tree"},
    "bfs --store tree --threads 2": {"store": "tree", "workers": 2},
}
"""The compiled searches, as ``checker.run.check`` keywords (the command-line options they stand for)."""


class WarmUpError(RuntimeError):
    """A compiled path did not give the tiny configuration's known verdict."""


@dataclass
class WarmStep:
    path: str
    seconds: float
    states: int


def warm_up(paths: list[str] | None = None, progress=None) -> list[WarmStep]:
    """Run each of ``paths`` (default: all of ``PATHS``) on ``WARM_CONFIG``; return what each took.

    ``progress(path)`` is called before each. Raises WarmUpError if a path
    does not say "holds" with the state count of the Python engine, whose
    count is the reference (with symmetry, the reduced count).
    """
    from checker.run import check

    steps = []
    expected = {sym: check(WARM_CONFIG, engine="python", symmetry=sym).stats.states for sym in (False, True)}
    for path in paths or list(PATHS):
        kw = PATHS[path]
        if progress is not None:
            progress(path)
        t0 = time.perf_counter()
        v = check(WARM_CONFIG, engine="compiled", **kw)
        seconds = time.perf_counter() - t0
        want = expected[bool(kw.get("symmetry"))]
        if v.kind != "holds" or v.stats.states != want:
            raise WarmUpError(f"compile: the compiled path {path!r} gave {v.headline()} with {v.stats.states} "
                              f"states on {WARM_CONFIG.describe()}; the Python engine: holds, {want} states")
        steps.append(WarmStep(path, seconds, v.stats.states))
    return steps


def main() -> None:
    """``python -m checker.compiled.warm``: warm the cache quietly (the test suite's background job)."""
    warm_up()


if __name__ == "__main__":
    main()

"""Suite-wide set-up: on a cold numba cache, compile the compiled core once, in the background.

A clean clone has no compiled core. Without this, the first tests of each
xdist worker and the command-line tests' own processes each compiled it, side
by side: about a minute of the suite's wall time on a 2-core machine. Here the
controller starts ``python -m checker.compiled.warm`` when the cache lacks the
core; numba's compiles are serialized across processes
(``checker.compiled.jit.one_compiler_at_a_time``), so a test that needs a
kernel the warm-up is compiling waits for it and loads it from the cache, and
its core goes to the other tests meanwhile. The warm-up is no test: if it
fails, each test compiles what it needs as before. RINGCHECK_NO_WARM_UP=1
turns it off.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_warm_up: subprocess.Popen | None = None


def _cache_is_cold() -> bool:
    from checker.compiled import cache_dir, drop_stale_cache

    drop_stale_cache()
    return not any(cache_dir().rglob("bfs._bfs_chunk-*.nbi"))


def pytest_configure(config: pytest.Config) -> None:
    global _warm_up
    if hasattr(config, "workerinput") or os.environ.get("RINGCHECK_NO_WARM_UP") or config.option.collectonly:
        return
    try:
        if not _cache_is_cold():
            return
    except ImportError:                    # numba missing: nothing to compile
        return
    _warm_up = subprocess.Popen([sys.executable, "-m", "checker.compiled.warm"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _warm_up is not None and _warm_up.poll() is None:
        _warm_up.terminate()
        _warm_up.wait(timeout=30)

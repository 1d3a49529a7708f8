"""The compiled explicit-state core (numba): packed states, compiled steps and predicates, BFS/DFS.

numba's cache (``cache=True``) checks only the source file of each function,
not the files of the functions it calls, so a change in ``steps.py`` would
leave the BFS kernel of ``bfs.py`` compiled from the old steps. Importing
this package therefore compares a digest of all its sources with the one
stored beside the cache and, when they differ, deletes the package's cached
machine code so that everything is compiled again from today's sources.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
"""numpy's BLAS is never used here, and its per-thread buffers, allocated when numpy is first imported,
fail under a tight address-space limit (ulimit -v) and abort the whole process with exit 1."""

_HERE = Path(__file__).resolve().parent
_MODULES = sorted(p.stem for p in _HERE.glob("*.py") if p.stem != "__init__")


def _cache_files(base: Path) -> list[Path]:
    return [f for f in base.rglob("*.nb[ic]") if f.name.split(".", 1)[0] in _MODULES]


def cache_dir() -> Path:
    """Where numba keeps the core's cache: NUMBA_CACHE_DIR if set, else the package's ``__pycache__``."""
    return Path(os.environ["NUMBA_CACHE_DIR"]) if os.environ.get("NUMBA_CACHE_DIR") else _HERE / "__pycache__"


def drop_stale_cache() -> None:
    """Delete the package's numba cache if any of its sources changed since it was written."""
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(_HERE.glob("*.py")))).hexdigest()
    base = cache_dir()
    stamp = base / "ringcheck-compiled-sources.sha256"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        for f in _cache_files(base):
            f.unlink(missing_ok=True)
        base.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass                      # a read-only install: numba then keeps no cache there either


def _import_numba_arrays_without_scipy() -> None:
    """Import numba's array support with SciPy hidden, saving 0.1-0.2 s at every start.

    numba's ``numba.np.arraymath``, loaded with the first compiled function,
    checks for BLAS by importing ``scipy.linalg`` when SciPy is installed.
    The core never calls BLAS (no ``np.dot``, no ``np.linalg``), so where
    SciPy is installed but not yet imported it is hidden for that one import
    and numba records that it has no BLAS. A process that imported SciPy
    before us is left as it is.
    """
    import sys

    if "scipy" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules["scipy"] = None   # type: ignore[assignment]  # makes "import scipy..." raise ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules["scipy"]


drop_stale_cache()
_import_numba_arrays_without_scipy()

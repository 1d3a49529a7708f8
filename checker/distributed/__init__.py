"""Distributed exhaustive search over the compiled core's packed states (issue 19).

A hash-partitioned, level-synchronised breadth-first search: each worker
(``shard.Shard``) owns the states whose hash falls in its shard, keeps their
visited set, parent links and its part of the frontier, and expands its
frontier into batches of candidate successors, one batch per owner.
``transport`` moves the batches (local processes through pipes, or Ray
actors through Ray's object store); ``driver`` runs the levels, rebuilds a
counterexample across the shards and replays it in the Python model;
``checkpoint`` writes and reads the shards at the end of a level.

numba's cache checks only the source file of each compiled function, not
the files of the functions it calls; the kernels here call the compiled
core's steps, so importing this package drops its own cached machine code
when any source of ``checker/compiled/`` or of this package changed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

_HERE = Path(__file__).resolve().parent
_COMPILED = _HERE.parent / "compiled"


def sources_digest() -> str:
    """SHA-256 over the sources of the compiled core and of this package (names and bytes)."""
    h = hashlib.sha256()
    for folder in (_COMPILED, _HERE):
        for p in sorted(folder.glob("*.py")):
            h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _kernel_sources_digest() -> str:
    """SHA-256 over what the compiled kernels are built from: the compiled core and ``kernels.py``."""
    h = hashlib.sha256()
    for p in sorted(_COMPILED.glob("*.py")) + [_HERE / "kernels.py"]:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def drop_stale_cache() -> None:
    """Delete this package's numba cache if a source it depends on changed since it was written."""
    digest = _kernel_sources_digest()
    base = Path(os.environ["NUMBA_CACHE_DIR"]) if os.environ.get("NUMBA_CACHE_DIR") else _HERE / "__pycache__"
    stamp = base / "ringcheck-distributed-sources.sha256"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    mine = {"kernels"}
    try:
        for f in base.rglob("*.nb[ic]"):
            if f.name.split(".", 1)[0] in mine:
                f.unlink(missing_ok=True)
        base.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass


drop_stale_cache()

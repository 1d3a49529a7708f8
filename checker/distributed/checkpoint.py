"""Checkpoints of a distributed search: the visited shards and the frontier at the end of a level.

A checkpoint directory holds ``ringcheck-checkpoint.json`` (what was run,
its digest, how far it got, the totals) and one directory per finished
level, ``level-NNNNNN/``, with each shard's states of that level and their
parent links (``shard-K.npz``) and their ranks (``ranks-K.npy``, kept only
for the last level: the frontier). The visited set only grows, so a level
writes only its own new states.

Atomic: a level is written into a temporary directory, every file and the
directory are fsynced, and it is renamed into place; then the JSON file is
written the same way (temporary file, fsync, rename, fsync of the
directory). The JSON names the last level whose directory is complete, so a
run killed at any point leaves a checkpoint that resumes from the last level
that ended; level directories past it are leftovers, deleted on resume.

A resume is refused if the checkpoint was made for another configuration,
property set, search option, number of workers or compiled core: the digest
covers the configuration, the options and the sources of the compiled core
that define the packed state and the steps (as the kept proofs' digest
covers the terms they reasoned about).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MARKER = "ringcheck-checkpoint.json"
FORMAT = 1
CORE_SOURCES = ("layout.py", "steps.py", "predicates.py", "symmetry.py", "actions.py")
"""The compiled core's files that define the packed state, the steps and the properties."""


class CheckpointError(ValueError):
    """A checkpoint directory cannot be used (one-line message)."""


def run_digest(config: dict, start: int, properties: list[str], symmetric: bool, check_deadlock: bool,
               core: Path | None = None) -> str:
    """SHA-256 over what decides the state space and its packed form (``core``: the compiled core's folder)."""
    h = hashlib.sha256()
    h.update(json.dumps({"format": FORMAT, "config": config, "start": start, "properties": properties,
                         "symmetry": symmetric, "deadlock": check_deadlock}, sort_keys=True).encode())
    core = core or Path(__file__).resolve().parent.parent / "compiled"
    for name in CORE_SOURCES:
        h.update(name.encode() + b"\0" + (core / name).read_bytes())
    h.update((Path(__file__).resolve().parent / "kernels.py").read_bytes())
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def is_checkpoint(path: Path) -> bool:
    return (path / MARKER).is_file()


def prepare_new(path: Path) -> None:
    """Make ``path`` ready for a new checkpoint; refuse (one line) to touch a directory that is not ours."""
    if path.exists():
        if not path.is_dir():
            raise CheckpointError(f"checkpoint: {path} exists and is not a directory")
        if is_checkpoint(path):
            raise CheckpointError(f"checkpoint: {path} holds a ringcheck checkpoint already; continue it with "
                                  f"--resume {path}, or remove it to start over")
        if any(path.iterdir()):
            raise CheckpointError(f"checkpoint: {path} is not empty and is not a ringcheck checkpoint; "
                                  f"not touching it (give a new or empty directory)")
        return
    if not path.parent.is_dir():
        raise CheckpointError(f"checkpoint: {path.parent} is not a directory")
    path.mkdir()


def _level_dir(path: Path, level: int) -> Path:
    return path / f"level-{level:06d}"


def write_level(path: Path, level: int, segments: list[dict], meta: dict) -> None:
    """Write level ``level`` (one segment per shard, from ``Shard.segment``) and then ``meta``, atomically."""
    final = _level_dir(path, level)
    tmp = path / f".{final.name}.tmp"
    for leftover in (tmp, final):
        if leftover.exists():
            shutil.rmtree(leftover)
    tmp.mkdir()
    for k, seg in enumerate(segments):
        f = tmp / f"shard-{k}.npz"
        np.savez(f, states=seg["states"], parent=seg["parent"], action=seg["action"],
                 parent_shard=seg["parent_shard"])
        r = tmp / f"ranks-{k}.npy"
        np.save(r, seg["ranks"])
        _fsync_file(f)
        _fsync_file(r)
    _fsync_dir(tmp)
    os.rename(tmp, final)
    _fsync_dir(path)
    text = json.dumps(dict(meta, format=FORMAT, level=level), indent=1) + "\n"
    mtmp = path / f".{MARKER}.tmp"
    mtmp.write_text(text)
    _fsync_file(mtmp)
    os.rename(mtmp, path / MARKER)
    _fsync_dir(path)
    if level > 0:
        for old in _level_dir(path, level - 1).glob("ranks-*.npy"):
            old.unlink()


def read_meta(path: Path) -> dict:
    """The checkpoint's JSON, or a one-line CheckpointError."""
    if not path.is_dir():
        raise CheckpointError(f"resume: {path} is not a directory")
    if not is_checkpoint(path):
        raise CheckpointError(f"resume: {path} is not a ringcheck checkpoint (no {MARKER})")
    try:
        meta = json.loads((path / MARKER).read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"resume: {path / MARKER} cannot be read: {e}") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"resume: {path} has checkpoint format {meta.get('format')}, this ringcheck "
                              f"reads {FORMAT}")
    return meta


@dataclass
class ShardData:
    """One shard as read back: what ``Shard.load`` takes."""

    states: np.ndarray
    parent: np.ndarray
    action: np.ndarray
    parent_shard: np.ndarray
    ranks: np.ndarray
    frontier_lo: int


def read_shards(path: Path, meta: dict) -> list[ShardData]:
    """Every shard's levels 0 .. meta['level'] concatenated; leftover later levels are deleted."""
    last = int(meta["level"])
    for stale in list(path.glob(".level-*.tmp")) + [d for d in path.glob("level-*")
                                                      if int(d.name.split("-")[1]) > last]:
        shutil.rmtree(stale)
    out = []
    for k in range(int(meta["workers"])):
        parts = []
        for level in range(last + 1):
            try:
                with np.load(_level_dir(path, level) / f"shard-{k}.npz") as z:
                    parts.append({name: z[name] for name in ("states", "parent", "action", "parent_shard")})
            except (OSError, ValueError, KeyError) as e:
                raise CheckpointError(f"resume: level {level} of shard {k} cannot be read: {e}") from None
        ranks = np.load(_level_dir(path, last) / f"ranks-{k}.npy")
        cat = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
        out.append(ShardData(cat["states"], cat["parent"], cat["action"], cat["parent_shard"], ranks,
                             len(cat["states"]) - len(parts[-1]["states"])))
    return out

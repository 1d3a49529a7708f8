"""Memory models for the ring buffer's shared accesses: sc, tso, ra (and sra, its strong variant).

The interface is documented in ``model.memory.base``; ``make`` builds a model
by name. The models know nothing about the ring buffer: ``model.memory.litmus``
runs the classic litmus programs on exactly these objects.
"""

from __future__ import annotations

from model.memory.base import (BOUNDED, Internal, Loc, Mem, MemoryModel, Read, Write)
from model.memory.sc import SequentialConsistency

MODELS = ("sc", "tso", "ra")
"""The names ``--memory`` accepts (``sra`` is built by ``make`` too, for the litmus tests)."""

DEFAULT_BUFFER = 2
DEFAULT_HISTORY = 3


def make(name: str, *, buffer: int = DEFAULT_BUFFER, history: int = DEFAULT_HISTORY) -> MemoryModel:
    """The memory model called ``name``; ``buffer`` bounds TSO, ``history`` bounds RA/SRA."""
    if name == "sc":
        return SequentialConsistency()
    if name == "tso":
        from model.memory.tso import TotalStoreOrder
        return TotalStoreOrder(buffer)
    if name in ("ra", "sra"):
        from model.memory.ra import ReleaseAcquire
        return ReleaseAcquire(history, strong=(name == "sra"))
    raise ValueError(f"unknown memory model {name!r} (known: sc, tso, ra, sra)")


__all__ = ["BOUNDED", "DEFAULT_BUFFER", "DEFAULT_HISTORY", "Internal", "Loc", "MODELS", "Mem",
           "MemoryModel", "Read", "Write", "make"]

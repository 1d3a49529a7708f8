"""Sequential consistency: one value per location, every access atomic and in program order.

This is the memory the model has always had: a load returns the one value, a
store replaces it, nothing is buffered or stale. Orders are accepted and
ignored (every access is as strong as it can be). No bound.
"""

from __future__ import annotations

from typing import Callable, Mapping, NamedTuple, Sequence

from model.memory.base import (ACQUIRE, ORDERS, PLAIN, RELEASE, Layout, Loc, MemoryModel, Read,
                               Write, check_order, layout_for, loc_name)


class SCMem(NamedTuple):
    """The values of all locations, in the layout's order."""

    layout: Layout
    values: tuple[int, ...]


class SequentialConsistency(MemoryModel):
    """Interleavings of atomic accesses on one shared memory."""

    name = "sc"
    bound = None

    def initial(self, values: Mapping[Loc, int], actors: int) -> SCMem:
        layout = layout_for(values)
        return SCMem(layout, tuple(int(values[loc]) for loc in layout.locs))

    def load(self, m: SCMem, actor: int, loc: Loc, order: str) -> list[Read]:
        check_order(order, (PLAIN, ACQUIRE, RELEASE), "a load")
        return [Read(m.values[m.layout.index[loc]], m, 0, False)]

    def store(self, m: SCMem, actor: int, loc: Loc, value: int, order: str) -> list[Write]:
        check_order(order, (PLAIN, ACQUIRE, RELEASE), "a store")
        return [Write(_set(m, loc, value), 0, False)]

    def rmw(self, m: SCMem, actor: int, loc: Loc, update: Callable[[int], int | None], order: str,
            *, keep_failed: bool = False) -> list[Read]:
        check_order(order, ORDERS, "an rmw")
        old = m.values[m.layout.index[loc]]
        new = update(old)
        if new is None:
            return [Read(old, m, 0, False)] if keep_failed else []
        return [Read(old, _set(m, loc, new), 0, False)]

    def fence(self, m: SCMem, actor: int) -> list[SCMem]:
        return [m]

    def value(self, m: SCMem, loc: Loc) -> int:
        return m.values[m.layout.index[loc]]

    def shared_panel(self, m: SCMem) -> dict:
        return {"memory": {loc_name(loc): v for loc, v in zip(m.layout.locs, m.values)}}

    def map_values(self, m: SCMem, fn: Callable[[int], int]) -> SCMem:
        return SCMem(m.layout, tuple(fn(v) for v in m.values))

    def map_located(self, m: SCMem, fn: Callable[[Loc, int], int]) -> SCMem:
        return SCMem(m.layout, tuple(fn(loc, v) for loc, v in zip(m.layout.locs, m.values)))

    def permute_actors(self, m: SCMem, perm: Sequence[int]) -> SCMem:
        return m


def _set(m: SCMem, loc: Loc, value: int) -> SCMem:
    i = m.layout.index[loc]
    return SCMem(m.layout, m.values[:i] + (int(value),) + m.values[i + 1:])

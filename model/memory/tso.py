"""x86-TSO (Owens, Sarkar, Sewell 2009): a FIFO store buffer per actor in front of one memory.

A store goes into the storing actor's buffer; a load returns the actor's
newest buffered store to that location, else memory; a *flush* (an internal
step of that actor, ``internal_steps``) moves the oldest entry of one buffer
to memory. Locked instructions (every rmw: ``xchg``, the spinlock's
acquisition) and a full fence run only with the actor's buffer empty and act
on memory directly. Release stores and acquire loads are plain on x86: only
fences and locked instructions order a store before a later load, so the
store-buffering shape (SB) is the one weak behaviour.

The bound. Reachability under TSO with unbounded buffers is decidable but
non-primitive-recursive (Atig et al. 2010), so the buffer holds at most
``buffer`` entries. When a store finds the buffer full, the oldest entry is
flushed first, in the same step: that is a real TSO behaviour (the flush
could have run just before), but no other actor can act between the two, so
behaviours are lost and the ``Write`` says ``bounded=True``; a search that
saw one reports "holds up to bound buffer=N". A store never blocks, so a
small bound cannot make an actor look deadlocked.

Default ``buffer=2``. The weak behaviour the ring buffer is exposed to is a
store followed by a load of another location with the store still buffered:
the consumer stores consumer_pos and then loads producer_pos (the next pass
or ``poll.wait``): one entry; two records consumed back to back without a
flush: two entries. A producer's claim stores pending_pos, the header,
producer_pos and the unlock (four), then the payload words, before
``commit.xchg`` drains the buffer: with two entries the first of these reach
memory early. By FIFO order they are exactly the ones no other actor can yet
tell from unwritten (producer_pos and the unlock are still buffered behind
them), but this is an argument, not a check, so the bound is reported; give
``buffer`` = 4 + the payload words to check the producer's window too.
"""

from __future__ import annotations

from typing import Callable, Mapping, NamedTuple, Sequence

from model.memory.base import (ACQUIRE, ORDERS, PLAIN, RELEASE, Internal, Layout, Loc, MemoryModel,
                               Read, Write, check_order, layout_for, loc_name)

Entry = tuple[int, int]
"""A buffered store: (location index, value)."""


class TSOMem(NamedTuple):
    """Main memory (values in layout order) and one FIFO buffer per actor, oldest entry first."""

    layout: Layout
    memory: tuple[int, ...]
    buffers: tuple[tuple[Entry, ...], ...]


class TotalStoreOrder(MemoryModel):
    """x86-TSO with per-actor FIFO store buffers of at most ``buffer`` entries."""

    name = "tso"

    def __init__(self, buffer: int = 2) -> None:
        if buffer < 1:
            raise ValueError(f"a TSO store buffer holds at least one entry (got buffer={buffer})")
        self.buffer = buffer
        self.bound = f"buffer={buffer}"

    def initial(self, values: Mapping[Loc, int], actors: int) -> TSOMem:
        layout = layout_for(values)
        return TSOMem(layout, tuple(int(values[loc]) for loc in layout.locs), ((),) * actors)

    def load(self, m: TSOMem, actor: int, loc: Loc, order: str) -> list[Read]:
        check_order(order, (PLAIN, ACQUIRE, RELEASE), "a load")
        i = m.layout.index[loc]
        value = _forwarded(m.buffers[actor], i)
        if value is None:
            value = m.memory[i]
        stale = any(a != actor and any(j == i for j, _ in buf) for a, buf in enumerate(m.buffers))
        return [Read(value, m, 0, stale)]

    def store(self, m: TSOMem, actor: int, loc: Loc, value: int, order: str) -> list[Write]:
        check_order(order, (PLAIN, ACQUIRE, RELEASE), "a store")
        i = m.layout.index[loc]
        bounded = len(m.buffers[actor]) >= self.buffer
        if bounded:
            m = _flush(m, actor)
        buf = m.buffers[actor] + ((i, int(value)),)
        return [Write(m._replace(buffers=_put(m.buffers, actor, buf)), 0, False, bounded)]

    def rmw(self, m: TSOMem, actor: int, loc: Loc, update: Callable[[int], int | None], order: str,
            *, keep_failed: bool = False) -> list[Read]:
        check_order(order, ORDERS, "an rmw")
        if m.buffers[actor]:
            return []
        i = m.layout.index[loc]
        old = m.memory[i]
        new = update(old)
        if new is None:
            return [Read(old, m, 0, False)] if keep_failed else []
        return [Read(old, m._replace(memory=_put(m.memory, i, int(new))), 0, False)]

    def fence(self, m: TSOMem, actor: int) -> list[TSOMem]:
        return [] if m.buffers[actor] else [m]

    def internal_steps(self, m: TSOMem) -> list[Internal]:
        steps = []
        for actor, buf in enumerate(m.buffers):
            if buf:
                i, value = buf[0]
                steps.append(Internal(actor, "flush", _flush(m, actor), m.layout.locs[i], value))
        return steps

    def value(self, m: TSOMem, loc: Loc) -> int:
        return m.memory[m.layout.index[loc]]

    def quiescent(self, m: TSOMem) -> bool:
        return not any(m.buffers)

    def panel(self, m: TSOMem, actor: int) -> dict:
        return {"buffer": [[loc_name(m.layout.locs[i]), v] for i, v in m.buffers[actor]]}

    def actor_key(self, m: TSOMem, actor: int) -> tuple:
        return m.buffers[actor]

    def shared_panel(self, m: TSOMem) -> dict:
        return {"memory": {loc_name(loc): v for loc, v in zip(m.layout.locs, m.memory)}}

    def map_values(self, m: TSOMem, fn: Callable[[int], int]) -> TSOMem:
        return TSOMem(m.layout, tuple(fn(v) for v in m.memory),
                      tuple(tuple((i, fn(v)) for i, v in buf) for buf in m.buffers))

    def map_located(self, m: TSOMem, fn: Callable[[Loc, int], int]) -> TSOMem:
        locs = m.layout.locs
        return TSOMem(m.layout, tuple(fn(loc, v) for loc, v in zip(locs, m.memory)),
                      tuple(tuple((i, fn(locs[i], v)) for i, v in buf) for buf in m.buffers))

    def permute_actors(self, m: TSOMem, perm: Sequence[int]) -> TSOMem:
        buffers = [()] * len(m.buffers)
        for actor, buf in enumerate(m.buffers):
            buffers[perm[actor]] = buf
        return m._replace(buffers=tuple(buffers))


def _forwarded(buf: tuple[Entry, ...], i: int) -> int | None:
    """The newest value the buffer holds for location ``i`` (store forwarding), or None."""
    for j, value in reversed(buf):
        if j == i:
            return value
    return None


def _flush(m: TSOMem, actor: int) -> TSOMem:
    """The oldest entry of ``actor``'s buffer written to memory."""
    (i, value), rest = m.buffers[actor][0], m.buffers[actor][1:]
    return TSOMem(m.layout, _put(m.memory, i, value), _put(m.buffers, actor, rest))


def _put(t: tuple, i: int, item) -> tuple:
    return t[:i] + (item,) + t[i + 1:]

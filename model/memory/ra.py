"""Release/acquire with relaxed accesses, view-based (Lahav et al. 2016; Kaiser et al. 2017, ORC11).

Each location has a history of *messages* (value, attached view), ordered by
coherence: a message's timestamp is its index in the history. Each actor has
three views (location -> timestamp), as in ORC11:

* ``cur``: what the actor has seen; a load may read any message at or above
  ``cur[loc]``, a store goes above it;
* ``acq``: ``cur`` joined with the views of every message read so far, which
  a fence makes current (so a relaxed load followed by ``smp_mb`` acquires);
* ``rel``: ``cur`` at the last fence, which a relaxed store attaches (so
  ``smp_mb`` followed by a relaxed store releases).

A relaxed (plain) load raises only ``cur[loc]``; an acquire load joins the
message's view into ``cur``. A release store attaches ``cur``; a relaxed
store attaches ``rel``. A full fence (``smp_mb``) makes ``cur`` the join of
``acq`` and the global SC view, and stores ``cur`` back into the SC view:
of two fenced actors the later one sees everything the earlier one had seen,
so the store-buffering shape cannot read stale on both sides.

An rmw reads the *latest* message and puts its own message right after it,
glued: no later store may be placed between the two (atomicity). Its message
carries the read message's view too (release sequences: an acquire load of a
lock word written by ``spin_lock`` still synchronises with the ``spin_unlock``
before it). ``xchg`` (XCHG) is a full fence, an acquire-release rmw and a
full fence, which is how the kernel memory model orders it.

RA or SRA. With ``strong=False`` (``make("ra")``) a store may take *any* free
place above the actor's view in the coherence order (the RA of Lahav et al.,
C11's release/acquire), so 2+2W is allowed; with ``strong=True``
(``make("sra")``) a store always goes at the end (their SRA), and 2+2W is
forbidden. ``ra`` is the weaker of the two, so a "holds" under ``ra`` is the
stronger statement; the litmus tests run both.

No promises: a load reads a message that exists, so load buffering (LB) never
happens; that is the usual choice for model checkers (GenMC, loom) and it is
what the kernel memory model gives when a dependency or a fence sits between.

Finite and canonical. A message below every actor's ``cur`` of its location
can never be read again, nor can a store be placed below it: it is dropped,
and the timestamps of each location are renumbered densely from 0 (a view
entry that pointed at a dropped message becomes 0: every actor is above it
anyway). Then a location holds at most ``history`` messages: when a store
would make one more, the oldest is dropped and every view at it is raised to
the next one (as if the lagging actor had read that one). Every behaviour
kept is a behaviour of the unbounded model, but reads of the dropped message
are lost, so the ``Write`` (or rmw ``Read``) says ``bounded=True``.

Default ``history=3``: the current value and two older ones per location. In
the ring buffer a producer reads consumer_pos that the consumer may have
moved on since: one older value is the lost wakeup, two let a producer lag by
two consumed records (the smallest configurations publish two or three), and
each further one multiplies the states; the bound is reported when it cuts.
"""

from __future__ import annotations

from typing import Callable, Mapping, NamedTuple, Sequence

from model.memory.base import (ACQUIRE, ORDERS, PLAIN, RELEASE, XCHG, Layout, Loc, MemoryModel,
                               Read, Write, check_order, layout_for, loc_name)

View = tuple[int, ...]
"""A timestamp per location, in layout order."""


class Message(NamedTuple):
    """One store in a location's history: its value, the view it carries, whether it is an rmw's."""

    value: int
    view: View
    glued: bool


class Actor(NamedTuple):
    """An actor's three views (see the module docstring): rel <= cur <= acq."""

    cur: View
    acq: View
    rel: View


class RAMem(NamedTuple):
    """Per location its messages (oldest first), per actor its views, and the global SC view."""

    layout: Layout
    history: tuple[tuple[Message, ...], ...]
    actors: tuple[Actor, ...]
    sc: View


class ReleaseAcquire(MemoryModel):
    """View-based release/acquire (``strong=False``: RA, ``strong=True``: SRA)."""

    def __init__(self, history: int = 3, *, strong: bool = False) -> None:
        if history < 1:
            raise ValueError(f"an RA location keeps at least one message (got history={history})")
        self.history = history
        self.strong = strong
        self.name = "sra" if strong else "ra"
        self.bound = f"history={history}"

    # ------------------------------------------------------------ interface

    def initial(self, values: Mapping[Loc, int], actors: int) -> RAMem:
        layout = layout_for(values)
        bottom = (0,) * len(layout.locs)
        history = tuple((Message(int(values[loc]), bottom, False),) for loc in layout.locs)
        return RAMem(layout, history, (Actor(bottom, bottom, bottom),) * actors, bottom)

    def load(self, m: RAMem, actor: int, loc: Loc, order: str) -> list[Read]:
        check_order(order, (PLAIN, ACQUIRE, RELEASE), "a load")
        x = m.layout.index[loc]
        msgs = m.history[x]
        last = len(msgs) - 1
        return [Read(msgs[ts].value, _canonical(_after_read(m, actor, x, ts, order == ACQUIRE)),
                     last - ts, ts < last)
                for ts in range(last, m.actors[actor].cur[x] - 1, -1)]

    def store(self, m: RAMem, actor: int, loc: Loc, value: int, order: str) -> list[Write]:
        check_order(order, (PLAIN, ACQUIRE, RELEASE), "a store")
        x = m.layout.index[loc]
        msgs = m.history[x]
        places = [len(msgs)] if self.strong else [
            p for p in range(len(msgs), m.actors[actor].cur[x], -1)
            if p == len(msgs) or not msgs[p].glued]
        writes = []
        for choice, p in enumerate(places):
            me = m.actors[actor]
            attached = me.cur if order == RELEASE else me.rel
            nxt, bounded = self._insert(m, actor, x, p, int(value), attached, glued=False)
            writes.append(Write(nxt, choice, p < len(msgs), bounded))
        return writes

    def rmw(self, m: RAMem, actor: int, loc: Loc, update: Callable[[int], int | None], order: str,
            *, keep_failed: bool = False) -> list[Read]:
        check_order(order, ORDERS, "an rmw")
        x = m.layout.index[loc]
        if order == XCHG:
            m = _fence(m, actor)
        last = len(m.history[x]) - 1
        read = m.history[x][last]
        new = update(read.value)
        m = _after_read(m, actor, x, last, order in (ACQUIRE, XCHG))
        if new is None:
            if not keep_failed:
                return []
            if order == XCHG:
                m = _fence(m, actor)
            return [Read(read.value, _canonical(m), 0, False)]
        me = m.actors[actor]
        attached = _join(me.cur if order in (RELEASE, XCHG) else me.rel, read.view)
        m, bounded = self._insert(m, actor, x, last + 1, int(new), attached, glued=not self.strong)
        if order == XCHG:
            m = _canonical(_fence(m, actor))
        return [Read(read.value, m, 0, False, bounded)]

    def fence(self, m: RAMem, actor: int) -> list[RAMem]:
        return [_canonical(_fence(m, actor))]

    def value(self, m: RAMem, loc: Loc) -> int:
        return m.history[m.layout.index[loc]][-1].value

    def panel(self, m: RAMem, actor: int) -> dict:
        return {"view": {loc_name(loc): ts for loc, ts in zip(m.layout.locs, m.actors[actor].cur)}}

    def actor_key(self, m: RAMem, actor: int) -> tuple:
        return tuple(m.actors[actor])

    def shared_panel(self, m: RAMem) -> dict:
        locs = m.layout.locs
        return {
            "messages": {
                loc_name(loc): [
                    {"value": msg.value, "ts": ts,
                     "view": {loc_name(locs[y]): t for y, t in enumerate(msg.view) if t and y != x}}
                    for ts, msg in enumerate(m.history[x])]
                for x, loc in enumerate(locs)},
            "sc_view": {loc_name(loc): ts for loc, ts in zip(locs, m.sc)},
        }

    def map_values(self, m: RAMem, fn: Callable[[int], int]) -> RAMem:
        return m._replace(history=tuple(tuple(msg._replace(value=fn(msg.value)) for msg in msgs)
                                        for msgs in m.history))

    def map_located(self, m: RAMem, fn: Callable[[Loc, int], int]) -> RAMem:
        return m._replace(history=tuple(tuple(msg._replace(value=fn(loc, msg.value)) for msg in msgs)
                                        for loc, msgs in zip(m.layout.locs, m.history)))

    def permute_actors(self, m: RAMem, perm: Sequence[int]) -> RAMem:
        actors = [None] * len(m.actors)
        for actor, views in enumerate(m.actors):
            actors[perm[actor]] = views
        return m._replace(actors=tuple(actors))

    # ------------------------------------------------------------ internals

    def _insert(self, m: RAMem, actor: int, x: int, p: int, value: int, attached: View,
                glued: bool) -> tuple[RAMem, bool]:
        """``actor``'s store of ``value`` to location ``x`` at timestamp ``p`` (later ones move up)."""
        if p < len(m.history[x]):
            m = _renumber(m, x, lambda t: t + 1 if t >= p else t)
            attached = _renumber_view(attached, x, lambda t: t + 1 if t >= p else t)
        msgs = m.history[x]
        history = _put(m.history, x, msgs[:p] + (Message(value, _put(attached, x, 0), glued),) + msgs[p:])
        me = m.actors[actor]
        cur = _put(me.cur, x, p)
        me = Actor(cur, _join(me.acq, cur), me.rel)
        m = _canonical(RAMem(m.layout, history, _put(m.actors, actor, me), m.sc))
        if len(m.history[x]) <= self.history:
            return m, False
        return _drop_below(m, x, len(m.history[x]) - self.history), True


def _after_read(m: RAMem, actor: int, x: int, ts: int, acquire: bool) -> RAMem:
    """``actor``'s views after reading the message at timestamp ``ts`` of location ``x``."""
    me = m.actors[actor]
    msg_view = _put(m.history[x][ts].view, x, ts)
    if acquire:
        cur = _join(me.cur, msg_view)
        me = Actor(cur, _join(me.acq, cur), me.rel)
    else:
        me = Actor(_put(me.cur, x, max(me.cur[x], ts)), _join(me.acq, msg_view), me.rel)
    return m._replace(actors=_put(m.actors, actor, me))


def _fence(m: RAMem, actor: int) -> RAMem:
    """A full fence: acquire what was read, meet the SC view, release what is now seen."""
    me = m.actors[actor]
    cur = _join(me.acq, m.sc)
    return m._replace(actors=_put(m.actors, actor, Actor(cur, cur, cur)), sc=cur)


def _canonical(m: RAMem) -> RAMem:
    """Drop the messages no actor can read any more; timestamps from 0 again."""
    lows = tuple(map(min, zip(*(a.cur for a in m.actors)))) if m.actors else ()
    return _drop(m, lows) if any(lows) else m


def _drop_below(m: RAMem, x: int, low: int) -> RAMem:
    """The messages of location ``x`` below timestamp ``low`` dropped, every view at them raised."""
    return _drop(m, _put((0,) * len(m.layout.locs), x, low))


def _drop(m: RAMem, lows: View) -> RAMem:
    """Per location ``x`` the messages below ``lows[x]`` dropped, every view entry moved down by it.

    A view entry below ``lows[x]`` pointed at a dropped message and becomes 0,
    the oldest kept one; the first kept message is no longer glued, since
    nothing can be placed below it any more.
    """
    moved = [(x, low) for x, low in enumerate(lows) if low]

    def r(view: View) -> View:
        if not any(view[x] for x, _ in moved):
            return view
        v = list(view)
        for x, low in moved:
            v[x] = v[x] - low if v[x] > low else 0
        return tuple(v)
    history = []
    for msgs, low in zip(m.history, lows):
        kept = msgs[low:]
        if low and kept[0].glued:
            kept = (kept[0]._replace(glued=False),) + kept[1:]
        history.append(tuple(_with_view(msg, r(msg.view)) for msg in kept))
    actors = tuple(Actor(r(a.cur), r(a.acq), r(a.rel)) for a in m.actors)
    return RAMem(m.layout, tuple(history), actors, r(m.sc))


def _with_view(msg: Message, view: View) -> Message:
    return msg if view is msg.view else Message(msg.value, view, msg.glued)


def _renumber(m: RAMem, x: int, fn: Callable[[int], int]) -> RAMem:
    """Every view's entry for location ``x`` mapped through ``fn`` (messages keep their places)."""
    def r(view: View) -> View:
        return _renumber_view(view, x, fn)
    history = tuple(tuple(msg._replace(view=r(msg.view)) if y != x else msg for msg in msgs)
                    for y, msgs in enumerate(m.history))
    actors = tuple(Actor(r(a.cur), r(a.acq), r(a.rel)) for a in m.actors)
    return RAMem(m.layout, history, actors, r(m.sc))


def _renumber_view(view: View, x: int, fn: Callable[[int], int]) -> View:
    return _put(view, x, fn(view[x]))


def _join(a: View, b: View) -> View:
    return tuple(max(s, t) for s, t in zip(a, b))


def _put(t: tuple, i: int, item) -> tuple:
    return t[:i] + (item,) + t[i + 1:]

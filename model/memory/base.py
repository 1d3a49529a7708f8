"""The memory interface every shared access goes through, whatever the memory model.

A memory model is an object with no state of its own: a *memory* (``Mem``) is
an immutable, hashable value, and every operation takes one and returns the
possible successors. That is what an explicit-state search needs: the ring
buffer's ``State`` holds a ``Mem`` as one field, a step asks the model what a
load may return or what a store leads to, and equal situations give equal
``Mem`` values (the canonical form), so the visited set merges them.

Interface (read this first; changes are listed at the end)
-----------------------------------------------------------
``make(name, *, buffer=2, history=3) -> MemoryModel`` (in ``model.memory``)
    ``"sc"``, ``"tso"`` (store buffers of at most ``buffer`` entries per
    actor), ``"ra"`` (release/acquire with relaxed accesses, at most
    ``history`` readable messages per location) or ``"sra"`` (the strong
    variant of ``ra``, used by the litmus tests to show 2+2W; see ``ra.py``).

``model.initial(values, actors) -> Mem``
    ``values`` maps every location the program will touch to its initial
    value; its key order is the location order of panels. A location is any
    hashable (``"consumer_pos"``, ``("slot", 3)``). ``actors`` is how many
    actors there are; an actor is an int ``0 .. actors-1`` (the ring layer
    decides which is which). Touching an undeclared location raises KeyError.

``model.load(m, actor, loc, order) -> list[Read]``
    Every value the load may return, newest first: ``result[i].choice == i``,
    and ``choice == 0`` is the newest readable value. ``Read.stale`` is True
    when a newer value of ``loc`` exists that this actor did not read (RA: a
    later message in coherence order; TSO: a store to ``loc`` buffered by
    another actor). Never empty. ``order`` is PLAIN or ACQUIRE (RELEASE is
    treated as PLAIN for a load; XCHG is refused: use ``rmw``).

``model.store(m, actor, loc, value, order) -> list[Write]``
    Every place the store may take; never empty (a store never blocks).
    SC, TSO and SRA: one ``Write``; RA: one per free place in the location's
    coherence order above the actor's view, ``choice == 0`` = at the end
    (newest). ``Write.stale`` is True when the store was *not* placed at the
    end. ``Write.bounded`` is True when the bound cut behaviours here (TSO:
    the buffer was full, so its oldest entry was flushed in the same step;
    RA: the history overflowed and the oldest message was dropped). ``order``
    is PLAIN or RELEASE (ACQUIRE is treated as PLAIN for a store; XCHG is
    refused: use ``rmw``).

``model.rmw(m, actor, loc, update, order, *, keep_failed=False) -> list[Read]``
    Atomic read-modify-write of the *latest* value of ``loc`` (every model:
    an rmw never reads a stale value). ``update(old)`` returns the new value,
    or None when the rmw does not happen (a spinlock found taken). Returns
    ``[]`` when not enabled now (TSO: the actor's buffer is not empty; RA:
    never) or when ``update`` returned None; with ``keep_failed=True`` a
    failed attempt is returned as a ``Read`` of the old value whose ``mem``
    is the memory after the read alone (for spin_trylock, where failing is a
    step). ``Read.value`` is always the *old* value. ``order``: PLAIN
    (relaxed), ACQUIRE (acquire read, relaxed write: ``spin_lock``),
    RELEASE (relaxed read, release write), XCHG (acquire-release, with a
    full fence before and after: how the kernel memory model treats
    ``xchg``).

``model.fence(m, actor) -> list[Mem]``
    A full fence (``smp_mb``). TSO: ``[]`` unless the buffer is empty, then
    ``[m]``. RA: one successor. SC: ``[m]``.

``model.internal_steps(m) -> list[Internal]``
    Steps no program instruction makes: TSO flushes, one per actor with a
    non-empty buffer (the oldest entry goes to memory). ``Internal`` is a
    NamedTuple ``(actor, label, mem, loc, value)`` with ``label ==
    "flush"``; ``loc``/``value`` say what was flushed (for traces). A flush
    is deterministic per actor, so an action ``c.flush`` replays uniquely.
    SC and RA: always ``[]``.

``model.value(m, loc) -> int``
    The value "in memory": SC the value, TSO main memory (buffers not
    included), RA the coherence-latest message. Properties about the final
    or global state use this.

``model.readable(m, actor, loc) -> list[int]``
    The values a plain load by ``actor`` could return now, newest first (the
    ``value`` fields of ``load(m, actor, loc, PLAIN)``). For panels.

``model.quiescent(m) -> bool``
    No buffered store (TSO); always True for SC and RA.

``model.panel(m, actor) -> dict`` and ``model.shared_panel(m) -> dict``
    JSON-ready descriptions for traces and the HTML page. ``panel``: SC
    ``{}``; TSO ``{"buffer": [[loc, value], ...]}`` oldest first; RA
    ``{"view": {loc: ts}}`` for every location (ts as in ``shared_panel``).
    ``shared_panel``: SC/TSO ``{"memory": {loc:
    value}}``; RA ``{"messages": {loc: [{"value", "ts", "view"}, ...]}}``
    oldest first. Locations that are not strings are shown with ``str()``.

``model.map_values(m, fn) -> Mem`` and ``model.permute_actors(m, perm) -> Mem``
    For symmetry reduction: every stored value replaced by ``fn(value)``;
    actor ``a`` renamed ``perm[a]``. Both keep the canonical form.

``model.actor_key(m, actor) -> tuple``
    An orderable tuple of ints: what ``actor`` holds privately (TSO: its
    buffer as (location index, value) pairs; RA: its three views; SC: ``()``).
    ``Mem`` values are hashable but not orderable; a symmetry reduction that
    sorts actors can add this to its sort key. Values are raw (a record id
    inside a value is not made relative to anything).

``model.name`` (``"sc"``, ``"tso"``, ``"ra"``, ``"sra"``) and ``model.bound``
    (``None`` for SC, ``"buffer=N"`` for TSO, ``"history=N"`` for RA), the
    text for a verdict "holds up to bound ...".

How a bound shows: ``bounded=True`` on a ``Write`` (TSO and RA) or on the
``Read`` of an rmw (RA, whose rmw also stores). The successor is a real
behaviour of the unbounded model, but some behaviours were cut, so the search that
produced it may report at most "holds up to bound ``model.bound``".

Orders are the strings of ``model.steps``: PLAIN, ACQUIRE, RELEASE, XCHG.

Changes to this interface
-------------------------
1. ``store`` returns ``list[Write]`` only. A full TSO buffer no
   longer returns ``BOUNDED`` ("not enabled now"): a protocol step that makes
   more stores than the buffer holds (the claim makes four) would never be
   enabled and the actor would look deadlocked. Instead the oldest entry is
   flushed within the step and ``Write.bounded`` is set. ``BOUNDED`` is
   still importable but no model returns it.
2. Added ``actor_key`` (nothing else changed).
3. Added ``map_located(m, fn)``: ``map_values`` where ``fn(loc, value)`` also
   sees the location, for renamings whose meaning depends on it (a spinlock
   holder and a slot word's owner tag are both small ints).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Hashable, Mapping, NamedTuple, Sequence

from model.steps import ACQUIRE, PLAIN, RELEASE, XCHG

Loc = Hashable
Mem = Hashable

ORDERS = (PLAIN, ACQUIRE, RELEASE, XCHG)


class Read(NamedTuple):
    """One possible outcome of a load or rmw: the value read and the memory after."""

    value: int
    mem: Mem
    choice: int
    stale: bool
    bounded: bool = False


class Write(NamedTuple):
    """One possible outcome of a store: the memory after and which place it took."""

    mem: Mem
    choice: int
    stale: bool
    bounded: bool = False


class Internal(NamedTuple):
    """A step of the memory itself (a TSO flush) on behalf of ``actor``."""

    actor: int
    label: str
    mem: Mem
    loc: Loc
    value: int


class _Bounded(tuple):
    """The type of ``BOUNDED``: an empty tuple, so a careless caller sees "no successor"."""

    def __repr__(self) -> str:
        return "BOUNDED"


BOUNDED = _Bounded()
"""Kept for code written against the first interface; no model returns it (change 1)."""


class Layout:
    """The locations of one program, in order, with their indices.

    Interned (``layout_for``): equal location tuples give the same object, so
    a ``Mem`` can hold its layout and still hash and compare at C speed by
    identity. Pickling re-interns.
    """

    __slots__ = ("locs", "index")

    def __init__(self, locs: tuple) -> None:
        self.locs = locs
        self.index = {loc: i for i, loc in enumerate(locs)}

    def __reduce__(self):
        return (layout_for, (self.locs,))

    def __repr__(self) -> str:
        return f"Layout{self.locs!r}"


_LAYOUTS: dict[tuple, Layout] = {}


def layout_for(locs: Sequence[Loc]) -> Layout:
    """The one ``Layout`` for these locations (in this order)."""
    key = tuple(locs)
    if len(set(key)) != len(key):
        raise ValueError(f"locations declared twice: {key!r}")
    layout = _LAYOUTS.get(key)
    if layout is None:
        layout = _LAYOUTS[key] = Layout(key)
    return layout


def loc_name(loc: Loc) -> str:
    """How a location is written in a JSON panel."""
    return loc if isinstance(loc, str) else str(loc)


def check_order(order: str, allowed: tuple[str, ...], what: str) -> None:
    """Refuse an ordering the operation does not have, with a message saying which."""
    if order not in allowed:
        raise ValueError(f"{what} has no ordering {order!r} (allowed: {', '.join(allowed)})")


class MemoryModel(ABC):
    """A memory model: pure functions over immutable ``Mem`` values (see the module docstring)."""

    name: str = ""
    bound: str | None = None

    @abstractmethod
    def initial(self, values: Mapping[Loc, int], actors: int) -> Mem:
        """The memory where every location holds its initial value and no actor has done anything."""

    @abstractmethod
    def load(self, m: Mem, actor: int, loc: Loc, order: str) -> list[Read]:
        """Every value ``actor`` may read from ``loc`` now, newest first."""

    @abstractmethod
    def store(self, m: Mem, actor: int, loc: Loc, value: int, order: str) -> list[Write]:
        """Every memory after ``actor`` stores ``value`` to ``loc`` (never empty)."""

    @abstractmethod
    def rmw(self, m: Mem, actor: int, loc: Loc, update: Callable[[int], int | None], order: str,
            *, keep_failed: bool = False) -> list[Read]:
        """Atomic read-modify-write of the latest value of ``loc``."""

    @abstractmethod
    def fence(self, m: Mem, actor: int) -> list[Mem]:
        """A full fence by ``actor``; ``[]`` when it cannot run now."""

    def internal_steps(self, m: Mem) -> list[Internal]:
        """Steps of the memory itself (TSO flushes); none by default."""
        return []

    @abstractmethod
    def value(self, m: Mem, loc: Loc) -> int:
        """The value of ``loc`` in memory (SC: the value; TSO: main memory; RA: the latest message)."""

    def readable(self, m: Mem, actor: int, loc: Loc) -> list[int]:
        """The values a plain load by ``actor`` could return now, newest first."""
        return [r.value for r in self.load(m, actor, loc, PLAIN)]

    def quiescent(self, m: Mem) -> bool:
        """No store is waiting in a buffer."""
        return True

    def panel(self, m: Mem, actor: int) -> dict:
        """JSON-ready: what ``actor`` holds privately (TSO buffer, RA view)."""
        return {}

    @abstractmethod
    def shared_panel(self, m: Mem) -> dict:
        """JSON-ready: the shared memory (values, or RA's messages)."""

    def actor_key(self, m: Mem, actor: int) -> tuple:
        """An orderable summary of what ``actor`` holds privately (for symmetry sort keys)."""
        return ()

    @abstractmethod
    def map_values(self, m: Mem, fn: Callable[[int], int]) -> Mem:
        """The same memory with every stored value replaced by ``fn(value)``."""

    def map_located(self, m: Mem, fn: Callable[[Loc, int], int]) -> Mem:
        """The same memory with every value stored at ``loc`` replaced by ``fn(loc, value)``."""
        raise NotImplementedError(f"memory model {self.name} does not map located values")

    @abstractmethod
    def permute_actors(self, m: Mem, perm: Sequence[int]) -> Mem:
        """The same memory with actor ``a`` renamed ``perm[a]``."""

    def __repr__(self) -> str:
        return f"<memory model {self.name}{' ' + self.bound if self.bound else ''}>"

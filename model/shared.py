"""The one memory interface: every shared access of every step goes through here.

A step reads and writes shared memory only through an *accessor* ``mem``:
``mem.load("consumer_pos")``, ``mem.store("producer_pos", v)``,
``mem.rmw("spinlock", update)``, and for the data area
``mem.load("header.len", slot)`` with the declared names ``header``,
``header.len`` and ``payload`` and the 8-byte slot index. The ordering is not
written at the call: it comes from the step's ``@step`` declaration
(``model.steps``), overridden by ``Config.orders``, so the declarations are
the contract (``tests/model/test_shared.py`` fails when a step touches memory
its declaration does not list, or declares an access it never makes).
``mem.event`` marks the two kernel-internal SC events (irq_work, the wait
queue; ``model.overrides.SC_EVENTS``), which stay plain State fields.

Two accessors:

* ``Direct`` (``--memory sc``): the State's fields are memory; loads read
  them, stores collect changes for ``next``. No choices, no bookkeeping, so
  SC explores exactly the states it always did, at nearly the same speed.
* ``Weak`` (tso, ra, or any ``model.memory`` model): every access goes to
  the memory model on ``State.memory``. A load or store with several
  possible outcomes (an RA load reading an older message, an RA store
  placed before a newer one) is a *choice point*; ``WeakMemory.outcomes``
  runs the step once per combination of choices, and each nonzero choice
  becomes an action argument (``read_producer_pos=1``: the second-newest
  readable message), so ``RingBufModel.apply`` stays deterministic and a
  trace replays. A step that cannot run now (TSO: xchg, the lock or a
  fence with the actor's buffer not empty) raises ``NotEnabled``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable, NamedTuple

from model.actions import Action
from model.state import State, evolve, evolve_with
from model.steps import ACQUIRE, PLAIN, XCHG

if TYPE_CHECKING:
    from model.config import Config
    from model.memory.base import MemoryModel

POSITIONS = ("consumer_pos", "producer_pos", "pending_pos")
SLOT_VARS = ("header", "header.len", "payload")
"""Declared names of accesses to the data area: a whole header (len and pg_off,
one 8-byte word), a header's len word, a payload word."""

IRQ_WORK, WAKEUP = "irq_work", "wakeup"
"""The synthetic locations that carry a wakeup's ordering under weak memory (``Weak.event``)."""

_FIELD = {"consumer_pos": "consumer_pos", "producer_pos": "producer_pos", "pending_pos": "pending_pos",
          "spinlock": "lock", "overwrite_pos": "overwrite_pos"}
"""Declared name of a non-slot location to the State field that holds it."""


class NotEnabled(Exception):
    """The step cannot run in this state now (it would wait: a full fence or locked
    instruction with stores still buffered)."""


def location(var: str, slot: int = -1) -> object:
    """The memory-model location of declared variable ``var`` (``("slot", i)`` for the data area)."""
    return ("slot", slot) if slot >= 0 else var


def location_name(loc: object) -> str:
    """A location as it appears in action arguments and panels: ``producer_pos``, ``slot3``."""
    return f"slot{loc[1]}" if isinstance(loc, tuple) else str(loc)


# ---------------------------------------------------------------- sc: the State is memory


class Direct:
    """Sequential consistency: loads read the State's fields, stores are applied by ``next``."""

    __slots__ = ("s", "changes", "slots")

    def __init__(self, s: State) -> None:
        self.s = s
        self.changes: dict[str, object] | None = None
        self.slots: list[int] | None = None

    def load(self, var: str, slot: int = -1) -> int:
        """The value of ``var`` (of data-area slot ``slot`` for header/payload names)."""
        if slot >= 0:
            return self.s.slots[slot] if self.slots is None else self.slots[slot]
        return getattr(self.s, _FIELD[var])

    def peek(self, slot: int) -> int:
        """Ghost: the slot word as this actor sees it, for the properties' bookkeeping (not an access)."""
        return self.s.slots[slot]

    def store(self, var: str, value: int, slot: int = -1) -> None:
        """Write ``value``; it is in the State ``next`` returns."""
        if slot >= 0:
            if self.slots is None:
                self.slots = list(self.s.slots)
            self.slots[slot] = value
        elif self.changes is None:
            self.changes = {_FIELD[var]: value}
        else:
            self.changes[_FIELD[var]] = value

    def rmw(self, var: str, update: Callable[[int], int | None], slot: int = -1) -> int:
        """Atomically read the old value and write ``update(old)`` (nothing if that is None); returns old."""
        old = self.load(var, slot)
        new = update(old)
        if new is not None:
            self.store(var, new, slot)
        return old

    def event(self, name: str, woken: bool = False) -> None:
        """An SC event (irq_work, wait_queue): nothing to do, the step changes the State field itself."""

    def next(self, **changes: object) -> State:
        """The state after the step: its stores plus the actor's own ``changes``."""
        if self.slots is not None:
            changes["slots"] = tuple(self.slots)
        if self.changes is not None:
            changes.update(self.changes)
        return evolve_with(self.s, changes)


# ---------------------------------------------------------------- weak: through a memory model


class Effect(NamedTuple):
    """One access a step made, for traces: kind (load/store/rmw/fence), location, value, choice, stale."""

    kind: str
    loc: str
    value: int
    order: str
    choice: int
    stale: bool


class Weak:
    """One execution of one step against ``State.memory``, with the choices of its choice points."""

    __slots__ = ("ctx", "s", "m", "actor", "step", "table", "choices", "taken", "options", "names",
                 "stored", "effects")

    def __init__(self, ctx: "WeakMemory", s: State, actor: int, step: str, table: dict,
                 choices: tuple[int, ...]) -> None:
        self.ctx = ctx
        self.s = s
        self.m = s.memory
        self.actor = actor
        self.step = step
        self.table = table
        self.choices = choices
        self.taken: list[int] = []
        self.options: list[int] = []
        self.names: list[str] = []
        self.stored: set = set()
        self.effects: list[Effect] = []

    def _choose(self, n: int, name: str) -> int:
        i = len(self.taken)
        c = self.choices[i] if i < len(self.choices) else 0
        if c >= n:
            raise NotEnabled
        self.options.append(n)
        self.taken.append(c)
        self.names.append(name)
        return c

    def _order(self, var: str, kind: str) -> str:
        if self.ctx.recorder is not None:
            self.ctx.recorder(self.step, var, kind)
        return self.table[(var, kind)]

    def load(self, var: str, slot: int = -1) -> int:
        """One of the values the memory model lets this actor read (the choice point's pick)."""
        order = self._order(var, "load")
        loc = location(var, slot)
        reads = self.ctx.mm.load(self.m, self.actor, loc, order)
        c = self._choose(len(reads), "read_" + location_name(loc)) if len(reads) > 1 else 0
        r = reads[c]
        self.m = r.mem
        self.effects.append(Effect("load", location_name(loc), r.value, order, c, r.stale))
        return r.value

    def peek(self, slot: int) -> int:
        """Ghost: the slot word at this actor's view (the oldest value it may still read)."""
        return self.ctx.mm.readable(self.m, self.actor, ("slot", slot))[-1]

    def store(self, var: str, value: int, slot: int = -1) -> None:
        """Store through the memory model (TSO: into the buffer; RA: a new message)."""
        order = self._order(var, "store")
        loc = location(var, slot)
        writes = self.ctx.mm.store(self.m, self.actor, loc, value, order)
        c = self._choose(len(writes), "write_" + location_name(loc)) if len(writes) > 1 else 0
        w = writes[c]
        if w.bounded:
            self.ctx.bound_hit = True
            self.stored.add(None)
        self.m = w.mem
        self.stored.add(loc)
        self.effects.append(Effect("store", location_name(loc), value, order, c, w.stale))

    def rmw(self, var: str, update: Callable[[int], int | None], slot: int = -1) -> int:
        """Atomic read-modify-write of the latest value; NotEnabled when it must wait (TSO buffer)."""
        order = self._order(var, "rmw")
        loc = location(var, slot)
        reads = self.ctx.mm.rmw(self.m, self.actor, loc, update, order, keep_failed=True)
        if not reads:
            raise NotEnabled
        c = self._choose(len(reads), "rmw_" + location_name(loc)) if len(reads) > 1 else 0
        r = reads[c]
        if r.bounded:
            self.ctx.bound_hit = True
            self.stored.add(None)
        self.m = r.mem
        self.stored.add(loc)
        self.effects.append(Effect("rmw", location_name(loc), r.value, order, c, r.stale))
        return r.value

    def fence(self) -> None:
        """A full fence (``--fence``) before the step; NotEnabled while TSO stores are buffered."""
        after = self.ctx.mm.fence(self.m, self.actor)
        if not after:
            raise NotEnabled
        self.m = after[0]
        self.effects.append(Effect("fence", "", 0, "mb", 0, False))

    def event(self, name: str, woken: bool = False) -> None:
        """An SC event (irq_work queued or run, the wait queue taken): the wakeup's happens-before edges.

        The control flow of a wakeup stays on the State (``irq_pending``,
        ``edge_ready``, the consumer's sleep), sequentially consistent. What a
        weak memory adds is the ordering the kernel's atomics and locks give
        it, through two synthetic locations: the producer's irq_work_queue is
        a fully ordered atomic on the work's flags (``irq_work``: an XCHG rmw,
        made even when the work is already pending); the irq_work's run
        claims the flags and wakes the wait queue (an XCHG rmw of
        ``irq_work``, then of ``wakeup``, by the ``irq`` actor); a consumer
        that takes the wakeup (epoll_wait checking under its lock at
        ``poll.wait``, or a sleeper returning from its wait, ``woken``) makes
        an acquire load of the newest ``wakeup``. Nobody reads an older
        message of either, so every other actor's view of them is moved up at
        once by a relaxed load (which orders nothing else), keeping their
        histories one message long. The value stored is always 0: only the
        ordering matters, and equal situations stay equal states. Under TSO none of this changes a
        behaviour (the rmws run with empty buffers: the producer's just
        drained by its xchg, the irq's never fills; loads read memory).
        """
        if self.ctx.recorder is not None:
            self.ctx.recorder(self.step, name, "event")
        mm = self.ctx.mm
        consumer = self.ctx.cfg.producers
        if name == "irq_work":
            self._publish(IRQ_WORK)
        elif self.actor == consumer or woken:
            r = mm.load(self.m, consumer, WAKEUP, ACQUIRE)[0]
            self.m = r.mem
            self.effects.append(Effect("load", WAKEUP, r.value, ACQUIRE, 0, False))
        else:
            self._publish(IRQ_WORK)
            self._publish(WAKEUP)

    def _publish(self, loc: str) -> None:
        """An XCHG rmw of synthetic location ``loc``; every other actor's view of it moved to the new message."""
        mm = self.ctx.mm
        reads = mm.rmw(self.m, self.actor, loc, lambda v: 0, XCHG)
        if not reads:
            raise NotEnabled
        m = reads[0].mem
        for a in range(self.ctx.actors):
            if a != self.actor:
                m = mm.load(m, a, loc, PLAIN)[0].mem
        self.m = m
        self.effects.append(Effect("rmw", loc, 0, XCHG, 0, False))

    def choice_args(self) -> tuple[tuple[str, int], ...]:
        """The nonzero choices, as action arguments."""
        return tuple((n, c) for n, c in zip(self.names, self.taken) if c)

    def next(self, **changes: object) -> State:
        """The state after the step: the new memory, the projected shared fields, the actor's changes."""
        if None in self.stored:
            self.stored = set(self.ctx.locations)
        changes.update(self.ctx.project(self.s, self.m, self.stored))
        changes["memory"] = self.m
        return evolve(self.s, **changes)


class WeakMemory:
    """What a RingBufModel needs to run its steps on a weak memory model (one per model instance)."""

    def __init__(self, cfg: "Config", mm: "MemoryModel", start: int = 0,
                 recorder: Callable[[str, str, str], None] | None = None) -> None:
        self.cfg = cfg
        self.mm = mm
        self.actors = cfg.producers + 2
        """Producers 0..P-1, the consumer (or user) P, the irq_work P+1."""
        self.locations = list(POSITIONS) + ["spinlock"] + [("slot", i) for i in range(cfg.slots)]
        self.start = start
        self.recorder = recorder
        """Called with (step, declared name, kind) on every access: the declaration check's hook.
        With a recorder the shared State fields are poisoned, so a step that bypasses this
        interface fails loudly instead of reading a stale projection."""
        self.bound_hit = False
        """Set when a store or rmw was cut by the memory model's bound (TSO buffer, RA history)."""
        self._tables: dict[tuple[str, str], tuple[dict, bool]] = {}
        self._buffered = mm.name == "tso"

    def initial(self, s: State) -> State:
        """``s`` with the memory model's initial memory (every location as in ``s``)."""
        values = {"consumer_pos": s.consumer_pos, "producer_pos": s.producer_pos,
                  "pending_pos": s.pending_pos, "spinlock": s.lock}
        for i, w in enumerate(s.slots):
            values[("slot", i)] = w
        values[IRQ_WORK] = 0
        values[WAKEUP] = 0
        mem = self.mm.initial(values, self.actors)
        if self.recorder is not None:
            return evolve(s, memory=mem, consumer_pos=POISON, producer_pos=POISON, pending_pos=POISON,
                          lock=POISON, slots=POISON)
        return evolve(s, memory=mem)

    def _table(self, actor: str, step: str) -> tuple[dict, bool]:
        key = (actor, step)
        t = self._tables.get(key)
        if t is None:
            from model.overrides import fenced, ordering_table
            t = self._tables[key] = (ordering_table(self.cfg, actor, step), fenced(self.cfg, actor, step))
        return t

    def _runs(self, s: State, actor: int, action: Action, fn: Callable, args: tuple):
        """Run the step once per combination of choices: (action with its choices, next state, accessor)."""
        table, fence = self._table(action.actor, action.step)
        todo: deque[tuple[int, ...]] = deque([()])
        while todo:
            prefix = todo.popleft()
            acc = Weak(self, s, actor, action.step, table, prefix)
            try:
                if fence:
                    acc.fence()
                nxt = fn(self.cfg, s, *args, mem=acc)
            except NotEnabled:
                nxt = None
            for i in range(len(prefix), len(acc.options)):
                for c in range(1, acc.options[i]):
                    todo.append(tuple(acc.taken[:i]) + (c,))
            if nxt is not None:
                extra = acc.choice_args()
                yield (Action(action.actor, action.step, action.args + extra) if extra else action), nxt, acc

    def outcomes(self, s: State, actor: int, action: Action, fn: Callable, args: tuple) -> list[tuple[Action, State]]:
        """Every (action with its choices, next state) of one step: ``fn(cfg, s, *args, mem=accessor)``."""
        return [(a, nxt) for a, nxt, _ in self._runs(s, actor, action, fn, args)]

    def effects(self, s: State, actor: int, action: Action, taken: Action, fn: Callable,
                args: tuple) -> list[Effect] | None:
        """The accesses the outcome ``taken`` of ``action`` makes from ``s`` (for traces), None if not an outcome."""
        for a, _, acc in self._runs(s, actor, action, fn, args):
            if a == taken:
                return acc.effects
        return None

    def flushes(self, s: State, actor_names: list[str]) -> list[tuple[Action, State]]:
        """The memory's own steps (TSO flushes) as actions ``pN.flush`` / ``c.flush`` / ``user.flush``."""
        out = []
        for it in self.mm.internal_steps(s.memory):
            changes = self.project(s, it.mem, {it.loc})
            out.append((Action(actor_names[it.actor], it.label), evolve(s, memory=it.mem, **changes)))
        return out

    def quiescent(self, s: State) -> bool:
        """No store waiting in a buffer (a terminal state must be quiescent)."""
        return self.mm.quiescent(s.memory)

    def newest(self, m: object, loc: object) -> int:
        """The projection of one location (``model.state``: a buffered store counts once executed)."""
        v = self.mm.value(m, loc)
        if self._buffered:
            for a in range(self.actors - 1, -1, -1):
                mine = self.mm.readable(m, a, loc)[0]
                if mine != v:
                    return mine
        return v

    def project(self, s: State, m: object, locs: set) -> dict[str, object]:
        """The shared State fields of ``locs`` recomputed from memory ``m``."""
        if self.recorder is not None:
            return {}
        changes: dict[str, object] = {}
        slots = None
        for loc in locs:
            if isinstance(loc, tuple):
                if slots is None:
                    slots = list(s.slots)
                slots[loc[1]] = self.newest(m, loc)
            else:
                changes[_FIELD[loc]] = self.newest(m, loc)
        if slots is not None:
            changes["slots"] = tuple(slots)
        return changes


class _Poison:
    """Stands in for the shared State fields in the declaration check: any use is an error."""

    def _refuse(self, *a: object, **k: object):
        raise AssertionError("a step read or wrote a shared State field directly, bypassing model.shared")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __and__ = __rand__ = __add__ = __radd__ = _refuse
    __sub__ = __rsub__ = __getitem__ = __iter__ = __len__ = __index__ = __int__ = __bool__ = _refuse
    __mod__ = __rshift__ = __or__ = _refuse

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "POISON"


POISON = _Poison()

"""One execution of a scenario: threads of generator operations stepped under a memory model.

`Execution` holds a fresh implementation, the memory (a pure ``Mem`` value
of ``model.memory``) and one `ThreadRun` per scenario thread. Each step is
one *choice*: ``(thread, alt)`` runs that thread's pending access, taking
the memory model's outcome ``alt`` (``0`` the newest value or place; RA
offers stale reads and earlier places as ``1, 2, ...``), or ``(thread,
FLUSH)`` moves the oldest entry of that thread's TSO store buffer to
memory. A schedule is the list of choices; replaying it on a fresh
execution gives the same run, since operations are deterministic in the
values they read.

Real-time order is kept as the vector of completed calls per thread at
each call's invocation (its first access); a call ``a`` precedes ``b`` when
``a`` had returned then. Properties on the implementation's own memory are
checked as calls return (`judge`); the end of the run is judged by
`judge.judge_end`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from checker.conformance.adapter import Handle
from checker.conformance.concurrent.judge import Violation, check_consume, check_reserve
from checker.conformance.concurrent.protocol import (CMPXCHG, FENCE, LOAD, LOCK, LOCK_OP, STORE, XCHG_OP,
                                                     Access, SharedMemory)
from checker.conformance.concurrent.scenario import Scenario
from checker.conformance.guard import AdapterGuard, AdapterRaised
from checker.conformance.ops import COMMIT, CONSUME, REOPEN, RESERVE, WRITE, Op, payload_bytes
from model.memory.base import MemoryModel

FLUSH = -1
Choice = tuple[int, int]
MAX_STEPS = 5000
"""Accesses one run may make; a run that makes more is reported as a livelock (a call that spins forever)."""


@dataclass
class Call:
    """One API call of the history: which thread, which op, when invoked, what it returned."""

    thread: int
    index: int
    """Position among the thread's invoked calls (0, 1, ...)."""
    op: Op
    invoked: tuple[int, ...]
    """Completed calls per thread at invocation."""
    result: Any = None
    done: bool = False
    started: bool = False
    """It has made its first access (or finished without any): ``invoked`` is final."""


@dataclass
class StepRecord:
    """One step of the schedule, for traces: who did which access, and what came of it."""

    thread: int
    call: int
    """Index into the execution's history, -1 for a flush."""
    access: str
    label: str
    choice: int
    value: Any = None
    stale: bool = False
    bounded: bool = False
    preempted: int = -1
    """The thread this step interrupted in the middle of a call, -1 if none."""


@dataclass
class ThreadRun:
    """A scenario thread: its remaining ops, the running generator and its next access."""

    name: str
    ops: tuple[Op, ...]
    next_op: int = 0
    gen: Any = None
    pending: Access | None = None
    call: int = -1
    """History index of the running call, -1 between calls."""
    started: bool = False
    """The running call has made at least one access."""
    received: list = field(default_factory=list)
    completed: int = 0


class Execution:
    """A scenario on a fresh implementation under one memory model; step it with `choices` / `step`."""

    def __init__(self, factory: Any, scenario: Scenario, variant: str, model: MemoryModel,
                 guard: AdapterGuard | None = None) -> None:
        self.scenario = scenario
        self.model = model
        self.guard = guard
        """With a guard (``--call-timeout``) every call into the implementation is timed (`guard.AdapterGuard`)."""
        self.impl = self._call("factory", factory, (scenario.ring_size, variant))
        self.shm = SharedMemory(scenario.ring_size)
        self.locs = self.shm.locations(scenario.start)
        self.mem = model.initial(self.locs, len(scenario.threads))
        self.threads = [ThreadRun(name, ops) for name, ops in scenario.threads]
        self.history: list[Call] = []
        self.handles: dict[int, Handle | None] = {}
        self.payloads: dict[int, bytes] = {}
        self.schedule: list[Choice] = []
        self.steps: list[StepRecord] = []
        self.current = -1
        self.preemptions = 0
        self.bounded = False
        self.violation: Violation | None = None
        self._outcomes: dict[int, list] | None = None
        for t in range(len(self.threads)):
            self._advance(t, None, first=True)

    # ------------------------------------------------------------ calls

    def _call(self, name: str, fn: Any, args: tuple) -> Any:
        """``fn(*args)``, through the guard if there is one (an exception comes back as itself, unwrapped)."""
        if self.guard is None:
            return fn(*args)
        try:
            return self.guard.invoke(name, fn, args)
        except AdapterRaised as e:
            raise _Raised(str(e).split(": ", 1)[-1]) from None

    def _advance(self, t: int, value: Any, first: bool = False) -> None:
        """Send ``value`` to thread ``t``'s generator; start its next calls while they finish at once."""
        th = self.threads[t]
        while self.violation is None:
            if th.gen is None:
                if not self._start_next(t):
                    return
                value = None
                first = True
            try:
                stopped, access = self._call(str(self.history[th.call].op.kind), _resume, (th.gen, first, value))
            except Exception as e:  # noqa: BLE001  (anything the implementation raises is a finding)
                self._fail_call(t, "exception", f"{self.history[th.call].op}: {_described(e)}")
                return
            if stopped:
                self._finish(t, access)
                continue
            if not isinstance(access, Access):
                self._fail_call(t, "exception", f"yielded {access!r}, not an access from the memory object")
                return
            th.pending = access
            return

    def _start_next(self, t: int) -> bool:
        th = self.threads[t]
        while th.next_op < len(th.ops):
            op = th.ops[th.next_op]
            th.next_op += 1
            if op.kind in (WRITE, COMMIT) and self.handles.get(op.rec) is None:
                continue
            th.call = len(self.history)
            th.started = False
            self.history.append(Call(t, th.completed, op, self._completed_vector()))
            try:
                gen = self._call(str(op.kind), self._generator, (op,))
            except Exception as e:  # noqa: BLE001  (a call that cannot even start is a finding too)
                self._fail_call(t, "exception", f"{op}: {_described(e)}")
                return False
            if not inspect.isgenerator(gen):
                self.history[th.call].started = True
                self._finish(t, gen)
                continue
            th.gen = gen
            return True
        th.call = -1
        return False

    def _generator(self, op: Op) -> Any:
        impl, shm = self.impl, self.shm
        if op.kind == RESERVE:
            return impl.reserve(shm, op.producer, op.size, op.flags)
        if op.kind == WRITE:
            h = self.handles[op.rec]
            assert h is not None
            self.payloads[op.rec] = payload_bytes(op.rec, h.size)
            return impl.write(shm, h, self.payloads[op.rec])
        if op.kind == COMMIT:
            return impl.commit(shm, self.handles[op.rec], op.discard, op.flags)
        if op.kind == REOPEN:
            reopen = getattr(impl, "reopen", None)
            return reopen(shm) if reopen is not None else None
        return impl.consume(shm)

    def _finish(self, t: int, result: Any) -> None:
        th = self.threads[t]
        call = self.history[th.call]
        call.done = True
        call.started = True
        if call.op.kind == RESERVE:
            if result is not None and not isinstance(result, Handle):
                self._fail_call(t, "exception", f"reserve returned {result!r}, not a Handle or None")
                return
            self.handles[call.op.rec] = result
            call.result = None if result is None else result.position
            self.violation = check_reserve(self, call)
        elif call.op.kind == CONSUME:
            call.result = tuple(self.label(bytes(s)) for s in (result or []))
            self.violation = check_consume(self, call)
        th.gen = None
        th.pending = None
        th.completed += 1

    def _fail_call(self, t: int, prop: str, message: str) -> None:
        th = self.threads[t]
        self.violation = Violation(prop, message, t, th.call, len(self.steps))
        th.gen, th.pending = None, None

    def _completed_vector(self) -> tuple[int, ...]:
        return tuple(th.completed for th in self.threads)

    def label(self, sample: bytes) -> int | str:
        """The record whose payload ``sample`` is, else ``?<hex>``."""
        recs = [rec for rec, data in self.payloads.items() if data == sample]
        return recs[0] if len(recs) == 1 else "?" + sample.hex()

    # ------------------------------------------------------------ scheduling

    def outcomes(self, t: int) -> list:
        """The memory model's outcomes of thread ``t``'s pending access ([] when it cannot run now)."""
        if self._outcomes is None:
            self._outcomes = {}
        if t not in self._outcomes:
            self._outcomes[t] = self._compute(t)
        return self._outcomes[t]

    def _compute(self, t: int) -> list:
        a = self.threads[t].pending
        if a is None:
            return []
        m, mem = self.model, self.mem
        if a.kind == LOAD:
            return [(r.value, r.mem, r.stale, r.bounded) for r in m.load(mem, t, a.loc, a.order)]
        if a.kind == STORE:
            return [(None, w.mem, w.stale, w.bounded) for w in m.store(mem, t, a.loc, a.value, a.order)]
        if a.kind == XCHG_OP:
            return [(r.value, r.mem, False, r.bounded) for r in m.rmw(mem, t, a.loc, lambda _o: a.value, a.order)]
        if a.kind == CMPXCHG:
            reads = m.rmw(mem, t, a.loc, lambda o: a.value if o == a.expected else None, a.order, keep_failed=True)
            return [(r.value, r.mem, False, r.bounded) for r in reads]
        if a.kind == LOCK_OP:
            reads = m.rmw(mem, t, LOCK, lambda o: 1 if o == 0 else None, a.order)
            return [(r.value, r.mem, False, r.bounded) for r in reads]
        if a.kind == FENCE:
            return [(None, nxt, False, False) for nxt in m.fence(mem, t)]
        raise AssertionError(a.kind)

    def _in_call(self, t: int) -> bool:
        th = self.threads[t]
        return th.pending is not None and th.started

    def choices(self, preemption_bound: int | None = None) -> list[Choice]:
        """Every choice now, the running thread first; switches that preempt past the bound left out."""
        if self.violation is not None:
            return []
        order = list(range(len(self.threads)))
        if self.current >= 0:
            order.remove(self.current)
            order.insert(0, self.current)
        cur_runnable = self.current >= 0 and self._in_call(self.current) and bool(self.outcomes(self.current))
        out: list[Choice] = []
        for t in order:
            outs = self.outcomes(t)
            if not outs:
                continue
            if t != self.current and cur_runnable and preemption_bound is not None \
                    and self.preemptions >= preemption_bound:
                continue
            out.extend((t, alt) for alt in range(len(outs)))
        for step in self.model.internal_steps(self.mem):
            out.append((step.actor, FLUSH))
        return out

    def step(self, choice: Choice) -> None:
        """Take one choice (it must be one of `choices`)."""
        t, alt = choice
        self.schedule.append(choice)
        if alt == FLUSH:
            for s in self.model.internal_steps(self.mem):
                if s.actor == t:
                    self.mem = s.mem
                    self.steps.append(StepRecord(t, -1, f"flush {s.loc} := {s.value:#x}", "flush", FLUSH))
                    self._outcomes = None
                    return
            raise ValueError(f"thread {self.threads[t].name} has no buffered store to flush")
        outs = self.outcomes(t)
        if not 0 <= alt < len(outs):
            raise ValueError(f"thread {self.threads[t].name} has no choice {alt} here")
        preempted = -1
        if self.current >= 0 and t != self.current and self._in_call(self.current) and self.outcomes(self.current):
            preempted = self.current
            self.preemptions += 1
        value, mem, stale, bounded = outs[alt]
        th = self.threads[t]
        access = th.pending
        assert access is not None
        if not th.started:
            th.started = True
            self.history[th.call].invoked = self._completed_vector()
            self.history[th.call].started = True
        self.mem = mem
        self.bounded |= bounded
        self.current = t
        self._outcomes = None
        self.steps.append(StepRecord(t, th.call, str(access), access.label(), alt, value, stale, bounded, preempted))
        th.received.append(value if value is None else int(value))
        self._advance(t, value)
        if self.violation is None and len(self.steps) > MAX_STEPS:
            self.violation = Violation("livelock", f"more than {MAX_STEPS} accesses in one run: a call that "
                                       f"never returns (spin with mem.lock(), which waits without accesses)",
                                       t, th.call, len(self.steps))

    # ------------------------------------------------------------ state

    def done(self) -> bool:
        """Every thread has finished its calls."""
        return all(th.gen is None and th.next_op == len(th.ops) for th in self.threads)

    def key(self, with_preemptions: bool) -> tuple:
        """Everything the rest of the run depends on: equal keys continue alike.

        The memory, what each thread has received (its generators are
        deterministic in it), the real-time vectors of the calls, and for a
        bounded search the running thread and the preemptions used.
        """
        threads = tuple((th.next_op, tuple(th.received)) for th in self.threads)
        calls = tuple(c.invoked for c in self.history if c.started)
        extra = (self.current, self.preemptions) if with_preemptions else ()
        return (self.mem, threads, calls) + extra

    def value(self, loc: object) -> int:
        """The coherence-latest value of ``loc`` (what the memory holds once quiescent)."""
        return self.model.value(self.mem, loc)


class _Raised(Exception):
    """What the implementation raised inside a guarded call, already described (``Type: message``)."""


def _described(e: Exception) -> str:
    return str(e) if isinstance(e, _Raised) else f"{type(e).__name__}: {e}"


def _resume(gen: Any, first: bool, value: Any) -> tuple[bool, Any]:
    """Run a generator operation to its next access: (False, access), or (True, its return value) at the end."""
    try:
        return False, (next(gen) if first else gen.send(value))
    except StopIteration as stop:
        return True, stop.value

"""The scheduler: every interleaving of a scenario's accesses, or seeded random ones, and shrinking.

`explore` is a depth-first search over schedules. A node is an execution
after a prefix of choices; its children are `Execution.choices` (every
runnable thread's access with each outcome the memory model allows, and
TSO flushes). The running thread's choices come first, so the first run
is the sequential one. Generators cannot be copied: the search follows the
first child on the live execution and replays the prefix on a fresh
implementation for every other child. Executions that reach an equal
`Execution.key` (same memory, same values received by every thread, same
real-time order of calls) continue identically and are explored once.

What is exhaustive: with ``preemptions=None``, every interleaving of the
scenario's accesses and every outcome the memory model offers for each
(sc: one; tso: every flush order, buffers of ``buffer`` entries; ra: every
readable message and every place of a store, ``history`` messages kept per
location); the verdict is complete under sc and "up to bound" when the
tso/ra bound cut a behaviour. With ``preemptions=k``, exactly the schedules
in which at most ``k`` times a thread is switched away from while inside a
call and still runnable (switches between calls are free, so ``k = 0`` is
every sequential interleaving of whole calls); the verdict is then at most
"holds up to bound preemptions=k". ``max_states`` and ``timeout`` cut the
search, and say so.

A failure is made minimal before it is reported: first the fewest
preemptions (bounded searches with 0, 1, ... preemptions up to the one
that found it), then shrinking (`shrink`): a schedule is replayed
leniently (entries that are not choices any more are skipped, the rest is
run without preemption), and prefixes, single entries and stale choices are
dropped while the same property still fails.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from checker.conformance.concurrent.execution import FLUSH, Choice, Execution
from checker.conformance.concurrent.judge import Violation, judge_end
from checker.conformance.concurrent.scenario import Scenario
from model.memory import make
from model.memory.base import MemoryModel

CONFORMS, BOUNDED, FAILS = "conforms", "bounded", "fails"


@dataclass(frozen=True)
class Setup:
    """What is run: the implementation, the scenario, the variant and the memory model."""

    factory: Any
    scenario: Scenario
    variant: str = "v6.10"
    memory: str = "sc"
    buffer: int = 2
    history: int = 3
    guard: Any = field(default=None, compare=False)
    """An `AdapterGuard` timing every call into the implementation (``--call-timeout``); run the search
    inside ``guard.run`` then. None: calls are made directly."""

    def model(self) -> MemoryModel:
        return make(self.memory, buffer=self.buffer, history=self.history)

    def execution(self) -> Execution:
        return Execution(self.factory, self.scenario, self.variant, self.model(), self.guard)


@dataclass
class Stats:
    """What a search did."""

    states: int = 0
    """Distinct execution keys explored."""
    schedules: int = 0
    """Complete schedules run to the end and judged."""
    steps: int = 0
    """Accesses executed, replays included."""
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"states": self.states, "schedules": self.schedules, "steps": self.steps,
                "seconds": round(self.seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3)}


@dataclass
class Failure:
    """A failing schedule: the violation and the execution that shows it (replayed from ``schedule``)."""

    violation: Violation
    schedule: list[Choice]
    execution: Execution


@dataclass
class ConcurrentResult:
    """The verdict of one search."""

    setup: Setup
    kind: str
    stats: Stats
    failure: Failure | None = None
    bounds: list[str] = field(default_factory=list)
    method: str = "exhaustive"

    @property
    def exit_code(self) -> int:
        return {CONFORMS: 0, FAILS: 1, BOUNDED: 3}[self.kind]

    def headline(self) -> str:
        if self.kind == CONFORMS:
            return "conforms (complete)"
        if self.kind == BOUNDED:
            return "conforms up to bound " + ", ".join(self.bounds)
        assert self.failure is not None
        v = self.failure.violation
        return f"fails: {v.prop}: {v.message}"


def run_to_end(ex: Execution, variant: str) -> Violation | None:
    """Judge a finished execution, or report it stuck (no thread can run, some not done)."""
    if ex.violation is not None:
        return ex.violation
    if not ex.done():
        stuck = [th.name for th in ex.threads if th.pending is not None]
        return Violation("deadlock", f"no thread can run; waiting: {', '.join(stuck)}", -1, -1, len(ex.steps))
    return judge_end(ex, variant)


def replay(setup: Setup, schedule: list[Choice]) -> Execution:
    """A fresh execution with ``schedule`` taken exactly (ValueError if a choice is not there)."""
    ex = setup.execution()
    for i, c in enumerate(schedule):
        if c not in ex.choices(None):
            raise ValueError(f"schedule entry {i + 1}: {_choice_str(ex, c)} is not possible here "
                             f"(the implementation went another way)")
        ex.step(c)
    return ex


def _choice_str(ex: Execution, c: Choice) -> str:
    name = ex.threads[c[0]].name if 0 <= c[0] < len(ex.threads) else f"thread {c[0]}"
    return f"{name} flush" if c[1] == FLUSH else f"{name} choice {c[1]}"


def search(setup: Setup, preemptions: int | None = None, max_states: int | None = None,
           timeout: float | None = None, stats: Stats | None = None,
           shortest: str | None = None) -> tuple[Failure | None, Stats, list[str]]:
    """Depth-first over every schedule within the bounds; the first failure found, if any.

    With ``shortest`` (a property name) the search goes on past failures and
    returns the failure of that property detected after the fewest steps.
    """
    stats = stats or Stats()
    t0, c0 = time.perf_counter(), time.process_time()
    bounded_key = preemptions is not None
    seen: set = set()
    stack: list[list[Choice]] = [[]]
    cut: list[str] = []
    memory_bound = False
    failure = None
    best: Failure | None = None

    def found(f: Failure) -> Failure | None:
        """Keep ``f``; None while the search must go on (``shortest`` mode)."""
        nonlocal best
        if shortest is None:
            return f
        if f.violation.prop == shortest and (best is None or f.violation.step < best.violation.step):
            best = f
        return None

    while stack and failure is None:
        if max_states is not None and len(seen) >= max_states:
            cut.append(f"max_states={max_states}")
            break
        if timeout is not None and time.perf_counter() - t0 > timeout:
            cut.append(f"timeout={timeout:g}s")
            break
        prefix = stack.pop()
        ex = replay(setup, prefix) if prefix else setup.execution()
        stats.steps += len(prefix)
        if ex.violation is None:
            k = ex.key(bounded_key)
            if k in seen:
                continue
            seen.add(k)
        while True:
            if ex.violation is not None:
                failure = found(Failure(ex.violation, list(ex.schedule), ex))
                break
            choices = ex.choices(preemptions)
            if not choices:
                stats.schedules += 1
                memory_bound |= ex.bounded
                v = run_to_end(ex, setup.variant)
                if v is not None:
                    failure = found(Failure(v, list(ex.schedule), ex))
                break
            for c in reversed(choices[1:]):
                stack.append(ex.schedule + [c])
            ex.step(choices[0])
            stats.steps += 1
            memory_bound |= ex.bounded
            if ex.violation is None:
                k = ex.key(bounded_key)
                if k in seen:
                    break
                seen.add(k)
    if shortest is not None:
        failure = best
    stats.states += len(seen)
    stats.seconds += time.perf_counter() - t0
    stats.cpu_seconds += time.process_time() - c0
    if memory_bound:
        cut.append(setup.model().bound or "")
    if preemptions is not None:
        cut.append(f"preemptions={preemptions}")
    return failure, stats, cut


def explore(setup: Setup, preemptions: int | None = None, max_states: int | None = None,
            timeout: float | None = None, minimise: bool = True) -> ConcurrentResult:
    """Every schedule within the bounds; a failure is brought to the fewest preemptions and shrunk."""
    failure, stats, cut = search(setup, preemptions, max_states, timeout)
    if failure is None:
        return ConcurrentResult(setup, BOUNDED if cut else CONFORMS, stats, bounds=cut)
    if minimise:
        failure = minimal(setup, failure, stats)
    return ConcurrentResult(setup, FAILS, stats, failure)



def minimal(setup: Setup, failure: Failure, stats: Stats) -> Failure:
    """The failure of the same property with the fewest preemptions, then the fewest steps, then shrunk."""
    for k in range(failure.execution.preemptions + 1):
        found, _, _ = search(setup, k, shortest=failure.violation.prop)
        if found is not None:
            failure = found
            break
    return shrink(setup, failure)


def lenient(setup: Setup, schedule: list[Choice]) -> Execution:
    """Run ``schedule``, skipping entries that are not choices now; then run on without preempting."""
    ex = setup.execution()
    for c in schedule:
        if ex.violation is not None:
            return ex
        if c in ex.choices(None):
            ex.step(c)
    while ex.violation is None:
        choices = [c for c in ex.choices(0) if c[1] != FLUSH] or ex.choices(0)
        if not choices:
            break
        ex.step(choices[0])
    return ex


def _fails_alike(setup: Setup, schedule: list[Choice], prop: str, limit: int) -> Execution | None:
    ex = lenient(setup, schedule)
    v = run_to_end(ex, setup.variant)
    if v is not None and v.prop == prop and ex.preemptions <= limit:
        ex.violation = v
        return ex
    return None


def shrink(setup: Setup, failure: Failure) -> Failure:
    """Drop prefixes, single entries and stale choices while the same property fails."""
    prop = failure.violation.prop
    best = failure.execution
    limit = best.preemptions
    schedule = list(failure.schedule)
    for cut in range(len(schedule) + 1):
        ex = _fails_alike(setup, schedule[:cut], prop, limit)
        if ex is not None:
            schedule, best = schedule[:cut], ex
            break
    changed = True
    while changed:
        changed = False
        for i in range(len(schedule)):
            for cand in _variants(schedule, i):
                ex = _fails_alike(setup, cand, prop, limit)
                if ex is not None:
                    schedule, best, changed = cand, ex, True
                    break
            if changed:
                break
    final = list(best.schedule)
    ex = replay(setup, final)
    v = run_to_end(ex, setup.variant)
    assert v is not None and v.prop == prop, "a shrunk schedule must fail again when replayed exactly"
    ex.violation = v
    return Failure(v, final, ex)


def _variants(schedule: list[Choice], i: int) -> list[list[Choice]]:
    """Candidates at entry ``i``: without it, or with the newest outcome instead of a stale one."""
    out = [schedule[:i] + schedule[i + 1:]]
    t, alt = schedule[i]
    if alt > 0:
        out.append(schedule[:i] + [(t, 0)] + schedule[i + 1:])
    return out


def random_runs(setup: Setup, runs: int, seed: int, preemptions: int | None = None) -> ConcurrentResult:
    """``runs`` schedules drawn at random (seeded); never complete. A failure is shrunk."""
    rng = random.Random(seed)
    stats = Stats()
    t0, c0 = time.perf_counter(), time.process_time()
    failure = None
    for _ in range(runs):
        ex = setup.execution()
        while ex.violation is None:
            choices = ex.choices(preemptions)
            if not choices:
                break
            ex.step(rng.choice(choices))
            stats.steps += 1
        stats.schedules += 1
        v = run_to_end(ex, setup.variant)
        if v is not None:
            failure = Failure(v, list(ex.schedule), ex)
            break
    stats.seconds = time.perf_counter() - t0
    stats.cpu_seconds = time.process_time() - c0
    if failure is not None:
        return ConcurrentResult(setup, FAILS, stats, shrink(setup, failure), method="random")
    return ConcurrentResult(setup, BOUNDED, stats, bounds=[f"random={runs} (seed {seed})"], method="random")

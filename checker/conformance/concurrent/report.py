"""A concurrent failure reported like a divergence: the schedule as a trace, as text or JSON, replayable.

The trace lists every step of the failing schedule: which thread, inside
which call, made which access with which outcome (the value read, ``stale``
when the memory model let it read an older value than the newest,
``preempts p0`` where the step interrupted another thread inside a call),
then the property that failed and where. ``culprits`` names what made the
schedule fail: each preemption (the interrupted call and its last access
before it) and each stale outcome (the call and the access); the tests
assert these.

A schedule file (``ringcheck-schedule/1``, JSON) holds the scenario, the
variant, the memory model and the schedule as a list of ``{"thread": name,
"choice": n}`` or ``{"thread": name, "flush": true}``; ``ringcheck conform
--concurrent --schedule FILE`` replays exactly that schedule on the
implementation and judges it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from checker.conformance.concurrent.execution import FLUSH, Choice, Execution
from checker.conformance.concurrent.explore import ConcurrentResult, Failure, Setup
from checker.conformance.concurrent.scenario import Scenario

SCHEDULE_FORMAT = "ringcheck-schedule/1"
FORMATS = ("text", "json")


class ScheduleError(ValueError):
    """A schedule file that cannot be read (one line)."""


@dataclass(frozen=True)
class Culprit:
    """One thing that made the schedule fail: a preemption or a stale outcome."""

    kind: str
    """``preemption`` or ``stale``."""
    thread: str
    call: str
    """The call it happened in (for a preemption: the interrupted call)."""
    access: str
    """The access label (for a preemption: the interrupted call's last access before it)."""
    by: str = ""
    """For a preemption: the thread that ran instead."""

    def __str__(self) -> str:
        if self.kind == "preemption":
            return f"{self.by} preempts {self.thread} in {self.call} after {self.access}"
        if self.access.startswith("store"):
            return f"{self.thread} in {self.call}: {self.access} is placed before a newer store"
        return f"{self.thread} in {self.call}: {self.access} reads a stale value"


def culprits(ex: Execution) -> list[Culprit]:
    """Preemptions and stale outcomes of the execution, in schedule order."""
    out: list[Culprit] = []
    last: dict[int, tuple[str, int]] = {}
    for s in ex.steps:
        if s.preempted >= 0:
            t = s.preempted
            label, call = last[t]
            out.append(Culprit("preemption", ex.threads[t].name, str(ex.history[call].op), label,
                               ex.threads[s.thread].name))
        if s.stale and s.call >= 0:
            out.append(Culprit("stale", ex.threads[s.thread].name, str(ex.history[s.call].op), s.label))
        if s.call >= 0:
            last[s.thread] = (s.label, s.call)
    return out


def step_lines(ex: Execution) -> list[str]:
    """One line per step: ``  12. p1  reserve(p1, size=8)  load producer_pos (plain) -> 0``."""
    lines = []
    for i, s in enumerate(ex.steps, 1):
        name = ex.threads[s.thread].name
        if s.call < 0:
            lines.append(f"  {i:3}. {name:3} (memory)  {s.access}")
            continue
        got = f" -> {s.value:#x}" if s.value is not None else ""
        notes = []
        if s.stale:
            notes.append(f"stale, choice {s.choice}")
        elif s.choice:
            notes.append(f"choice {s.choice}")
        if s.preempted >= 0:
            notes.append(f"preempts {ex.threads[s.preempted].name}")
        if s.bounded:
            notes.append("bound cut here")
        note = f"   [{'; '.join(notes)}]" if notes else ""
        lines.append(f"  {i:3}. {name:3} {str(ex.history[s.call].op):22} {s.access}{got}{note}")
    return lines


def format_failure(setup: Setup, failure: Failure) -> str:
    """The failure as text: headline, scenario, the steps, the calls and their results, the culprits."""
    ex, v = failure.execution, failure.violation
    lines = [f"concurrent failure ({setup.memory}): {v.prop}: {v.message}",
             f"scenario: {setup.scenario.name} ({setup.scenario.describe()}), variant {setup.variant}",
             f"schedule: {len(failure.schedule)} steps, {ex.preemptions} preemptions"]
    lines.append("steps:")
    lines.extend(step_lines(ex))
    lines.append("calls:")
    for c in ex.history:
        res = (f" -> {_result(c)}" if c.op.kind in ("reserve", "consume") else "") if c.done else "   (not finished)"
        lines.append(f"  {ex.threads[c.thread].name:3} {c.op}{res}")
    found = culprits(ex)
    if found:
        lines.append("because:")
        lines.extend(f"  {c}" for c in found)
    return "\n".join(lines)


def _result(c: Any) -> str:
    if c.op.kind == "reserve":
        return "NULL" if c.result is None else f"position {c.result}"
    if c.op.kind == "consume":
        return "[" + ", ".join(f"r{r}" if isinstance(r, int) else str(r) for r in c.result) + "]"
    return str(c.result)


def schedule_to_json(ex: Execution, schedule: list[Choice]) -> list[dict]:
    out = []
    for t, alt in schedule:
        name = ex.threads[t].name
        out.append({"thread": name, "flush": True} if alt == FLUSH else {"thread": name, "choice": alt})
    return out


def failure_to_dict(setup: Setup, failure: Failure) -> dict:
    """JSON-ready: the schedule file's fields plus the violation, the steps, the calls, the culprits."""
    ex, v = failure.execution, failure.violation
    d = schedule_file(setup, failure.schedule, ex)
    d.update({
        "property": v.prop,
        "text": v.message,
        "preemptions": ex.preemptions,
        "steps": [{"thread": ex.threads[s.thread].name,
                   "call": str(ex.history[s.call].op) if s.call >= 0 else None,
                   "access": s.access, "label": s.label, "choice": s.choice,
                   "value": s.value, "stale": s.stale, "bounded": s.bounded,
                   "preempts": ex.threads[s.preempted].name if s.preempted >= 0 else None}
                  for s in ex.steps],
        "calls": [{"thread": ex.threads[c.thread].name, "op": c.op.to_dict(), "result": _jsonable(c.result),
                   "invoked_after": list(c.invoked), "done": c.done} for c in ex.history],
        "culprits": [c.__dict__ for c in culprits(ex)],
        "linearization": v.detail or None,
    })
    return d


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def schedule_file(setup: Setup, schedule: list[Choice], ex: Execution) -> dict:
    """The replayable part: scenario, variant, memory model and schedule."""
    return {"format": SCHEDULE_FORMAT, "scenario": setup.scenario.to_dict(), "variant": setup.variant,
            "memory": setup.memory, "buffer": setup.buffer, "history": setup.history,
            "schedule": schedule_to_json(ex, schedule)}


def export_failure(setup: Setup, failure: Failure, fmt: str) -> str:
    """``text`` or ``json`` (the JSON is also a schedule file for ``--schedule``)."""
    if fmt == "text":
        return format_failure(setup, failure) + "\n"
    if fmt == "json":
        return json.dumps(failure_to_dict(setup, failure), indent=1) + "\n"
    raise ValueError(f"--format {fmt!r}: a concurrent failure is written as {' or '.join(FORMATS)}")


def read_schedule(text: str, factory: Any) -> tuple[Setup, list[Choice]]:
    """A schedule file to the setup it ran and its choices; ScheduleError (one line) if malformed."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ScheduleError(f"not JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(d, dict) or d.get("format") != SCHEDULE_FORMAT:
        raise ScheduleError(f"not a {SCHEDULE_FORMAT} file (its \"format\" field)")
    try:
        scenario = Scenario.from_dict(d["scenario"])
        setup = Setup(factory, scenario, str(d["variant"]), str(d["memory"]), int(d.get("buffer", 2)),
                      int(d.get("history", 3)))
        names = [n for n, _ in scenario.threads]
        schedule: list[Choice] = []
        for i, e in enumerate(d["schedule"], 1):
            if e.get("thread") not in names:
                raise ScheduleError(f"schedule entry {i}: no thread {e.get('thread')!r} (threads: {', '.join(names)})")
            t = names.index(e["thread"])
            schedule.append((t, FLUSH) if e.get("flush") else (t, int(e["choice"])))
    except ScheduleError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ScheduleError(f"malformed ({type(e).__name__}: {e})") from None
    return setup, schedule


def result_to_dict(r: ConcurrentResult) -> dict:
    """The ``--json`` object of a concurrent run."""
    s = r.setup
    return {"verdict": r.kind, "method": r.method, "scenario": s.scenario.name, "variant": s.variant,
            "memory": s.memory, "bounds": r.bounds, "stats": r.stats.to_dict(),
            "failure": failure_to_dict(s, r.failure) if r.failure else None}

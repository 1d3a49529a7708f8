"""Verdicts and statistics: the only three answers a run may give, and ``interrupted``.

``holds`` means the search was complete; ``bounded`` means it stopped at a
named limit with nothing found; ``violated`` carries the trace. A truncated
search is never reported as complete. ``interrupted`` is a run stopped by
Ctrl-C or SIGTERM (``checker.interrupt``): its statistics say how far it got,
nothing was found in that part, and it is not a verdict on the rest (exit 130).
"""

from __future__ import annotations

import builtins
import resource
from dataclasses import dataclass, field

from checker.trace import Trace
from model.actions import Action
from model.config import Config
from model.steps import STEPS

HOLDS, BOUNDED, VIOLATED, INTERRUPTED = "holds", "bounded", "violated", "interrupted"
EXIT_CODES = {HOLDS: 0, VIOLATED: 1, BOUNDED: 3, INTERRUPTED: 130}


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Stats:
    """What a search did: distinct states, transitions, deepest level, time, memory."""

    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    peak_mb: float = 0.0
    terminal: int = 0
    """Terminal states reached, where the terminal-only properties were judged."""
    queue: int = 0
    """States found but not yet explored when the search stopped (TLC's "left on queue")."""
    bytes_per_state: float | None = None
    """Bytes the visited set took per distinct state (compiled engine; None for the Python one)."""

    @property
    def states_per_second(self) -> float:
        """Distinct states found per second of search."""
        return self.states / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        """JSON form, with the rate."""
        return {"states": self.states, "transitions": self.transitions, "depth": self.depth,
                "seconds": round(self.seconds, 4), "states_per_second": round(self.states_per_second, 1),
                "peak_mb": round(self.peak_mb, 1), "terminal": self.terminal, "queue": self.queue,
                **({} if self.bytes_per_state is None else {"bytes_per_state": round(self.bytes_per_state, 1)})}

    def tlc_lines(self) -> list[str]:
        """The statistics in the words TLC ends a run with (transitions are TLC's "states generated")."""
        rate = self.transitions / self.seconds if self.seconds > 0 else 0.0
        return [f"{self.transitions} states generated ({rate:,.0f} s/sec), {self.states} distinct states found, "
                f"{self.queue} states left on queue.",
                f"The depth of the state graph search is {self.depth}.",
                f"Finished in {self.seconds:.2f}s, peak memory {self.peak_mb:.0f} MB."]


class Coverage:
    """How often each protocol step fired: transitions taken (TLC's "generated") and new states found.

    A step that never fired is either impossible in this configuration (no
    adversary steps under an honest consumer) or a sign that the model or
    the configuration does not do what was meant.
    """

    def __init__(self, steps: list[str] | None = None) -> None:
        self.steps = list(STEPS) if steps is None else list(steps)
        """The model's own steps, in protocol order (``step_names()`` of the model)."""
        self.fired: dict[str, int] = {}
        self.distinct: dict[str, int] = {}

    def count(self, succ: list[tuple[Action, object]]) -> None:
        """Every successor of one expanded state."""
        fired = self.fired
        for a, _ in succ:
            fired[a.step] = fired.get(a.step, 0) + 1

    def new(self, a: Action) -> None:
        """A step that led to a state seen for the first time."""
        self.distinct[a.step] = self.distinct.get(a.step, 0) + 1

    def never_fired(self) -> list[str]:
        """Steps of the model (protocol order) that fired not once."""
        return [name for name in self.steps if not self.fired.get(name)]

    def _rows(self) -> list[tuple[str, str]]:
        """(step, actor kind) in protocol order, then the memory's own steps that fired (tso: flush)."""
        rows = [(n, STEPS[n].actor) for n in self.steps]
        return rows + [(n, "memory") for n in sorted(self.fired) if n not in STEPS]

    def to_dict(self) -> dict:
        """JSON form: per step (protocol order) fired and distinct counts, and the steps that never fired."""
        return {"steps": [{"step": n, "actor": actor, "fired": self.fired.get(n, 0),
                           "distinct": self.distinct.get(n, 0)} for n, actor in self._rows()],
                "never_fired": self.never_fired()}

    def lines(self) -> list[str]:
        """A text table, one step a line, then the steps that never fired."""
        out = [f"  {'step':22} {'actor':9} {'fired':>10} {'distinct':>10}"]
        for n, actor in self._rows():
            out.append(f"  {n:22} {actor:9} {self.fired.get(n, 0):>10} {self.distinct.get(n, 0):>10}")
        never = self.never_fired()
        out.append("  never fired: " + (", ".join(never) if never else "none"))
        return out


@dataclass
class Violation:
    """One violating state found, with its trace (shortest to that state under BFS)."""

    property: str
    reason: str
    trace: Trace

    def to_dict(self) -> dict:
        """JSON form: property, reason and the trace in the ``--json`` shape."""
        return {"property": self.property, "reason": self.reason, "trace": _json_trace(self.trace)}


def _json_trace(trace: Trace) -> list[dict]:
    td = trace.to_dict()
    return [{"action": None, "state": td["initial"]}] + td["steps"]


@dataclass
class Verdict:
    """The answer of one run."""

    kind: str
    config: Config
    stats: Stats
    properties: list[str]
    property: str | None = None
    reason: str | None = None
    bound: str | None = None
    """For ``bounded``: which limit was hit, e.g. ``max_states=100000``."""
    trace: Trace | None = None
    strategy: str = "bfs"
    notes: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    """With ``--max-violations N``: every violation found (the first is ``property``/``trace``)."""
    coverage: Coverage | None = None
    engine: str = "python"
    """Which explicit-state core ran: ``python`` (checker.bfs/dfs) or ``compiled`` (checker.compiled)."""
    threads: int = 1
    """Threads the search ran on (the compiled BFS's ``--threads``, at most the CPUs it may use)."""
    store: str = "flat"
    """How the compiled core kept the visited states (``--store``); in --json only when not flat."""

    @builtins.property
    def exit_code(self) -> int:
        """0 holds, 1 violated, 3 holds up to a bound, 130 interrupted."""
        return EXIT_CODES[self.kind]

    def headline(self) -> str:
        """One line: the verdict in words."""
        if self.kind == HOLDS:
            return "holds (complete)"
        if self.kind == BOUNDED:
            return f"holds up to bound {self.bound}"
        if self.kind == INTERRUPTED:
            return f"interrupted by {self.reason}: nothing violated in the part explored (not complete)"
        return f"violated: {self.property}: {self.reason}"

    def to_dict(self) -> dict:
        """The ``--json`` object."""
        d = {
            "verdict": self.kind,
            "property": self.property,
            "reason": self.reason,
            "bound": self.bound,
            "strategy": self.strategy,
            "engine": self.engine,
            "threads": self.threads,
            "notes": self.notes,
            "properties": self.properties,
            "config": self.config.to_dict(),
            "stats": self.stats.to_dict(),
        }
        if self.store != "flat":
            d["store"] = self.store
        if self.trace is not None:
            d["trace"] = _json_trace(self.trace)
        if len(self.violations) > 1:
            d["violations"] = [v.to_dict() for v in self.violations]
        if self.coverage is not None:
            d["coverage"] = self.coverage.to_dict()
        if self.notes:
            d["notes"] = self.notes
        return d

"""Verdicts and statistics: the only three answers a run may give.

``holds`` means the search was complete; ``bounded`` means it stopped at a
named limit with nothing found; ``violated`` carries the trace. A truncated
search is never reported as complete.
"""

from __future__ import annotations

import builtins
import resource
from dataclasses import dataclass, field

from checker.trace import Trace
from model.config import Config

HOLDS, BOUNDED, VIOLATED = "holds", "bounded", "violated"
EXIT_CODES = {HOLDS: 0, VIOLATED: 1, BOUNDED: 3}


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
                "peak_mb": round(self.peak_mb, 1), "terminal": self.terminal,
                **({} if self.bytes_per_state is None else {"bytes_per_state": round(self.bytes_per_state, 1)})}


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
    engine: str = "python"
    """Which explicit-state core ran: ``python`` (checker.bfs/dfs) or ``compiled`` (checker.compiled)."""

    @builtins.property
    def exit_code(self) -> int:
        """0 holds, 1 violated, 3 holds up to a bound."""
        return EXIT_CODES[self.kind]

    def headline(self) -> str:
        """One line: the verdict in words."""
        if self.kind == HOLDS:
            return "holds (complete)"
        if self.kind == BOUNDED:
            return f"holds up to bound {self.bound}"
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
            "notes": self.notes,
            "properties": self.properties,
            "config": self.config.to_dict(),
            "stats": self.stats.to_dict(),
        }
        if self.trace is not None:
            td = self.trace.to_dict()
            d["trace"] = [{"action": None, "state": td["initial"]}] + td["steps"]
        return d

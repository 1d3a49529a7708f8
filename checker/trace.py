"""Traces: a path through the model, which replays and prints as readable steps.

A trace is a list of (action, state) steps after an initial state. It is the
one currency between the engines (BFS, DFS, simulation, BMC), the exporters
(graphs, ITF, HTML) and the conformance checks.

A liveness counterexample is a *lasso*: ``loop`` is the index (in ``states``)
of the state the cycle starts at, and the last step returns to it, so
``final == states[loop]``; the steps after ``loop`` repeat forever. A cycle of
no steps (``loop == len(steps)``) means the run stays in its last state
forever (stuttering).
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from pathlib import Path

from checker.json_input import JsonInputError, load_json
from checker.trace_memory import MemoryFrame, memory_frames, memory_lines, memory_summary
from model.actions import Action, ActionSyntaxError, parse_action
from model.codec import state_from_dict, state_to_dict, state_view
from model.config import Config
from model.ringbuf import RingBufModel, build_model
from model.state import State
from model.steps import STEPS

TRACE_FORMAT = "ringcheck-trace/1"


WEAK_CONFIG_KEYS = ("memory", "buffer", "history", "orders", "fences")
"""The Config fields weak memory added (issue 13)."""


def config_dict(config: Config) -> dict:
    """``config.to_dict()`` as trace files write it: the weak-memory fields only where they differ from
    their defaults, so that an sc trace file is byte for byte what it was before weak memory
    (``Config.from_dict`` fills in the defaults)."""
    d = config.to_dict()
    defaults = Config().to_dict()
    for key in WEAK_CONFIG_KEYS:
        if key in d and d[key] == defaults.get(key):
            del d[key]
    return d


class TraceError(ValueError):
    """A trace does not replay in the model, or a trace file is malformed (one-line message)."""


@dataclass(frozen=True)
class Step:
    """One step: the action taken and the state it led to."""

    action: Action
    state: State


@dataclass
class Trace:
    """An initial state and the steps taken from it, with what was found at the end."""

    config: Config
    initial: State
    steps: list[Step] = field(default_factory=list)
    property: str | None = None
    reason: str | None = None
    start: int = 0
    """Initial value of the positions (the model's ``start``)."""
    loop: int | None = None
    """For a lasso: index in ``states`` where the repeating cycle starts (see the module docstring)."""
    _frames: tuple | None = field(default=None, repr=False, compare=False)
    """The last ``memory_frames`` and the (config, start, steps) they were computed for."""

    def __len__(self) -> int:
        return len(self.steps)

    @builtins.property
    def states(self) -> list[State]:
        """Every state, the initial one first."""
        return [self.initial] + [st.state for st in self.steps]

    @builtins.property
    def final(self) -> State:
        """The last state."""
        return self.steps[-1].state if self.steps else self.initial

    def model(self) -> RingBufModel:
        """The model this trace is a path of."""
        return build_model(self.config, self.start)

    def replay(self) -> None:
        """Re-run every action in the model; raise TraceError at the first that disagrees."""
        m = self.model()
        if self.initial not in m.initial_states():
            raise TraceError("trace: the initial state is not an initial state of the model")
        s = self.initial
        for i, st in enumerate(self.steps, 1):
            nxt = m.apply(s, st.action)
            if nxt is None:
                raise TraceError(f"trace: step {i} ({st.action}) is not possible in the model")
            if nxt != st.state:
                raise TraceError(f"trace: step {i} ({st.action}) leads to a different state in the model")
            s = nxt
        if self.loop is not None:
            if not 0 <= self.loop <= len(self.steps):
                raise TraceError(f"trace: loop {self.loop} is not a state index (0..{len(self.steps)})")
            if self.states[self.loop] != self.final:
                raise TraceError(f"trace: the last state is not state {self.loop}, where the cycle starts")

    @classmethod
    def from_actions(cls, config: Config, actions: list[Action], start: int = 0) -> "Trace":
        """Build a trace by running ``actions`` from the initial state; TraceError at the first impossible one."""
        m = build_model(config, start)
        s = m.initial_states()[0]
        t = cls(config, s, start=start)
        for i, a in enumerate(actions, 1):
            nxt = m.apply(s, a)
            if nxt is None:
                raise TraceError(f"step {i}: {a} is not possible here (enabled: {enabled_list(m.actions(s))})")
            t.steps.append(Step(a, nxt))
            s = nxt
        return t

    @classmethod
    def rebuilt(cls, config: Config, steps: list[Step], states: list[State], start: int = 0) -> "Trace":
        """A weak-memory trace read from a file that holds the ring buffer's fields but not the memory
        model's state: replayed from its actions, and every state's fields must agree with the file's."""
        trace = cls.from_actions(config, [st.action for st in steps], start)
        for i, (mine, theirs) in enumerate(zip(trace.states, states)):
            if mine._replace(memory=None) != theirs._replace(memory=None):
                raise TraceError(f"trace: state {i} is not the state the model reaches by the trace's actions")
        return trace

    # ---------------------------------------------------------------- printing

    def changes(self, i: int) -> list[tuple[str, str, str]]:
        """(variable, before, after) for every variable step ``i`` (1-based) changed."""
        before = state_view(self.states[i - 1])
        after = state_view(self.states[i])
        # a variable state_view shows only once set (overwrite_pos) was 0 the step before
        return [(k, before.get(k, "0"), after[k]) for k in after if before.get(k, "0") != after[k]]

    def memory_frames(self) -> list[MemoryFrame] | None:
        """Under tso/ra, per state what every actor holds and would read, and each step's reads and
        flush (``checker.trace_memory``); None under sc. Kept until the trace changes, since every
        exporter asks for them."""
        if not self.config.weak:
            return None
        key = (self.config, self.start, self.initial, tuple(self.steps))
        if self._frames is None or self._frames[0] != key:
            self._frames = (key, memory_frames(self))
        return self._frames[1]

    def format(self) -> str:
        """The trace as numbered steps, each with only what changed (weak memory: and the buffers or views)."""
        lines = [f"config: {self.config.describe()}"]
        summary = memory_summary(self.config)
        if summary:
            lines.append(f"memory: {summary}")
        frames = self.memory_frames()
        lines.append("  0  initial state: " + _initial_line(self.initial))
        for i, st in enumerate(self.steps, 1):
            if i == self.loop_start_step:
                lines.append(f"  --- cycle: steps {i}..{len(self.steps)} repeat forever from state {self.loop} ---")
            info = STEPS.get(st.action.step)
            where = f"   [{info.function}]" if info else ""
            lines.append(f"{i:3}  {st.action}{where}")
            for k, a, b in self.changes(i):
                lines.append(f"       {k}: {a} -> {b}")
            if frames is not None:
                lines.extend("       " + line for line in
                             memory_lines(frames[i], frames[i - 1] if i > 1 else None, self.config.memory))
        if self.loop is not None:
            lines.append(f"  --- back to state {self.loop}; the cycle repeats forever ---"
                         if self.loop < len(self.steps) else
                         f"  --- state {self.loop} repeats forever (stuttering: the run stays here) ---")
        if self.property:
            lines.append(f"violated: {self.property}: {self.reason}")
        return "\n".join(lines)

    @builtins.property
    def loop_start_step(self) -> int | None:
        """For a lasso with a non-empty cycle: the number (1-based) of its first cycle step."""
        return self.loop + 1 if self.loop is not None and self.loop < len(self.steps) else None

    __str__ = format

    def _repr_svg_(self) -> str:
        """Jupyter: the ring at the final state (checker.graphs.svg)."""
        from checker.graphs.svg import trace_svg
        return trace_svg(self)

    def _repr_html_(self) -> str:
        """Jupyter: the step-through view (checker.graphs.html); click it, then use the arrow keys."""
        from checker.graphs.html import trace_fragment
        return trace_fragment(self, uid=f"ringcheck-trace-{id(self):x}")

    # ---------------------------------------------------------------- files

    def to_dict(self) -> dict:
        """Plain JSON-ready form (the ``--trace-out`` file).

        Under tso/ra each step also has ``memory`` (every actor's buffer or view and the values it
        would read, main memory or the messages: ``MemoryFrame.to_dict``), ``reads`` (the loads it
        made, each with ``stale``), ``stale_read`` and, for a flush, ``flush``; ``initial_memory``
        is the initial state's. They are for readers: ``from_dict`` rebuilds the trace from the
        states alone. Under sc the form is what it always was.
        """
        steps = [{"action": str(st.action), "state": state_to_dict(st.state)} for st in self.steps]
        d = {
            "format": TRACE_FORMAT,
            "config": config_dict(self.config),
            "start": self.start,
            "property": self.property,
            "reason": self.reason,
            "initial": state_to_dict(self.initial),
            "steps": steps,
            **({} if self.loop is None else {"loop": self.loop}),
        }
        frames = self.memory_frames()
        if frames is not None:
            d["initial_memory"] = frames[0].to_dict()
            for step, frame in zip(steps, frames[1:]):
                step["memory"] = frame.to_dict()
                step["reads"] = [r.to_dict() for r in frame.reads]
                step["stale_read"] = frame.stale
                if frame.flush is not None:
                    step["flush"] = frame.flush.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Trace":
        """Inverse of to_dict; TraceError (one line naming the field) on malformed input.

        The states are only decoded here; ``replay`` decides whether they are the model's.
        """
        if not isinstance(d, dict):
            raise TraceError(f"trace: a trace file is one JSON object, not {type(d).__name__}")
        try:
            if d.get("format") != TRACE_FORMAT:
                raise TraceError(f"trace: format is {_short(repr(d.get('format')))}, expected {TRACE_FORMAT!r}")
            for key in ("property", "reason"):
                if d.get(key) is not None and not isinstance(d[key], str):
                    raise TraceError(f"trace: \"{key}\" must be a string or null, not {type(d[key]).__name__}")
            start = d.get("start", 0)
            if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start < 2**64 or start % 8:
                raise TraceError(f"trace: \"start\" must be a multiple of 8 in [0, 2**64), not {_short(repr(start))}")
            if not isinstance(d.get("steps"), list):
                raise TraceError("trace: \"steps\" must be a list of {\"action\", \"state\"} objects")
            cfg = Config.from_dict(d["config"])
            steps = []
            for i, s in enumerate(d["steps"], 1):
                if not isinstance(s, dict) or not isinstance(s.get("action"), str):
                    raise TraceError(f"trace: step {i} must be an object with a string \"action\"")
                steps.append(Step(parse_action(s["action"]), state_from_dict(s["state"])))
            loop = d.get("loop")
            if loop is not None and (not isinstance(loop, int) or isinstance(loop, bool) or not 0 <= loop <= len(steps)):
                raise TraceError(f"trace: \"loop\" must be a state index from 0 to {len(steps)} or null, not {_short(repr(loop))}")
            initial = state_from_dict(d["initial"])
            if cfg.weak and initial.memory is None:
                trace = cls.rebuilt(cfg, steps, [initial] + [st.state for st in steps], start)
                trace.property, trace.reason, trace.loop = d.get("property"), d.get("reason"), loop
                return trace
            return cls(cfg, initial, steps, d.get("property"), d.get("reason"), start, loop)
        except TraceError:
            raise
        except (KeyError, ValueError, TypeError, AttributeError, IndexError, OverflowError, RecursionError,
                ActionSyntaxError) as e:
            raise TraceError(f"trace: malformed trace file ({type(e).__name__}: {_short(str(e))})") from None

    def save(self, path: str | Path) -> None:
        """Write the trace as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "Trace":
        """Read a trace written by ``save``."""
        try:
            d = load_json(Path(path).read_text(encoding="utf-8"))
        except OSError as e:
            raise TraceError(f"trace: cannot read {path}: {e.strerror}") from None
        except UnicodeDecodeError:
            raise TraceError(f"trace: {path} is not UTF-8 text") from None
        except JsonInputError as e:
            raise TraceError(f"trace: {path}: {e}") from None
        return cls.from_dict(d)


def enabled_list(actions: list[Action], shown: int = 8) -> str:
    """The enabled actions for an error line: the first few, and how many more (a 1 MiB ring has 262,144)."""
    names = [str(a) for a in actions[:shown]]
    more = len(actions) - shown
    return (", ".join(names) or "none") + (f", ... ({more} more)" if more > 0 else "")


def _short(text: str, limit: int = 120) -> str:
    """An error message's quoted input, cut so that the message stays one readable line."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _initial_line(s: State) -> str:
    v = state_view(s)
    return f"consumer_pos={v['consumer_pos']} producer_pos={v['producer_pos']} ring empty"

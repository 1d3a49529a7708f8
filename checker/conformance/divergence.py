"""A divergence: where an implementation stopped behaving like the model.

Every conformance check (lockstep, stateful, trace validation) reports the
same object: the operations run, the index of the first one whose outcome
differs, the compared field with the model's expectation beside the
implementation's observation, and the model's own protocol steps up to and
including that operation as a `checker.trace.Trace`, so the usual trace
printers and exporters show what the model did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.conformance.adapter import Observation
from checker.conformance.driver import header_words
from checker.conformance.ops import CONSUME, OBSERVE, RESERVE, Op
from checker.conformance.oracle import Oracle
from checker.trace import Trace
from model.codec import len_word_str
from model.config import Config
from model.operations import Observation as ModelObservation


@dataclass
class Divergence:
    """The first operation whose outcome differs from the model's."""

    config: Config
    index: int
    """1-based position of the diverging operation in `operations` (for a log, the last entry is the
    line's operation, ``observe()`` for an observation line; `line` gives the log line)."""
    operation: Op
    field: str
    """``result``, ``samples``, ``producer_pos``, ``consumer_pos``, ``header[off]``, ``exception``, ..."""
    expected: object
    observed: object
    operations: list[Op]
    """Every operation run, the diverging one last."""
    model_results: list[object] = field(default_factory=list)
    """The model's result for each operation (reserve position/None, consume samples)."""
    model_observation: ModelObservation | None = None
    """The model's observation after the diverging operation."""
    observation: Observation | None = None
    """The implementation's observation after it (None if it raised)."""
    trace: Trace | None = None
    """The model's protocol steps for `operations`."""
    method: str = "lockstep"
    """Which check found it: ``lockstep``, ``stateful``, ``sequence`` or ``trace``."""
    line: int | None = None
    """For trace validation: the line of the log that is not a behaviour of the model."""

    def headline(self) -> str:
        """One line: which operation, which field, expected against observed."""
        where = f"log line {self.line}, " if self.line is not None else ""
        return (f"{where}operation {self.index} {self.operation}: {self.field}: model expects "
                f"{show(self.field, self.expected)}, implementation gave {show(self.field, self.observed)}")

    def format(self) -> str:
        """The operations with the model's results, a side-by-side observation table, the model's steps."""
        lines = [f"divergence ({self.method}) at {self.headline()}",
                 f"config: {self.config.describe()}", "operations:"]
        for i, op in enumerate(self.operations, 1):
            res = self.model_results[i - 1] if i - 1 < len(self.model_results) else None
            shown = f" -> {show_result(op, res)}" if op.kind in (RESERVE, CONSUME) else ""
            mark = "   <-- diverges" if i == self.index else ""
            lines.append(f"  {i:3}. {op}{shown}{mark}")
        lines.extend(self._side_by_side())
        if self.trace is not None:
            lines.append("model steps:")
            lines.extend("  " + line for line in self.trace.format().splitlines())
        return "\n".join(lines)

    __str__ = format

    def _side_by_side(self) -> list[str]:
        m = self.model_observation
        if m is None:
            return []
        o = self.observation
        words = header_words(bytes(o.data)) if o is not None else {}
        rows = [("producer_pos", str(m.producer_pos), str(o.producer_pos) if o else "-"),
                ("consumer_pos", str(m.consumer_pos), str(o.consumer_pos) if o else "-")]
        for off, word in m.headers:
            rows.append((f"header[{off}]", len_word_str(word),
                         len_word_str(words[off]) if off in words else "-"))
        out = [f"after operation {self.index}:", f"  {'':14} {'model':>16}   implementation"]
        for name, a, b in rows:
            flag = "   <--" if a != b else ""
            out.append(f"  {name:14} {a:>16}   {b}{flag}")
        return out

    def to_dict(self) -> dict:
        """JSON-ready form (the ``--json`` output of ``ringcheck conform``)."""
        return {
            "method": self.method,
            "index": self.index,
            "operation": self.operation.to_dict(),
            "field": self.field,
            "expected": jsonable(self.expected),
            "observed": jsonable(self.observed),
            "operations": [op.to_dict() for op in self.operations],
            "line": self.line,
            "text": self.headline(),
            "trace": self.trace.to_dict() if self.trace is not None else None,
        }


def show(field_name: str, value: object) -> str:
    """A compared value for people: NULL, positions, sample lists, len words."""
    if field_name == "result":
        return "NULL" if value is None else f"position {value}"
    if field_name == "samples":
        return show_samples(value)  # type: ignore[arg-type]
    if field_name.startswith("header[") and isinstance(value, int):
        return len_word_str(value)
    return str(value)


def show_result(op: Op, value: object) -> str:
    """A reserve or consume result in words."""
    return show("result" if op.kind == RESERVE else "samples", value)


def show_samples(samples: tuple | None) -> str:
    """``[r0, r2]``; None is a sample the model does not define, strings are unknown bytes."""
    if samples is None:
        return "nothing"
    parts = []
    for s in samples:
        if s is None:
            parts.append("(torn sample)")
        elif isinstance(s, int):
            parts.append(f"r{s}")
        elif isinstance(s, frozenset):
            parts.append("/".join(f"r{r}" for r in sorted(s)))
        else:
            parts.append(str(s))
    return "[" + ", ".join(parts) + "]"


def jsonable(value: object) -> object:
    """Tuples and sets as lists, so the value survives json.dumps."""
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, frozenset):
        return sorted(value)
    return value


def build_divergence(oracle: Oracle, operations: list[Op], field_name: str, expected: object,
                     observed: object, observation: Observation | None, method: str,
                     line: int | None = None, strict: bool = True) -> Divergence:
    """Re-run the model along `operations` for its results and protocol steps; the last one diverged.

    The last operation may be one the model refuses (a log's impossible
    call) or a log's ``observe``; the model runs every operation before it.
    """
    s = oracle.initial()
    trace = Trace(oracle.config, s, start=oracle.ops.start)
    results: list[object] = []
    model_obs = oracle.ops.observe(s)
    for i, op in enumerate(operations):
        if op.kind == OBSERVE or (i == len(operations) - 1 and oracle.check_allowed(s, op, strict)):
            results.append(None)
            continue
        trace.steps.extend(oracle.steps(s, op))
        s, exp = oracle.apply(s, op, strict)
        results.append(exp.result)
        model_obs = exp.observation
    last = operations[-1]
    div = Divergence(oracle.config, len(operations), last, field_name, expected, observed,
                     list(operations), results, model_obs, observation, trace, method, line)
    trace.property = "conformance"
    trace.reason = div.headline()
    return div


DIVERGENCE_FORMATS = ("text", "json", "graphml", "dot", "itf", "html", "svg")
"""Formats a divergence can be written in: its own text and JSON, and every trace format of checker.graphs."""


def export_divergence(div: Divergence, fmt: str) -> str:
    """The divergence as text, as JSON, or its model trace in a `checker.graphs` format.

    In the graph formats the trace's reason (shown at the last step) is the
    divergence's headline: the diverging operation, the compared field, the
    model's expectation and the implementation's observation.
    """
    if fmt == "text":
        return div.format() + "\n"
    if fmt == "json":
        import json

        return json.dumps(div.to_dict(), indent=1) + "\n"
    if div.trace is None:
        raise ValueError("this divergence has no model trace")
    from checker.graphs.export import render

    return render(div.trace, fmt)

"""What the model says a scenario will show on the kernel: returns, positions, headers, payloads, samples.

The prediction comes from ``model.operations.Operations`` (the protocol at API
granularity), never from protocol logic of our own: this module only maps the
scenario's slots to the model's record ids, remembers which byte each record
was filled with, and writes down what an observer of the kernel should see.

Each ``Expect`` names a place to look on the kernel (``where``) and the value
the model predicts there.  With ``record=True`` the walk also keeps the model
steps as a ``checker.trace.Trace`` (``checker.kernel.model_calls``), so that a
disagreement can be shown as the model's path up to that point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.kernel.model_calls import ModelCalls
from checker.kernel.scenario import Consume, Run, Scenario, SetConsumerPos, check_scenario, model_config, op_str
from checker.kernel.script import U64_MASK, Discard, Output, Query, Reserve, Submit, Write, check_script
from checker.trace import Trace
from model.config import Config
from model.constants import HDR_SZ

Sample = tuple[int, bytes | None]
"""A delivered sample as (size, payload); payload None when the script never filled the record."""


@dataclass(frozen=True)
class Expect:
    """One prediction: the model says ``value`` will be found at ``where`` on the kernel.

    ``where`` is ("op", item, op index) for an op result, ("producer_pos", item),
    ("consumer_pos", item), ("header", item, offset) for a header len word after
    a run, ("payload", item, offset, size) for the bytes of a filled record whose
    words the model says nobody else has written since, ("samples", item) for
    what a consume delivered.  ``step`` is how many model steps had been taken
    when the prediction was made.
    """

    label: str
    value: object
    where: tuple
    step: int


@dataclass
class Prediction:
    """Everything the model predicts for a scenario, in scenario order."""

    config: Config
    expects: list[Expect]
    trace: Trace | None = None
    samples_by_item: dict[int, list[int]] = field(default_factory=dict)
    """For each Consume item, the record ids the model's consumer delivered."""


class _Predictor:
    """Walks a scenario through ``ModelCalls``, mapping slots to record ids and writing down expectations."""

    def __init__(self, config: Config, record: bool) -> None:
        self.calls = ModelCalls(config, record)
        self.expects: list[Expect] = []
        self.filled: dict[int, int] = {}
        self.samples_by_item: dict[int, list[int]] = {}


    def expect(self, label: str, value: object, where: tuple) -> None:
        self.expects.append(Expect(label, value, where, self.calls.steps_taken()))

    def expected_sample(self, rec: int) -> Sample:
        record = self.calls.state.records[rec]
        byte = self.filled.get(rec)
        return record.size, (None if byte is None else bytes([byte]) * record.size)


def _run(w: _Predictor, index: int, run: Run) -> None:
    """Predict one program run, op by op, then the positions, headers and intact payloads after it."""
    held: dict[int, int | None] = {}
    for j, op in enumerate(run.ops):
        label = f"item {index} op {j} {op_str(op)}"
        if isinstance(op, Reserve):
            rec = w.calls.reserve(op.size & U64_MASK, op.flags & U64_MASK)
            held[op.slot] = rec
            w.expect(label + " -> position", None if rec is None else w.calls.state.records[rec].pos, ("op", index, j))
        elif isinstance(op, Write):
            rec = held[op.slot]
            if rec is not None:
                w.filled[rec] = op.byte
            w.expect(label + " -> ran (slot non-NULL)", rec is not None, ("op", index, j))
        elif isinstance(op, (Submit, Discard)):
            rec = held.pop(op.slot)
            if rec is not None:
                w.calls.commit(rec, isinstance(op, Discard), op.flags & U64_MASK)
            w.expect(label + " -> ran (slot non-NULL)", rec is not None, ("op", index, j))
        elif isinstance(op, Output):
            code, rec = w.calls.output(op.size, op.flags & U64_MASK)
            if code == 0 and rec is not None:
                w.filled[rec] = op.byte
            w.expect(label + " -> return code", code, ("op", index, j))
        elif isinstance(op, Query):
            w.expect(label + " -> value", w.calls.ops.query(w.calls.state, op.selector & U64_MASK), ("op", index, j))
    for slot in check_script(run.ops):
        rec = held[slot]
        if rec is not None:
            w.calls.commit(rec, True, 0)
    _positions(w, index, f"after item {index}")
    for offset, len_word in w.calls.ops.observe(w.calls.state).headers:
        w.expect(f"after item {index}: header len word at {offset:#x}", len_word, ("header", index, offset))
    for rec, byte in sorted(w.filled.items()):
        record = w.calls.state.records[rec]
        if w.calls.owns_payload(rec):
            start = (record.pos + HDR_SZ) & w.calls.cfg.mask
            w.expect(f"after item {index}: payload of r{rec} ({record.size:#x} bytes at {start:#x})",
                     bytes([byte]) * record.size, ("payload", index, start, record.size))


def _positions(w: _Predictor, index: int, when: str) -> None:
    w.expect(f"{when}: producer_pos", w.calls.state.producer_pos, ("producer_pos", index))
    w.expect(f"{when}: consumer_pos", w.calls.state.consumer_pos, ("consumer_pos", index))


def predict(scenario: Scenario, variant: str, record: bool = False, config: Config | None = None) -> Prediction:
    """The model's prediction for ``scenario`` on a kernel of ``variant`` (ValueError for a bad scenario).

    ``config`` overrides ``model_config(scenario, variant)`` (tests plant wrong models this way).
    """
    check_scenario(scenario)
    cfg = config if config is not None else model_config(scenario, variant)
    w = _Predictor(cfg, record)
    for index, item in enumerate(scenario):
        if isinstance(item, Run):
            _run(w, index, item)
        elif isinstance(item, SetConsumerPos):
            w.calls.set_consumer_pos(item.target(w.calls.state.producer_pos))
            _positions(w, index, f"after item {index} ({item})")
        elif isinstance(item, Consume):
            delivered = w.calls.consume()
            w.samples_by_item[index] = delivered
            w.expect(f"item {index} consume -> samples", [w.expected_sample(rec) for rec in delivered],
                     ("samples", index))
            _positions(w, index, f"after item {index} (consume)")
    return Prediction(cfg, w.expects, w.calls.trace, w.samples_by_item)


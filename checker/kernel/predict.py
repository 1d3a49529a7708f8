"""What the model says a scenario will show on the kernel: every return value, position, header, sample.

The prediction comes from ``model.operations.Operations`` (the protocol at API
granularity), never from protocol logic of our own: this module only maps the
scenario's slots to the model's record ids, remembers which byte each record
was filled with, and writes down what an observer of the kernel should see.

Each ``Expect`` names a place to look on the kernel (``where``) and the value
the model predicts there.  With ``record=True`` the walk also keeps the model
steps as a ``checker.trace.Trace`` (one step per protocol step, rebuilt by
following the step functions and checked against Operations' own result), so
that a disagreement can be shown as the model's path up to that point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.kernel.scenario import Consume, Run, Scenario, SetConsumerPos, check_scenario, model_config, op_str
from checker.kernel.script import U64_MASK, Discard, Output, Query, Reserve, Submit, Write, check_script
from checker.trace import Step, Trace
from model.actions import Action
from model.config import Config
from model.constants import HDR_SZ
from model.consumer import consume_load_cons, consumer_successors
from model.operations import Operations
from model.producer import commit_xchg, producer_successors, reserve_check, write_payload
from model.state import C_LOAD_CONS, C_SLEEP, C_WAIT, P_IDLE, P_WRITE, State, payload_word

PRODUCER = 0
_PRODUCER_ACTOR = "p0"
_MAX_FOLLOW = 100_000  # guard: one API call is far fewer protocol steps than this

Sample = tuple[int, bytes | None]
"""A delivered sample as (size, payload); payload None when the script never filled the record."""


@dataclass(frozen=True)
class Expect:
    """One prediction: the model says ``value`` will be found at ``where`` on the kernel.

    ``where`` is ("op", item, op index) for an op result, ("producer_pos", item),
    ("consumer_pos", item), ("header", item, offset) for a header len word after
    a run, ("payload", item, offset, size) for the bytes of a filled record whose
    words the model says nobody else has written since, ("samples", item) for
    what a consume delivered.  ``step`` is how many
    model steps had been taken when the prediction was made.
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


class _Walker:
    """Runs a scenario through Operations, keeping the state, the slot map and (optionally) the steps."""

    def __init__(self, config: Config, record: bool) -> None:
        self.cfg = config
        self.ops = Operations(config)
        self.state: State = self.ops.initial()
        self.trace = Trace(config, self.state) if record else None
        self.expects: list[Expect] = []
        self.filled: dict[int, int] = {}
        self.samples_by_item: dict[int, list[int]] = {}

    # ------------------------------------------------------------ step recording

    def _steps(self) -> int:
        return len(self.trace.steps) if self.trace is not None else 0

    def _record(self, action: Action, state: State) -> None:
        if self.trace is not None:
            self.trace.steps.append(Step(action, state))

    def _follow_producer(self, state: State) -> State:
        """Record the producer's forced steps until it is back at a call boundary."""
        for _ in range(_MAX_FOLLOW):
            if state.producers[PRODUCER].pc in (P_IDLE, P_WRITE):
                return state
            (action, state), = producer_successors(self.cfg, state, PRODUCER)
            self._record(action, state)
        raise AssertionError("producer did not return to a call boundary")

    def _follow_consumer(self, state: State) -> State:
        for _ in range(_MAX_FOLLOW):
            if state.consumer.pc in (C_WAIT, C_SLEEP):
                return state
            action, state = consumer_successors(self.cfg, state)[0]
            self._record(action, state)
        raise AssertionError("consumer did not reach epoll")

    def _record_reserve(self, before: State, size: int, flags: int) -> State:
        args = (("size", size),) + ((("flags", flags),) if flags else ())
        state = reserve_check(self.cfg, before, PRODUCER, size, False, flags)
        self._record(Action(_PRODUCER_ACTOR, "reserve.check", args), state)
        return self._follow_producer(state)

    def _record_write(self, before: State, rec: int) -> State:
        state = write_payload(self.cfg, before, PRODUCER)
        self._record(Action(_PRODUCER_ACTOR, "write", (("rec", rec),)), state)
        return state

    def _record_commit(self, before: State, rec: int, discard: bool, flags: int) -> State:
        state = commit_xchg(self.cfg, before, PRODUCER, rec, discard, flags)
        self._record(Action(_PRODUCER_ACTOR, "commit.xchg",
                            (("rec", rec), ("discard", int(discard)), ("flags", flags))), state)
        for _ in range(_MAX_FOLLOW):
            if state.producers[PRODUCER].pc == P_IDLE:
                return state
            (action, state), = producer_successors(self.cfg, state, PRODUCER)
            self._record(action, state)
        raise AssertionError("commit did not finish")

    def _agree(self, recorded: State, oracle: State, call: str) -> None:
        if self.trace is not None and recorded != oracle:
            raise AssertionError(f"recorded steps of {call} do not reach the state Operations computed")

    # ------------------------------------------------------------ API calls

    def reserve(self, size: int, flags: int) -> int | None:
        before = self.state
        self.state, rec = self.ops.reserve(before, PRODUCER, size, flags)
        if rec is not None:
            after_reserve = self.state
            self.state = self.ops.write(self.state, PRODUCER)
        if self.trace is not None:
            recorded = self._record_reserve(before, size, flags)
            if rec is not None:
                self._agree(recorded, after_reserve, "reserve")
                recorded = self._record_write(recorded, rec)
            self._agree(recorded, self.state, "reserve")
        return rec

    def commit(self, rec: int, discard: bool, flags: int) -> None:
        before = self.state
        self.state = self.ops.commit(before, PRODUCER, rec, discard, flags)
        if self.trace is not None:
            self._agree(self._record_commit(before, rec, discard, flags), self.state, "commit")

    def output(self, size: int, flags: int) -> tuple[int, int | None]:
        before = self.state
        attempts = before.producers[PRODUCER].attempts
        self.state, code = self.ops.output(before, PRODUCER, size, flags)
        rec = attempts if self.state.producers[PRODUCER].attempts > attempts else None
        if self.trace is not None and rec is not None:
            recorded = self._record_reserve(before, size, 0)
            if code == 0:
                recorded = self._record_write(recorded, rec)
                recorded = self._record_commit(recorded, rec, False, flags)
            self._agree(recorded, self.state, "output")
        return code, rec

    def consume(self) -> list[int]:
        before = self.state
        self.state, delivered = self.ops.consume(before)
        if self.trace is not None:
            restarted = before._replace(consumer=before.consumer._replace(pc=C_LOAD_CONS))
            state = consume_load_cons(self.cfg, restarted)
            self._record(Action("c", "consume.load_cons"), state)
            self._agree(self._follow_consumer(state), self.state, "consume")
        return delivered

    def set_consumer_pos(self, value: int) -> None:
        self.state = self.ops.set_consumer_pos(self.state, value)
        self._record(Action("user", "store_cons", (("value", value),)), self.state)

    # ------------------------------------------------------------ expectations

    def expect(self, label: str, value: object, where: tuple) -> None:
        self.expects.append(Expect(label, value, where, self._steps()))

    def owns_payload(self, rec: int) -> bool:
        """Does every payload word of ``rec`` still hold what ``rec`` wrote (ghost owner tags)?"""
        record, mask = self.state.records[rec], self.cfg.mask
        mine = payload_word(rec)
        return all(self.state.slots[((record.pos + HDR_SZ + 8 * i) & mask) >> 3] == mine
                   for i in range((record.size + 7) // 8))

    def expected_sample(self, rec: int) -> Sample:
        record = self.state.records[rec]
        byte = self.filled.get(rec)
        return record.size, (None if byte is None else bytes([byte]) * record.size)


def _run(w: _Walker, index: int, run: Run) -> None:
    """Predict one program run, op by op, then the positions and headers after it."""
    held: dict[int, int | None] = {}
    for j, op in enumerate(run.ops):
        label = f"item {index} op {j} {op_str(op)}"
        if isinstance(op, Reserve):
            rec = w.reserve(op.size & U64_MASK, op.flags & U64_MASK)
            held[op.slot] = rec
            w.expect(label + " -> position", None if rec is None else w.state.records[rec].pos, ("op", index, j))
        elif isinstance(op, Write):
            rec = held[op.slot]
            if rec is not None:
                w.filled[rec] = op.byte
            w.expect(label + " -> ran (slot non-NULL)", rec is not None, ("op", index, j))
        elif isinstance(op, (Submit, Discard)):
            rec = held.pop(op.slot)
            if rec is not None:
                w.commit(rec, isinstance(op, Discard), op.flags & U64_MASK)
            w.expect(label + " -> ran (slot non-NULL)", rec is not None, ("op", index, j))
        elif isinstance(op, Output):
            code, rec = w.output(op.size, op.flags & U64_MASK)
            if code == 0 and rec is not None:
                w.filled[rec] = op.byte
            w.expect(label + " -> return code", code, ("op", index, j))
        elif isinstance(op, Query):
            w.expect(label + " -> value", w.ops.query(w.state, op.selector & U64_MASK), ("op", index, j))
    for slot in check_script(run.ops):
        rec = held[slot]
        if rec is not None:
            w.commit(rec, True, 0)
    _positions(w, index, f"after item {index}")
    for offset, len_word in w.ops.observe(w.state).headers:
        w.expect(f"after item {index}: header len word at {offset:#x}", len_word, ("header", index, offset))
    for rec, byte in sorted(w.filled.items()):
        record = w.state.records[rec]
        if w.owns_payload(rec):
            start = (record.pos + HDR_SZ) & w.cfg.mask
            w.expect(f"after item {index}: payload of r{rec} ({record.size:#x} bytes at {start:#x})",
                     bytes([byte]) * record.size, ("payload", index, start, record.size))


def _positions(w: _Walker, index: int, when: str) -> None:
    w.expect(f"{when}: producer_pos", w.state.producer_pos, ("producer_pos", index))
    w.expect(f"{when}: consumer_pos", w.state.consumer_pos, ("consumer_pos", index))


def predict(scenario: Scenario, variant: str, record: bool = False, config: Config | None = None) -> Prediction:
    """The model's prediction for ``scenario`` on a kernel of ``variant`` (ValueError for a bad scenario).

    ``config`` overrides ``model_config(scenario, variant)`` (tests plant wrong models this way).
    """
    check_scenario(scenario)
    cfg = config if config is not None else model_config(scenario, variant)
    w = _Walker(cfg, record)
    for index, item in enumerate(scenario):
        if isinstance(item, Run):
            _run(w, index, item)
        elif isinstance(item, SetConsumerPos):
            w.set_consumer_pos(item.target(w.state.producer_pos))
            _positions(w, index, f"after item {index} ({item})")
        elif isinstance(item, Consume):
            delivered = w.consume()
            w.samples_by_item[index] = delivered
            w.expect(f"item {index} consume -> samples", [w.expected_sample(rec) for rec in delivered],
                     ("samples", index))
            _positions(w, index, f"after item {index} (consume)")
    return Prediction(cfg, w.expects, w.trace, w.samples_by_item)


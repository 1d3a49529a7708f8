"""The model's side of API calls, for a caller that also wants the protocol steps they took.

``model.operations.Operations`` answers each helper call (reserve, commit,
output, consume, a consumer_pos store) in one go.  ``ModelCalls`` makes those
calls for producer 0 on one state and, when asked to record, rebuilds the
protocol steps each call consists of as a ``checker.trace.Trace``: it starts
the call with its step function and follows the actor's only successor until
the call is over, then checks that it reached exactly the state Operations
returned, so the trace cannot drift from the oracle.

Operations runs the payload write only when asked; a reservation here is
written at once (the model's write is bookkeeping of which record owns which
bytes, and every scenario op that could write after it runs on the same CPU).
"""

from __future__ import annotations

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


class ModelCalls:
    """One producer's helper calls and the consumer's passes, made through Operations on one state."""

    def __init__(self, config: Config, record: bool = False) -> None:
        self.cfg = config
        self.ops = Operations(config)
        self.state: State = self.ops.initial()
        self.trace = Trace(config, self.state) if record else None

    # ------------------------------------------------------------ step recording

    def steps_taken(self) -> int:
        """Model steps recorded so far (0 when not recording)."""
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
        """bpf_ringbuf_reserve, then at once the model's payload write: the record id, or None for NULL."""
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
        """bpf_ringbuf_submit or bpf_ringbuf_discard of a held record."""
        before = self.state
        self.state = self.ops.commit(before, PRODUCER, rec, discard, flags)
        if self.trace is not None:
            self._agree(self._record_commit(before, rec, discard, flags), self.state, "commit")

    def output(self, size: int, flags: int) -> tuple[int, int | None]:
        """bpf_ringbuf_output: (return code, record id of the attempt or None when flags were refused)."""
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
        """One ring_buffer__consume pass: the record ids delivered, in order."""
        before = self.state
        self.state, delivered = self.ops.consume(before)
        if self.trace is not None:
            restarted = before._replace(consumer=before.consumer._replace(pc=C_LOAD_CONS))
            state = consume_load_cons(self.cfg, restarted)
            self._record(Action("c", "consume.load_cons"), state)
            self._agree(self._follow_consumer(state), self.state, "consume")
        return delivered

    def set_consumer_pos(self, value: int) -> None:
        """User space stores ``value`` into consumer_pos."""
        self.state = self.ops.set_consumer_pos(self.state, value)
        self._record(Action("user", "store_cons", (("value", value),)), self.state)

    def owns_payload(self, rec: int) -> bool:
        """Does every payload word of ``rec`` still hold what ``rec`` wrote (ghost owner tags)?"""
        record, mask = self.state.records[rec], self.cfg.mask
        mine = payload_word(rec)
        return all(self.state.slots[((record.pos + HDR_SZ + 8 * i) & mask) >> 3] == mine
                   for i in range((record.size + 7) // 8))

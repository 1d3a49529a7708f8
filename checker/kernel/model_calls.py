"""The model's side of API calls, for a caller that also wants the protocol steps they took.

``model.operations.Operations`` answers each helper call (reserve, commit,
output, consume, a consumer_pos store) in one go.  ``ModelCalls`` makes those
calls for producer 0 on one state and, when asked to record, keeps the
protocol steps Operations took for each call as a ``checker.trace.Trace``, so
the trace is the oracle's own path.

Operations runs the payload write only when asked; a reservation here is
written at once (the model's write is bookkeeping of which record owns which
bytes, and every scenario op that could write after it runs on the same CPU).
"""

from __future__ import annotations

from checker.trace import Step, Trace
from model.config import Config
from model.constants import HDR_SZ
from model.operations import Operations
from model.state import State, payload_word

PRODUCER = 0


class ModelCalls:
    """One producer's helper calls and the consumer's passes, made through Operations on one state."""

    def __init__(self, config: Config, record: bool = False) -> None:
        self.cfg = config
        self.ops = Operations(config)
        self.state: State = self.ops.initial()
        self.trace = Trace(config, self.state) if record else None
        if record:
            self.ops.steps = []

    # ------------------------------------------------------------ step recording

    def steps_taken(self) -> int:
        """Model steps recorded so far (0 when not recording)."""
        return len(self.trace.steps) if self.trace is not None else 0

    def _flush(self) -> None:
        """Move the protocol steps Operations just took into the trace."""
        if self.trace is not None:
            self.trace.steps.extend(Step(a, s) for a, s in self.ops.steps)
            self.ops.steps.clear()

    # ------------------------------------------------------------ API calls

    def reserve(self, size: int, flags: int) -> int | None:
        """bpf_ringbuf_reserve, then at once the model's payload write: the record id, or None for NULL."""
        self.state, rec = self.ops.reserve(self.state, PRODUCER, size, flags)
        if rec is not None:
            self.state = self.ops.write(self.state, PRODUCER)
        self._flush()
        return rec

    def commit(self, rec: int, discard: bool, flags: int) -> None:
        """bpf_ringbuf_submit or bpf_ringbuf_discard of a held record."""
        self.state = self.ops.commit(self.state, PRODUCER, rec, discard, flags)
        self._flush()

    def output(self, size: int, flags: int) -> tuple[int, int | None]:
        """bpf_ringbuf_output: (return code, record id of the attempt or None when flags were refused)."""
        attempts = self.state.producers[PRODUCER].attempts
        self.state, code = self.ops.output(self.state, PRODUCER, size, flags)
        rec = attempts if self.state.producers[PRODUCER].attempts > attempts else None
        self._flush()
        return code, rec

    def consume(self) -> list[int]:
        """One ring_buffer__consume pass: the record ids delivered, in order."""
        self.state, delivered = self.ops.consume(self.state)
        self._flush()
        return delivered

    def set_consumer_pos(self, value: int) -> None:
        """User space stores ``value`` into consumer_pos."""
        self.state = self.ops.set_consumer_pos(self.state, value)
        self._flush()

    def owns_payload(self, rec: int) -> bool:
        """Does every payload word of ``rec`` still hold what ``rec`` wrote (ghost owner tags)?"""
        record, mask = self.state.records[rec], self.cfg.mask
        mine = payload_word(rec)
        return all(self.state.slots[((record.pos + HDR_SZ + 8 * i) & mask) >> 3] == mine
                   for i in range((record.size + 7) // 8))

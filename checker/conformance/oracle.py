"""The model as a conformance oracle: which operations are possible, and what each must do.

`Oracle` wraps `model.operations.Operations` (the protocol at API
granularity; nothing here re-implements a step) and adds what a
conformance check needs around it: the operations enabled in a state for a
configuration's choices, the outcome the model predicts for each (return
value, delivered samples, observation), a canonical key for memoising
states, and the expansion of an operation into the model's own protocol
steps, so that a divergence can be shown as an ordinary `checker.trace.Trace`.
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.conformance.ops import (ATTACKER_KINDS, COMMIT, CONSUME, REOPEN, RESERVE, SET_CONSUMER_POS,
                                     SET_PRODUCER_POS, WRITE, WRITE_HEADER, Op, commit, consume, reserve,
                                     set_consumer_pos, set_producer_pos, write, write_header, write_payload)
from checker.trace import Step
from model.adversary import adversary_values, attacker_lens, producer_pos_values
from model.config import Config
from model.operations import Observation as ModelObservation
from model.operations import OperationError, Operations
from model.producer import commit_choices
from model.state import P_WRITE, Consumer, State


@dataclass(frozen=True)
class Expected:
    """What the model says one operation does.

    `result`: for reserve the record's position, or None for NULL; for
    consume a tuple with one entry per delivered sample, the record id, or
    None where the model delivers bytes it does not define (a torn or
    garbage sample, possible only after a corruption); None for the other
    operations. `observation`: positions and header len words afterwards.
    """

    result: object
    observation: ModelObservation


class Oracle:
    """The operation-level view of the model for one configuration."""

    def __init__(self, config: Config, start: int = 0, reopen: bool = False,
                 budget: tuple[int, ...] | None = None) -> None:
        self.config = config
        self.ops = Operations(config, start)
        self.reopen = reopen
        """Offer ``reopen`` (the consumer closed and opened again) wherever a consume is offered."""
        self.budget = budget if budget is not None else (config.records,) * config.producers
        """Reservations `enabled` lets each producer make in all (a warm-up's included; see `warmup`)."""

    def initial(self) -> State:
        """The empty ring."""
        return self.ops.initial()

    def enabled(self, s: State) -> list[Op]:
        """Every operation the configuration allows in `s`, producers first.

        A producer with a fresh reservation must write it before its next
        call (others may act in between); a producer reserves while it has
        attempts left and holds fewer than `hold` records, and commits any
        record it holds with each (discard, flags) choice of the config.
        The honest consumer may always consume; the adversary may store any
        consumer_pos within the config's reach of producer_pos.
        """
        cfg = self.config
        out: list[Op] = []
        for p, pr in enumerate(s.producers):
            if pr.pc == P_WRITE:
                out.append(write(p, pr.cur))
                continue
            if pr.attempts < self.budget[p] and len(pr.held) < cfg.hold:
                rec = p * cfg.records + pr.attempts
                out.extend(reserve(p, size, rec) for size in cfg.sizes)
            for rec in pr.held:
                out.extend(commit(p, rec, d, f) for d, f in commit_choices(cfg))
        if cfg.honest:
            out.append(consume())
            if self.reopen:
                out.append(Op(REOPEN))
        else:
            out.extend(self._attacks(s))
        return out

    def _attacks(self, s: State) -> list[Op]:
        """The stores of hostile user space with the config's powers (``model.adversary``'s choices)."""
        cfg = self.config
        out: list[Op] = []
        if "consumer_pos" in cfg.attacker:
            out.extend(set_consumer_pos(v) for v in adversary_values(cfg, s))
        if "producer_pos" in cfg.attacker:
            # A producer_pos far above pending_pos makes the v6.10 scan read up to 2**61 headers (under the
            # spinlock); one API call cannot take that long, so those stores are left out (docs/attacker.md).
            far = s.pending_pos + 2 * cfg.reach
            out.extend(set_producer_pos(v) for v in producer_pos_values(cfg, s) if not (cfg.has_pending and v > far))
        if "header" in cfg.attacker:
            out.extend(write_header(8 * i, n) for i in range(cfg.slots) for n in attacker_lens(cfg))
        if "payload" in cfg.attacker:
            out.extend(write_payload(8 * i) for i in range(cfg.slots))
        return out

    def by_closeness(self, s: State, stores: list[Op]) -> list[Op]:
        """consumer_pos stores ordered by distance from producer_pos, ahead before behind.

        Random testing and shrinking prefer early entries; the values that
        matter (just ahead of producer_pos, the CVE-2024-41009 set-up, or
        just behind) come first this way.
        """
        bits = self.config.position_bits

        def distance(op: Op) -> tuple[int, int]:
            d = (op.value - s.producer_pos) & ((1 << bits) - 1)
            signed = d - (1 << bits) if d >= 1 << (bits - 1) else d
            return abs(signed), signed < 0

        return sorted(stores, key=distance)

    def check_allowed(self, s: State, op: Op, strict: bool = True) -> str | None:
        """None if `op` is a call the model can make in `s`, else a one-line reason.

        Wider than `enabled`: any size, any flags, any consumer_pos value;
        only calls that make no sense (an unknown producer, a commit of a
        record not held, writing without a fresh reservation, a consume
        with no libbpf consumer, more reservations than the model tracks)
        are refused. With `strict=False` the config's `hold` is not
        enforced (a log may hold more records at once than the explored
        model lets a producer hold; the protocol itself has no such limit).
        """
        cfg = self.config
        if op.kind in (RESERVE, WRITE, COMMIT):
            if not 0 <= op.producer < cfg.producers:
                return f"producer {op.producer} does not exist (the model has {cfg.producers})"
            pr = s.producers[op.producer]
            if op.kind == RESERVE:
                if pr.pc == P_WRITE:
                    return f"producer {op.producer} must write record r{pr.cur} first"
                if pr.attempts >= cfg.records:
                    return f"producer {op.producer} has used the {cfg.records} reservations the model tracks"
                if strict and len(pr.held) >= cfg.hold:
                    return f"producer {op.producer} already holds {len(pr.held)} records (hold={cfg.hold})"
            elif op.kind == WRITE:
                if pr.pc != P_WRITE or pr.cur != op.rec:
                    return f"producer {op.producer} has no fresh reservation r{op.rec} to write"
            else:
                if pr.pc == P_WRITE:
                    return f"producer {op.producer} must write record r{pr.cur} first"
                if op.rec not in pr.held:
                    return f"producer {op.producer} does not hold record r{op.rec}"
        elif op.kind in (CONSUME, REOPEN):
            if not cfg.honest:
                return f"{op.kind}: this configuration has no libbpf consumer (adversarial)"
        elif op.kind in ATTACKER_KINDS:
            if cfg.honest:
                return f"{op.kind}: only hostile user space makes it (consumer adversarial, --attacker)"
            if op.kind != SET_PRODUCER_POS and (op.offset % 8 or not 0 <= op.offset < cfg.ring_size):
                return f"{op.kind}: offset {op.offset} is not a multiple of 8 inside the data area"
        elif op.kind != SET_CONSUMER_POS:
            return f"unknown operation {op.kind!r}"
        return None

    def apply(self, s: State, op: Op, strict: bool = True) -> tuple[State, Expected]:
        """The next state and the expected outcome; OperationError if not allowed."""
        reason = self.check_allowed(s, op, strict)
        if reason is not None:
            raise OperationError(reason)
        o = self.ops
        result: object = None
        if op.kind == RESERVE:
            s, rec = o.reserve(s, op.producer, op.size, op.flags)
            result = None if rec is None else s.records[rec].pos
        elif op.kind == WRITE:
            s = o.write(s, op.producer)
        elif op.kind == COMMIT:
            s = o.commit(s, op.producer, op.rec, op.discard, op.flags)
        elif op.kind == REOPEN:
            pass
        elif op.kind == CONSUME:
            before = len(s.delivered)
            s, _ = o.consume(s)
            result = tuple(rec if intact else None for rec, intact in s.delivered[before:])
        elif op.kind == SET_PRODUCER_POS:
            s = o.set_producer_pos(s, op.value)
        elif op.kind == WRITE_HEADER:
            s = o.write_header(s, op.offset, op.value)
        elif op.kind in ATTACKER_KINDS:
            s = o.write_payload(s, op.offset)
        else:
            s = o.set_consumer_pos(s, op.value)
        return s, Expected(result, o.observe(s))

    def record_size(self, s: State, rec: int) -> int:
        """Payload size of a reserved record."""
        return s.records[rec].size

    @staticmethod
    def key(s: State) -> State:
        """`s` without what no later operation can observe, for memoising states.

        The consumer's locals are rewritten by the first steps of every
        consume pass, irq_work is never run at API granularity and the
        delivered log is ghost history; none of them changes what any
        later operation returns or what an observation shows.
        """
        return s._replace(consumer=Consumer(pc=s.consumer.pc), irq_pending=False, edge_ready=False,
                          delivered=())

    # ------------------------------------------------------------ protocol steps

    def steps(self, s: State, op: Op) -> list[Step]:
        """The model's protocol steps that make up `op` in `s`, for a trace.

        Runs the same step functions `Operations` runs, recording each
        action. A consume pass starts at consume.load_cons from wherever the
        consumer waited, as ring_buffer__consume does without epoll, so a
        trace containing one replays with `Oracle`, not `RingBufModel`.
        """
        self.ops.steps = []
        try:
            self.apply(s, op, strict=False)
            return [Step(a, t) for a, t in self.ops.steps]
        finally:
            self.ops.steps = None

"""The protocol at API granularity: one call = all the steps of one helper call.

Conformance checks (a reference implementation, anyone's adapter, the live
kernel) drive implementations one API call at a time: reserve, write, commit,
output, query, consume, set_consumer_pos. ``Operations`` runs the model's
steps for such a call back to back, with no other actor interleaving, and
reports what the call returns. It uses the same step functions as the
explorer, so the two cannot disagree about what a step does.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.actions import Action, producer_actor
from model.adversary import USER_ACTOR, user_store_cons, user_store_header, user_store_payload, user_store_prod
from model.config import Config
from model.constants import BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, distance
from model import consumer_overwrite
from model.consumer import consumer_successors
from model.producer import commit_xchg, producer_successors, reserve_check, write_payload
from model.state import (BUSY, C_LOAD_CONS, C_SLEEP, C_WAIT, KIND_HEADER, P_IDLE, P_WRITE, State,
                         initial_state, read_len, slot_kind, slot_owner)

EINVAL, EAGAIN = 22, 11
BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS, BPF_RB_OVERWRITE_POS = range(5)


class OperationError(ValueError):
    """An API call the model cannot make in this state (e.g. committing a record not held)."""


@dataclass(frozen=True)
class Observation:
    """What an implementation exposes: positions and the header len words of reserved records."""

    producer_pos: int
    consumer_pos: int
    headers: tuple[tuple[int, int], ...]
    """(offset in the data area, len word) for every header slot in the ring, by offset."""


class Operations:
    """Drive the model one API call at a time; every method returns the next state first."""

    def __init__(self, config: Config, start: int = 0) -> None:
        if config.weak:
            raise OperationError(f"operations: API calls run back to back on a sequentially consistent "
                                 f"model; --memory {config.memory} is for the explorer")
        self.config = config
        self.start = start
        self.steps: list[tuple[Action, State]] | None = None
        """Set to a list to have every protocol step of the following calls appended to it."""

    def _took(self, action: Action, s: State) -> State:
        if self.steps is not None:
            self.steps.append((action, s))
        return s

    def initial(self) -> State:
        """The empty ring."""
        c = self.config
        return initial_state(c.ring_size, c.producers, c.records, c.honest, self.start,
                             overwrite=c.rules.overwrite)

    def _run_producer(self, s: State, p: int, stop: tuple[int, ...]) -> State:
        while s.producers[p].pc not in stop:
            succ = producer_successors(self.config, s, p)
            if len(succ) != 1:
                raise OperationError(f"producer {p} cannot finish its call alone (pc {s.producers[p].pc})")
            s = self._took(*succ[0])
        return s

    def reserve(self, s: State, p: int, size: int, flags: int = 0, nmi: bool = False) -> tuple[State, int | None]:
        """bpf_ringbuf_reserve: (next state, record id) or (next state, None) for NULL."""
        pr = s.producers[p]
        if pr.pc != P_IDLE:
            raise OperationError(f"producer {p} is inside another call")
        if pr.attempts >= self.config.records:
            raise OperationError(f"producer {p} has used its {self.config.records} attempts")
        rec = p * self.config.records + pr.attempts
        args = (("size", size),) + ((("nmi", 1),) if nmi else ()) + ((("flags", flags),) if flags else ())
        s = self._took(Action(producer_actor(p), "reserve.check", args),
                       reserve_check(self.config, s, p, size, nmi, flags))
        s = self._run_producer(s, p, (P_IDLE, P_WRITE))
        return s, (rec if s.records[rec].status == BUSY else None)

    def write(self, s: State, p: int) -> State:
        """The program writes the payload of the record it just reserved."""
        if s.producers[p].pc != P_WRITE:
            raise OperationError(f"producer {p} has no fresh reservation to write")
        return self._took(Action(producer_actor(p), "write", (("rec", s.producers[p].cur),)),
                          write_payload(self.config, s, p))

    def commit(self, s: State, p: int, rec: int, discard: bool = False, flags: int = 0) -> State:
        """bpf_ringbuf_submit / bpf_ringbuf_discard of a held record."""
        if s.producers[p].pc == P_WRITE:
            s = self.write(s, p)
        if rec not in s.producers[p].held:
            raise OperationError(f"producer {p} does not hold record {rec}")
        s = self._took(Action(producer_actor(p), "commit.xchg",
                              (("rec", rec), ("discard", int(discard)), ("flags", flags))),
                       commit_xchg(self.config, s, p, rec, discard, flags))
        return self._run_producer(s, p, (P_IDLE,))

    def output(self, s: State, p: int, size: int, flags: int = 0) -> tuple[State, int]:
        """bpf_ringbuf_output: 0, -EINVAL for bad flags, -EAGAIN when the reservation fails."""
        if flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP):
            return s, -EINVAL
        s, rec = self.reserve(s, p, size)
        if rec is None:
            return s, -EAGAIN
        s = self.write(s, p)
        return self.commit(s, p, rec, False, flags), 0

    def query(self, s: State, selector: int) -> int:
        """bpf_ringbuf_query: momentary snapshots; unknown selectors give 0.

        Overwrite mode (``Rules.overwrite``): AVAIL_DATA is producer_pos - max(consumer_pos,
        overwrite_pos), and OVERWRITE_POS (4) reads overwrite_pos; on any other ring
        overwrite_pos is never written, so selector 4 gives 0 as unknown ones do.
        """
        overwrite = self.config.rules.overwrite
        if selector == BPF_RB_AVAIL_DATA:
            bits = self.config.position_bits
            if overwrite:
                return distance(s.producer_pos, max(s.consumer_pos, s.overwrite_pos), bits)
            return distance(s.producer_pos, s.consumer_pos, bits)
        if selector == BPF_RB_RING_SIZE:
            return self.config.ring_size
        if selector == BPF_RB_CONS_POS:
            return s.consumer_pos
        if selector == BPF_RB_PROD_POS:
            return s.producer_pos
        if selector == BPF_RB_OVERWRITE_POS and overwrite:
            return s.overwrite_pos
        return 0

    def consume(self, s: State) -> tuple[State, list[int]]:
        """ring_buffer__consume: one pass of the libbpf consumer; the records delivered, in order.

        ring_buffer__consume does not wait in epoll, so the pass starts at
        step 1 and ends where the consumer would go to epoll.
        """
        if not self.config.honest:
            raise OperationError("consume: this configuration has no libbpf consumer (adversarial)")
        before = len(s.delivered)
        successors = (consumer_overwrite.consumer_successors if self.config.consumer == "overwrite-safe"
                      else consumer_successors)
        s = s._replace(consumer=s.consumer._replace(pc=C_LOAD_CONS))
        while s.consumer.pc not in (C_WAIT, C_SLEEP):
            s = self._took(*successors(self.config, s)[0])
        return s, [rec for rec, _ in s.delivered[before:]]

    def set_consumer_pos(self, s: State, value: int) -> State:
        """Hostile user space stores ``value`` into consumer_pos."""
        s = user_store_cons(self.config, s, value)
        return self._took(Action(USER_ACTOR, "store_cons", (("value", s.consumer_pos),)), s)

    def set_producer_pos(self, s: State, value: int) -> State:
        """Hostile user space stores ``value`` into producer_pos (``--attacker producer_pos``)."""
        s = user_store_prod(self.config, s, value)
        return self._took(Action(USER_ACTOR, "store_prod", (("value", s.producer_pos),)), s)

    def write_header(self, s: State, offset: int, len_word: int) -> State:
        """Hostile user space writes a header with ``len_word`` at data offset ``offset`` (``--attacker header``)."""
        slot = (offset & self.config.mask) >> 3
        s = user_store_header(self.config, s, slot, len_word)
        return self._took(Action(USER_ACTOR, "store_header", (("slot", slot), ("len", len_word))), s)

    def write_payload(self, s: State, offset: int) -> State:
        """Hostile user space writes a data word at data offset ``offset`` (``--attacker payload``)."""
        slot = (offset & self.config.mask) >> 3
        s = user_store_payload(self.config, s, slot)
        return self._took(Action(USER_ACTOR, "store_payload", (("slot", slot),)), s)

    def observe(self, s: State) -> Observation:
        """Positions and the len word of every header in the data area."""
        headers = tuple((8 * i, read_len(w)) for i, w in enumerate(s.slots) if slot_kind(w) == KIND_HEADER)
        return Observation(s.producer_pos, s.consumer_pos, headers)

    def owner_at(self, s: State, offset: int) -> int:
        """The record whose bytes are at ``offset`` (ghost), -1 if none."""
        return slot_owner(s.slots[(offset & self.config.mask) >> 3])

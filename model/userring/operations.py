"""The user ring buffer at API granularity: one call = all the steps of one libbpf or kernel call.

Conformance checks and the live-kernel diff drive an implementation one call
at a time: libbpf's ``user_ring_buffer__reserve`` / ``__submit`` /
``__discard``, hostile stores through the writable mapping, and
``bpf_user_ringbuf_drain``. ``UserRingOperations`` runs the model's own step
functions for such a call back to back, with no other actor interleaving,
and reports what the call returns, so the explorer and the predictions
cannot disagree about a step.

Honest and hostile calls mix freely on one ring (a scenario may reserve with
libbpf, then clobber a header): the operations do not look at
``Config.user_producer``, and records are added as reservations are made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from model.actions import Action
from model.config import Config
from model.state import Record
from model.userring.drain import (D_CALLBACK, D_END, D_IDLE, PEEK_CHECKS, Check, begin_result, drain_actor,
                                  drain_begin, drain_return, drain_steps, drain_wakes, sample_len)
from model.userring.hostile import user_store_prod, user_store_word
from model.userring.producer import USER_ACTOR, reserve_errno, user_commit, user_reserve, user_reserve_claim, \
    user_write
from model.userring.state import HOSTILE, U_IDLE, UserState, initial_user_state

MAX_RECORDS = HOSTILE
"""Reservations one scenario may make: record ids are the ghost owner tags of data words (below HOSTILE)."""


class OperationError(ValueError):
    """A call the model cannot make in this state (e.g. submitting a sample not reserved)."""


@dataclass
class DrainResult:
    """What one bpf_user_ringbuf_drain call did."""

    ret: int
    """Samples handed to the callback, or the negative errno."""
    consumer_pos: int
    """consumer_pos after the call."""
    samples: list[tuple[int, int]] = field(default_factory=list)
    """(position of the sample's header, sample length) for each callback call, in order."""
    wakeup: bool = False
    """The call queued irq_work (wakes a user producer waiting in epoll)."""
    discarded: int = 0
    """DISCARD samples stepped over."""


class UserRingOperations:
    """Drive the user ring model one API call at a time; every method returns the next state first."""

    def __init__(self, config: Config, start: int = 0, checks: tuple[Check, ...] = PEEK_CHECKS) -> None:
        if config.map != "user":
            raise OperationError(f"user ring operations: the config's map is {config.map}, not user")
        self.config = config
        self.start = start
        self.checks = checks
        """The drain's per-sample checks (a conformance mutant may delete one)."""
        self.last_errno = 0
        """The errno of the last refused reserve (E2BIG 7, ENOSPC 28), 0 after a successful one."""
        self.steps: list[tuple[Action, UserState]] | None = None
        """Set to a list to have every protocol step of the following calls appended to it."""

    def _took(self, action: Action, s: UserState) -> UserState:
        if self.steps is not None:
            self.steps.append((action, s))
        return s

    def initial(self) -> UserState:
        """The empty ring: both positions at ``start``, busy word clear, no records yet."""
        return initial_user_state(self.config.ring_size, 0, max(self.config.drains, 1), self.start)

    # ------------------------------------------------------------------ libbpf's producer

    def reserve(self, s: UserState, size: int) -> tuple[UserState, int | None]:
        """user_ring_buffer__reserve, then the application's write of the sample.

        Returns the sample's position (of its header), or None when libbpf
        refuses; ``last_errno`` then says why (E2BIG, ENOSPC). A reservation
        libbpf would make at a misaligned producer_pos (only hostile stores
        leave one) raises OperationError: libbpf writes that header inside a
        word, which the word-granular model cannot hold.
        """
        if not isinstance(size, int) or not 0 <= size <= 0xFFFFFFFF:
            raise OperationError(f"reserve: size {size!r} is not a __u32")
        if s.producer.pc != U_IDLE:
            raise OperationError("reserve: the producer is inside another call")
        rec = s.producer.attempts
        if rec >= MAX_RECORDS:
            raise OperationError(f"reserve: at most {MAX_RECORDS} reservations per scenario")
        if rec >= len(s.records):
            s = s._replace(records=s.records + (Record(),) * (rec + 1 - len(s.records)))
        cfg = self.config
        if s.producer_pos % 8 and not reserve_errno(cfg, size, s.consumer_pos, s.producer_pos):
            raise OperationError(f"reserve: producer_pos {s.producer_pos:#x} is misaligned (a hostile store), so "
                                 f"libbpf would write its header at byte {s.producer_pos % cfg.ring_size:#x}, "
                                 "inside a word; the model's data area is word-granular")
        s = self._took(Action(USER_ACTOR, "user.reserve", (("size", size),)), user_reserve(cfg, s, size))
        errno = reserve_errno(cfg, size, s.producer.cons, s.producer_pos)
        s = self._took(Action(USER_ACTOR, "user.reserve.claim"), user_reserve_claim(cfg, s))
        self.last_errno = errno
        if errno:
            return s, None
        s = self._took(Action(USER_ACTOR, "user.write", (("rec", rec),)), user_write(cfg, s))
        return s, s.records[rec].pos

    def _held_at(self, s: UserState, pos: int, what: str) -> int:
        for rec in s.producer.held:
            if s.records[rec].pos == pos:
                return rec
        raise OperationError(f"{what}: no sample reserved and not yet committed at position {pos:#x}")

    def submit(self, s: UserState, pos: int) -> UserState:
        """user_ring_buffer__submit of the sample reserved at ``pos``."""
        rec = self._held_at(s, pos, "submit")
        return self._took(Action(USER_ACTOR, "user.commit", (("rec", rec), ("discard", 0))),
                          user_commit(self.config, s, rec, False))

    def discard(self, s: UserState, pos: int) -> UserState:
        """user_ring_buffer__discard of the sample reserved at ``pos``."""
        rec = self._held_at(s, pos, "discard")
        return self._took(Action(USER_ACTOR, "user.commit", (("rec", rec), ("discard", 1))),
                          user_commit(self.config, s, rec, True))

    # ------------------------------------------------------------------ hostile user space

    def write_producer_pos(self, s: UserState, value: int) -> UserState:
        """Hostile user space stores ``value`` (any u64) into producer_pos."""
        value &= (1 << 64) - 1
        return self._took(Action(USER_ACTOR, "user.store_prod", (("value", value),)),
                          user_store_prod(self.config, s, value))

    def write_word(self, s: UserState, offset: int, value: int) -> UserState:
        """Hostile user space stores the 8-byte ``value`` at byte ``offset`` of the data area.

        As a header, the low 32 bits are the len word (size | BUSY | DISCARD)
        and the high 32 pg_off, which the drain never reads (not modelled).
        ``offset`` is reduced modulo S (the data area is mapped twice) and
        must be a multiple of 8.
        """
        if offset % 8:
            raise OperationError(f"write_word: offset {offset} is not a multiple of 8")
        slot = (offset & self.config.mask) >> 3
        len_word = value & 0xFFFFFFFF
        return self._took(Action(USER_ACTOR, "user.store_word", (("slot", slot), ("len", len_word))),
                          user_store_word(self.config, s, slot, len_word))

    # ------------------------------------------------------------------ the kernel drain

    def drain(self, s: UserState, flags: int = 0, callback_returns: Sequence[int] = (),
              ) -> tuple[UserState, DrainResult]:
        """bpf_user_ringbuf_drain(flags) by drain 0; the callback's i-th return is ``callback_returns[i]``.

        A return missing from ``callback_returns`` is 0 (go on); 1 stops the loop.
        """
        if any(r not in (0, 1) for r in callback_returns):
            raise OperationError("drain: a callback returns 0 or 1 (the verifier refuses anything else)")
        cfg = self.config
        actor = drain_actor(0)
        refused = begin_result(cfg, s, flags)
        s = self._took(Action(actor, "drain.begin", (("flags", flags),) if flags else ()),
                       drain_begin(cfg, s, 0, flags))
        if refused:
            return s, DrainResult(refused, s.consumer_pos)
        samples: list[tuple[int, int]] = []
        while True:
            dr = s.drains[0]
            if dr.pc == D_END:
                result = DrainResult(drain_return(dr), 0, samples, drain_wakes(dr), dr.discarded)
            if dr.pc == D_CALLBACK:
                ret = callback_returns[len(samples)] if len(samples) < len(callback_returns) else 0
                samples.append((dr.cons, sample_len(dr.len)))
                action, fn, args = next(st for st in drain_steps(cfg, s, 0, self.checks)
                                        if st[2][1:] == (ret,))
            else:
                action, fn, args = drain_steps(cfg, s, 0, self.checks)[0]
            s = self._took(action, fn(cfg, s, *args))
            if s.drains[0].pc == D_IDLE:
                result.consumer_pos = s.consumer_pos
                return s, result

    def observe(self, s: UserState) -> dict:
        """What user space can read: the positions (and the busy word, for the model's own checks)."""
        return {"producer_pos": s.producer_pos, "consumer_pos": s.consumer_pos, "busy": s.busy}

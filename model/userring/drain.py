"""The kernel drain: bpf_user_ringbuf_drain, one sample at a time (__bpf_user_ringbuf_peek).

One function per step of docs/protocol.md#5, each a pure function
``(config, state, drain, ...) -> next state``:

``drain.begin``       flags check (-EINVAL), then atomic_try_cmpxchg of the busy word (-EBUSY)
``drain.load_prod``   smp_load_acquire producer_pos, then the checks of that step
``drain.load_cons``   smp_load_acquire consumer_pos, then the checks of that step
``drain.read_header`` smp_load_acquire the header len, then the checks of that step
``drain.skip_discard`` a DISCARD sample: smp_store_release consumer_pos past it, next iteration
``drain.callback``    the BPF callback sees the sample (returns 0: go on, 1: stop)
``drain.release``     __bpf_user_ringbuf_sample_release: consumer_pos past the sample
``drain.end``         release the busy word; queue the wakeup (irq_work) if asked or if any sample went

The per-sample checks are data: ``PEEK_CHECKS`` lists them in the kernel's
order, each with the step that makes it, the result when it fails and the
test it makes. A drain step runs the checks of its own step from the tuple
it is given (``UserRingModel(checks=...)``), so a test can delete any one and
see which property the kernel loses without it.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from model.actions import Action
from model.config import Config
from model.constants import BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BUSY_BIT, DISCARD_BIT, HDR_SZ, \
    record_length, u64
from model.state import KIND_HEADER, KIND_PAYLOAD, SUBMITTED, payload_word, read_len, slot_kind, slot_owner
from model.steps import ACQUIRE, PLAIN, RELEASE, load, rmw, step, store
from model.userring.memory import UserMem
from model.userring.state import (D_CALLBACK, D_DISCARD, D_END, D_IDLE, D_LOAD_CONS, D_LOAD_PROD, D_READ_HDR,
                                  D_RELEASE, HOSTILE, Advance, Drain, UserState, set_drain)

EINVAL, E2BIG, EBUSY, ENODATA, EAGAIN = 22, 7, 16, 61, 11
DYNPTR_MAX_SIZE = (1 << 24) - 1
"""The largest size a struct bpf_dynptr holds (bpf_dynptr_check_size)."""
WAKEUP_FLAGS = BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP


def drain_actor(d: int) -> str:
    """Actor name of drain ``d``: ``d0``, ``d1``."""
    return f"d{d}"


def sample_len(len_word: int) -> int:
    """The sample size a header len word gives: the flag bits stripped."""
    return len_word & ~(BUSY_BIT | DISCARD_BIT) & 0xFFFFFFFF


def sample_total(len_word: int) -> int:
    """Bytes the sample takes on the ring: header plus payload, rounded up to 8 (32-bit, as the kernel)."""
    return record_length(sample_len(len_word)) & 0xFFFFFFFF


# ------------------------------------------------------------------ the per-sample checks


class Check(NamedTuple):
    """One test __bpf_user_ringbuf_peek makes of a sample, in the kernel's order."""

    name: str
    at: int
    """The program point (drain step) that makes it: D_LOAD_PROD, D_LOAD_CONS or D_READ_HDR."""
    result: int
    """What peek returns when the test fails: -EINVAL or -E2BIG (the drain ends with that error),
    -ENODATA (no sample: the loop ends normally), -EAGAIN (a discarded sample, skipped)."""
    passes: Callable[[Config, Drain], bool]
    doc: str


PEEK_CHECKS: tuple[Check, ...] = (
    Check("producer_pos_aligned", D_LOAD_PROD, -EINVAL, lambda cfg, d: d.prod % 8 == 0,
          "producer_pos must be a multiple of 8"),
    Check("data_available", D_LOAD_CONS, -ENODATA, lambda cfg, d: d.cons < d.prod,
          "no sample when consumer_pos >= producer_pos (unsigned)"),
    Check("fits_advertised", D_READ_HDR, -EINVAL, lambda cfg, d: sample_total(d.len) <= u64(d.prod - d.cons),
          "the sample must lie within what producer_pos advertises"),
    Check("fits_ring", D_READ_HDR, -E2BIG, lambda cfg, d: sample_total(d.len) <= cfg.ring_size,
          "the sample must fit the data area"),
    Check("fits_dynptr", D_READ_HDR, -E2BIG, lambda cfg, d: sample_len(d.len) <= DYNPTR_MAX_SIZE,
          "the size must fit a struct bpf_dynptr"),
    Check("discard_skipped", D_READ_HDR, -EAGAIN, lambda cfg, d: not d.len & DISCARD_BIT,
          "a DISCARD sample is stepped over (checked before BUSY)"),
    Check("busy_stops", D_READ_HDR, -ENODATA, lambda cfg, d: not d.len & BUSY_BIT,
          "a BUSY sample is not ready: the loop ends"),
)
"""Every per-sample check, in the kernel's order (docs/protocol.md#5)."""

CHECK_NAMES = tuple(c.name for c in PEEK_CHECKS)


def without(name: str) -> tuple[Check, ...]:
    """``PEEK_CHECKS`` with the check called ``name`` deleted (KeyError for an unknown name)."""
    if name not in CHECK_NAMES:
        raise KeyError(f"no drain check {name!r}; known: {', '.join(CHECK_NAMES)}")
    return tuple(c for c in PEEK_CHECKS if c.name != name)


def _first_failure(cfg: Config, d: Drain, at: int, checks: tuple[Check, ...]) -> int:
    """The result of the first of ``checks`` made at ``at`` that fails, 0 if all pass."""
    for c in checks:
        if c.at == at and not c.passes(cfg, d):
            return c.result
    return 0


def _after_check(s: UserState, d: int, dr: Drain, failed: int, ok_pc: int) -> UserState:
    """Go on to ``ok_pc``, or act on a failed check: end (error or no data) or skip a discard."""
    if failed == 0:
        return s._replace(drains=set_drain(s, d, dr._replace(pc=ok_pc)))
    if failed == -EAGAIN:
        return s._replace(drains=set_drain(s, d, dr._replace(pc=D_DISCARD)))
    err = 0 if failed == -ENODATA else failed
    return s._replace(drains=set_drain(s, d, dr._replace(pc=D_END, err=err)))


def _next_iteration(cfg: Config, dr: Drain, stop: bool = False) -> Drain:
    """After a sample (handed over or skipped): loop again unless stopped or at the sample limit."""
    samples = dr.samples + 1
    pc = D_END if stop or samples >= cfg.drain_limit else D_LOAD_PROD
    return dr._replace(pc=pc, samples=samples)


# ------------------------------------------------------------------ steps


@step("drain.begin", "drain", "bpf_user_ringbuf_drain (flags check, atomic_try_cmpxchg of rb->busy)",
      "5 drain.begin", (rmw("busy", ACQUIRE),))
def drain_begin(cfg: Config, s: UserState, d: int, flags: int = 0, mem: UserMem | None = None) -> UserState:
    """Refuse unknown flags (-EINVAL, before anything else), then take the busy word (-EBUSY if held).

    A refused call returns at once: the drain stays idle (``drain_outcome``
    of the step's result says what it returned).
    """
    m = UserMem(s) if mem is None else mem
    if flags & ~WAKEUP_FLAGS:
        return m.next()
    if m.rmw("busy", lambda old: 1 if old == 0 else None) != 0:
        return m.next()
    return m.next(drains=set_drain(s, d, Drain(D_LOAD_PROD, flags)))


def begin_result(cfg: Config, s: UserState, flags: int) -> int:
    """What ``drain.begin`` returns at once in ``s`` (-EINVAL, -EBUSY), or 0 when the call goes on."""
    if flags & ~WAKEUP_FLAGS:
        return -EINVAL
    return -EBUSY if s.busy else 0


@step("drain.load_prod", "drain", "__bpf_user_ringbuf_peek (smp_load_acquire producer_pos, alignment)",
      "5 drain.load_prod", (load("producer_pos", ACQUIRE),))
def drain_load_prod(cfg: Config, s: UserState, d: int, checks: tuple[Check, ...] = PEEK_CHECKS,
                    mem: UserMem | None = None) -> UserState:
    """Read producer_pos for this sample."""
    m = UserMem(s) if mem is None else mem
    dr = s.drains[d]._replace(prod=m.load("producer_pos"))
    return _after_check(m.next(), d, dr, _first_failure(cfg, dr, D_LOAD_PROD, checks), D_LOAD_CONS)


@step("drain.load_cons", "drain", "__bpf_user_ringbuf_peek (smp_load_acquire consumer_pos, any data?)",
      "5 drain.load_cons", (load("consumer_pos", ACQUIRE),))
def drain_load_cons(cfg: Config, s: UserState, d: int, checks: tuple[Check, ...] = PEEK_CHECKS,
                    mem: UserMem | None = None) -> UserState:
    """Read consumer_pos for this sample."""
    m = UserMem(s) if mem is None else mem
    dr = s.drains[d]._replace(cons=m.load("consumer_pos"))
    return _after_check(m.next(), d, dr, _first_failure(cfg, dr, D_LOAD_CONS, checks), D_READ_HDR)


@step("drain.read_header", "drain", "__bpf_user_ringbuf_peek (smp_load_acquire the header, size and flag checks)",
      "5 drain.read_header", (load("header.len", ACQUIRE),))
def drain_read_header(cfg: Config, s: UserState, d: int, checks: tuple[Check, ...] = PEEK_CHECKS,
                      mem: UserMem | None = None) -> UserState:
    """Read the len word at consumer_pos & mask and judge the sample."""
    m = UserMem(s) if mem is None else mem
    dr = s.drains[d]
    dr = dr._replace(len=read_len(m.load("header.len", (dr.cons & cfg.mask) >> 3)))
    return _after_check(m.next(), d, dr, _first_failure(cfg, dr, D_READ_HDR, checks), D_CALLBACK)


@step("drain.skip_discard", "drain", "__bpf_user_ringbuf_peek (DISCARD: smp_store_release consumer_pos, -EAGAIN)",
      "5 drain.skip_discard", (store("consumer_pos", RELEASE),))
def drain_skip_discard(cfg: Config, s: UserState, d: int, mem: UserMem | None = None) -> UserState:
    """Step consumer_pos over a discarded sample; the loop goes on (the skip counts toward the limit)."""
    m = UserMem(s) if mem is None else mem
    dr = s.drains[d]
    new = u64(dr.cons + sample_total(dr.len))
    m.store("consumer_pos", new)
    dr = _next_iteration(cfg, dr._replace(discarded=dr.discarded + 1))
    return m.next(drains=set_drain(s, d, dr), last_advance=Advance(dr.cons, dr.cons, new, dr.len, dr.prod))


def sample_identity(cfg: Config, s: UserState, cons: int, size: int) -> tuple[int, bool]:
    """Ghost: (honest record whose header is at ``cons``, or -1; whether the sample is intact).

    Intact: the header is that record's own, the record was submitted, and
    every payload word the callback can see was written by it.
    """
    word = s.slots[(cons & cfg.mask) >> 3]
    if slot_kind(word) != KIND_HEADER or slot_owner(word) == HOSTILE:
        return -1, False
    rec = slot_owner(word)
    if rec >= len(s.records):
        return -1, False
    intact = s.records[rec].status == SUBMITTED and s.records[rec].pos == cons
    want = payload_word(rec)
    for i in range(min((size + 7) // 8, cfg.slots)):
        w = s.slots[((cons + HDR_SZ + 8 * i) & cfg.mask) >> 3]
        if slot_kind(w) != KIND_PAYLOAD or w != want:
            intact = False
    return rec, intact


@step("drain.callback", "drain", "the BPF callback bpf_user_ringbuf_drain calls with the sample's dynptr",
      "5 drain.callback", (load("payload", PLAIN),))
def drain_callback(cfg: Config, s: UserState, d: int, ret: int = 0, mem: UserMem | None = None) -> UserState:
    """The callback reads the sample (ghost: who wrote it, intact?) and returns ``ret`` (0 go on, 1 stop).

    Its payload load is declared as one access; the model notes what it
    sees in the ghost log without a memory access per word. With the hostile
    producer there are no honest samples to log (and the log would only
    make states differ).
    """
    m = UserMem(s) if mem is None else mem
    dr = s.drains[d]
    size = sample_len(dr.len)
    if size:
        m.load("payload", ((dr.cons + HDR_SZ) & cfg.mask) >> 3)
    delivered = s.delivered if cfg.hostile else s.delivered + (sample_identity(cfg, s, dr.cons, size),)
    return m.next(drains=set_drain(s, d, dr._replace(pc=D_RELEASE, stop=bool(ret))), delivered=delivered)


@step("drain.release", "drain", "__bpf_user_ringbuf_sample_release (consumer_pos past the sample)",
      "5 drain.release", (load("consumer_pos", PLAIN), store("consumer_pos", RELEASE)))
def drain_release(cfg: Config, s: UserState, d: int, mem: UserMem | None = None) -> UserState:
    """Re-read consumer_pos (plain: the busy word keeps other drains out) and store it past the sample.

    The sample is consumed whatever the callback returned.
    """
    m = UserMem(s) if mem is None else mem
    dr = s.drains[d]
    old = m.load("consumer_pos")
    new = u64(old + sample_total(sample_len(dr.len)))
    m.store("consumer_pos", new)
    return m.next(drains=set_drain(s, d, _next_iteration(cfg, dr, dr.stop)),
                  last_advance=Advance(dr.cons, old, new, dr.len, dr.prod))


def drain_return(dr: Drain) -> int:
    """What the call returns, decided at ``drain.end``: the error, else the samples handed over."""
    return dr.err if dr.err else dr.samples - dr.discarded


def drain_wakes(dr: Drain) -> bool:
    """Does ``drain.end`` queue irq_work: FORCE_WAKEUP, or any sample went and NO_WAKEUP is not set."""
    return bool(dr.flags & BPF_RB_FORCE_WAKEUP) or (not dr.flags & BPF_RB_NO_WAKEUP and dr.samples > 0)


@step("drain.end", "drain", "bpf_user_ringbuf_drain (smp_mb__before_atomic, atomic_set busy 0, irq_work_queue)",
      "5 drain.end", (store("busy", RELEASE),))
def drain_end(cfg: Config, s: UserState, d: int, mem: UserMem | None = None) -> UserState:
    """Release the busy word; the call returns ``drain_return`` and wakes user space per ``drain_wakes``.

    The wakeup (irq_work for a user producer in epoll) has no actor in this
    model (libbpf's user_ring_buffer__reserve does not wait): its decision is
    a function of the drain's locals, reported by the operations API.
    """
    m = UserMem(s) if mem is None else mem
    m.store("busy", 0)
    return m.next(drains=set_drain(s, d, Drain()))


# ------------------------------------------------------------------ choices


def drain_flag_choices(cfg: Config) -> tuple[int, ...]:
    """The flags a drain call may pass in the explored model."""
    return (0, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP) if cfg.wakeup_flags else (0,)


def drain_steps(cfg: Config, s: UserState, d: int, checks: tuple[Check, ...] = PEEK_CHECKS,
                ) -> list[tuple[Action, Callable, tuple]]:
    """The steps drain ``d`` may take now: (action, step function, arguments after ``cfg, s``)."""
    dr = s.drains[d]
    actor = drain_actor(d)
    pc = dr.pc
    if pc == D_IDLE:
        return [(Action(actor, "drain.begin", (("flags", f),) if f else ()), drain_begin, (d, f))
                for f in drain_flag_choices(cfg)]
    if pc == D_LOAD_PROD:
        return [(Action(actor, "drain.load_prod"), drain_load_prod, (d, checks))]
    if pc == D_LOAD_CONS:
        return [(Action(actor, "drain.load_cons"), drain_load_cons, (d, checks))]
    if pc == D_READ_HDR:
        return [(Action(actor, "drain.read_header"), drain_read_header, (d, checks))]
    if pc == D_DISCARD:
        return [(Action(actor, "drain.skip_discard"), drain_skip_discard, (d,))]
    if pc == D_CALLBACK:
        return [(Action(actor, "drain.callback", (("ret", r),) if r else ()), drain_callback, (d, r))
                for r in (0, 1)]
    if pc == D_RELEASE:
        return [(Action(actor, "drain.release"), drain_release, (d,))]
    return [(Action(actor, "drain.end"), drain_end, (d,))]

"""Producer steps: bpf_ringbuf_reserve, the payload write, bpf_ringbuf_submit/discard.

One function per numbered step of docs/protocol.md#3, each a pure function
``(config, state, producer, choices) -> next state`` (or ``None`` where the
step is not enabled, e.g. a spinning lock). ``producer_successors`` says which
step a producer is at and which choices it has.
"""

from __future__ import annotations

from typing import Callable

from model.actions import Action, producer_actor
from model.config import Config
from model.constants import (BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BUSY_BIT, DISCARD_BIT,
                             MAX_RECORD_SZ, distance, record_length, wrap)
from model.state import (evolve, BUSY, DISCARDED, FAILED, KIND_HEADER, P_CLAIM, P_IDLE, P_LOAD_CONS,
                         P_LOCK, P_OVER_CLAIM, P_OVER_SCAN, P_SCAN, P_WAKEUP, P_WRITE, SUBMITTED, Producer, Record, State,
                         header_word, payload_word, read_len, slot_kind, slot_owner)
from model.shared import Direct, WeakMemory
from model.steps import ACQUIRE, PLAIN, RELEASE, XCHG, load, rmw, step, store
from model.variants import RQSPINLOCK


def _set_producer(s: State, p: int, pr: Producer) -> tuple[Producer, ...]:
    ps = list(s.producers)
    ps[p] = pr
    return tuple(ps)


def _set_record(s: State, r: int, rec: Record) -> tuple[Record, ...]:
    rs = list(s.records)
    rs[r] = rec
    return tuple(rs)


def _idle(pr: Producer, attempts: int | None = None) -> Producer:
    """Back between helper calls: dead locals are cleared so equal situations are equal states."""
    return Producer(P_IDLE, pr.attempts if attempts is None else attempts, held=pr.held)


def _fail_reservation(s: State, p: int, pr: Producer, mem: Direct | None = None) -> State:
    """Reserve returned NULL: the attempt is used up, the program goes on (with ``mem``'s stores, if any)."""
    m = Direct(s) if mem is None else mem
    return m.next(
        records=_set_record(s, pr.cur, Record(FAILED, 0, pr.size, -1)),
        producers=_set_producer(s, p, _idle(pr, pr.attempts + 1)),
    )


def refused_early(cfg: Config, size: int, flags: int = 0) -> bool:
    """Reserve step 0: does the helper return NULL before touching the ring?"""
    if flags != 0 or size > MAX_RECORD_SZ:
        return True
    return cfg.checks_record_size and record_length(size) > cfg.ring_size


# ------------------------------------------------------------------ reserve


@step("reserve.check", "producer", "bpf_ringbuf_reserve / __bpf_ringbuf_reserve (argument checks)",
      "3 reserve.0")
def reserve_check(cfg: Config, s: State, p: int, size: int, nmi: bool = False, flags: int = 0,
                  mem: Direct | None = None) -> State:
    """Start a reservation of ``size`` bytes; refuse bad flags, huge sizes and (v5.13+) records longer than the ring.

    The explored model always passes ``flags=0``; other values exist for
    conformance scripts, where the kernel must refuse them.
    """
    pr = s.producers[p]
    rec = p * cfg.records + pr.attempts
    started = evolve(pr, pc=P_LOAD_CONS, cur=rec, size=size, nmi=bool(nmi))
    if refused_early(cfg, size, flags):
        return _fail_reservation(s, p, started, mem)
    return (Direct(s) if mem is None else mem).next(producers=_set_producer(s, p, started))


@step("reserve.load_cons", "producer", "__bpf_ringbuf_reserve (smp_load_acquire consumer_pos)",
      "3 reserve.1", (load("consumer_pos", ACQUIRE),))
def reserve_load_cons(cfg: Config, s: State, p: int, mem: Direct | None = None) -> State:
    """Read consumer_pos once, before the lock; user space may change it right after."""
    m = Direct(s) if mem is None else mem
    pr = s.producers[p]
    return m.next(producers=_set_producer(s, p, evolve(pr, pc=P_LOCK, cons=m.load("consumer_pos"))))


def lock_fails_when_held(cfg: Config, nmi: bool) -> bool:
    """Does a reservation that finds the lock held get NULL (True) rather than wait for it (False)?

    ``SPINLOCK`` (up to v6.14): only in NMI context, where the kernel tries the
    lock once (spin_trylock). ``RQSPINLOCK`` (v6.15, a650d38915c1): there is no
    trylock any more; an NMI reservation that interrupted the holder on its own
    CPU finds the lock in that CPU's table of held locks and fails with
    -EDEADLK (the AA check; the holder cannot run until the NMI returns, so
    nothing else happens on that CPU meanwhile and the model makes it one
    step), while a reservation on another CPU spins. The model does not fix the
    CPU an NMI lands on: when an NMI reservation finds the lock held, it may
    have interrupted the holder (it fails) or be on another CPU (it waits, the
    step not taken). With ``lock_timeout`` any waiting reservation may also
    give up, as the kernel does after 250 ms (-ETIMEDOUT).
    """
    if cfg.rules.lock == RQSPINLOCK:
        return nmi or cfg.lock_timeout
    return nmi


@step("reserve.lock", "producer", "__bpf_ringbuf_reserve (spin_lock / spin_trylock in NMI)",
      "3 reserve.2", (rmw("spinlock", ACQUIRE), load("producer_pos"), load("pending_pos")))
def reserve_lock(cfg: Config, s: State, p: int, mem: Direct | None = None) -> State | None:
    """Take the spinlock (an NMI reservation only tries: NULL if held), read producer_pos and pending_pos.

    That is the spinlock of v5.8 to v6.14; what a held lock does under v6.15's
    rqspinlock is ``lock_fails_when_held``'s to say.
    """
    m = Direct(s) if mem is None else mem
    pr = s.producers[p]
    if m.rmw("spinlock", lambda holder: p if holder == -1 else None) != -1:
        return _fail_reservation(s, p, pr, m) if lock_fails_when_held(cfg, pr.nmi) else None
    prod = m.load("producer_pos")
    pend = m.load("pending_pos") if cfg.has_pending else 0
    scan = cfg.has_pending and pend < prod
    pr = evolve(pr, pc=P_SCAN if scan else P_CLAIM, prod=prod, pend=pend)
    return m.next(producers=_set_producer(s, p, pr))


@step("reserve.scan", "producer", "__bpf_ringbuf_reserve (pending_pos loop, v6.10+)",
      "3 reserve.3", (load("header.len", PLAIN),))
def reserve_scan(cfg: Config, s: State, p: int, mem: Direct | None = None) -> State:
    """Read one header at pending: stop at a BUSY record, else step pending past it."""
    m = Direct(s) if mem is None else mem
    pr = s.producers[p]
    hdr_len = read_len(m.load("header.len", (pr.pend & cfg.mask) >> 3))
    if hdr_len & BUSY_BIT:
        pr = evolve(pr, pc=P_CLAIM)
    else:
        pend = wrap(pr.pend + record_length(hdr_len & ~DISCARD_BIT), cfg.position_bits)
        pr = evolve(pr, pc=P_SCAN if pend < pr.prod else P_CLAIM, pend=pend)
    return m.next(producers=_set_producer(s, p, pr))


@step("reserve.claim", "producer", "__bpf_ringbuf_reserve (space check, header, producer_pos, unlock)",
      "3 reserve.4", (store("pending_pos"), store("header", PLAIN),
                      store("producer_pos", RELEASE), store("spinlock", RELEASE)))
def reserve_claim(cfg: Config, s: State, p: int, mem: Direct | None = None) -> State:
    """Check for space against consumer_pos (and pending_pos); write the BUSY header and publish producer_pos.

    The stores in the kernel's order: pending_pos, the header, producer_pos
    (release), the unlock (release); a refused reservation stores pending_pos
    and unlocks.
    """
    m = Direct(s) if mem is None else mem
    pr = s.producers[p]
    new_prod = wrap(pr.prod + record_length(pr.size), cfg.position_bits)
    if cfg.has_pending:
        m.store("pending_pos", pr.pend)
    if distance(new_prod, pr.cons, cfg.position_bits) > cfg.mask or (
            cfg.has_pending and distance(new_prod, pr.pend, cfg.position_bits) > cfg.mask):
        m.store("spinlock", -1)
        return _fail_reservation(s, p, pr, m)
    m.store("header", header_word(pr.cur, pr.size | BUSY_BIT), (pr.prod & cfg.mask) >> 3)
    m.store("producer_pos", new_prod)
    m.store("spinlock", -1)
    seq = sum(1 for r in s.records if r.status >= BUSY)
    return m.next(
        records=_set_record(s, pr.cur, Record(BUSY, pr.prod, pr.size, seq)),
        producers=_set_producer(s, p, Producer(P_WRITE, pr.attempts + 1, cur=pr.cur,
                                               held=pr.held + (pr.cur,))),
    )


# ------------------------------------------------------------------ reserve, overwrite mode
#
# BPF_F_RB_OVERWRITE (feeaf1346f80): after the pending scan, the space check is against
# pending_pos only; then, still under the lock, overwrite_pos is moved past the oldest
# committed records until the new record fits, one header read per step, and is
# published (WRITE_ONCE) before the header and producer_pos.


def _overwrite_next(cfg: Config, pr: Producer, over: int) -> Producer:
    """Scan on while the new record does not fit between ``over`` and its end, else claim."""
    new_prod = wrap(pr.prod + record_length(pr.size), cfg.position_bits)
    return evolve(pr, pc=P_OVER_SCAN if distance(new_prod, over, cfg.position_bits) > cfg.mask else P_OVER_CLAIM, over=over)


@step("reserve.room", "producer", "__bpf_ringbuf_reserve (bpf_ringbuf_has_space, overwrite mode)",
      "7 overwrite reserve.4", (store("pending_pos"), store("spinlock", RELEASE), load("overwrite_pos")))
def reserve_room(cfg: Config, s: State, p: int, mem: Direct | None = None) -> State:
    """Store pending_pos and check space against it alone (consumer_pos is ignored); then read overwrite_pos.

    A refused reservation unlocks and returns NULL, as in reserve.claim.
    overwrite_pos is only written under the lock, so reading it here, in
    the same step, races with nothing but the consumer's reads.
    """
    m = Direct(s) if mem is None else mem
    pr = s.producers[p]
    m.store("pending_pos", pr.pend)
    if distance(wrap(pr.prod + record_length(pr.size), cfg.position_bits), pr.pend, cfg.position_bits) > cfg.mask:
        m.store("spinlock", -1)
        return _fail_reservation(s, p, pr, m)
    over = m.load("overwrite_pos")
    return m.next(producers=_set_producer(s, p, _overwrite_next(cfg, pr, over)))


@step("reserve.overwrite_scan", "producer", "__bpf_ringbuf_reserve (overwrite_pos loop)",
      "7 overwrite reserve.5", (load("header.len", PLAIN),))
def reserve_overwrite_scan(cfg: Config, s: State, p: int, mem: Direct | None = None) -> State:
    """Read the header at overwrite_pos and step past that record (its DISCARD bit dropped, BUSY not).

    The kernel relies on the pending_pos check for the record not to be
    BUSY; the model reads whatever is there, and ``busy_not_overwritten``
    says whether that reliance holds.
    """
    m = Direct(s) if mem is None else mem
    pr = s.producers[p]
    hdr_len = read_len(m.load("header.len", (pr.over & cfg.mask) >> 3))
    over = wrap(pr.over + record_length(hdr_len & ~DISCARD_BIT), cfg.position_bits)
    return m.next(producers=_set_producer(s, p, _overwrite_next(cfg, pr, over)))


@step("reserve.overwrite_claim", "producer",
      "__bpf_ringbuf_reserve (WRITE_ONCE overwrite_pos, header, producer_pos, unlock)",
      "7 overwrite reserve.6", (store("overwrite_pos"), store("header", PLAIN),
                                store("producer_pos", RELEASE), store("spinlock", RELEASE)))
def reserve_overwrite_claim(cfg: Config, s: State, p: int, mem: Direct | None = None) -> State:
    """Publish overwrite_pos, write the BUSY header, publish producer_pos (release), unlock."""
    m = Direct(s) if mem is None else mem
    pr = s.producers[p]
    m.store("overwrite_pos", pr.over)
    m.store("header", header_word(pr.cur, pr.size | BUSY_BIT), (pr.prod & cfg.mask) >> 3)
    m.store("producer_pos", wrap(pr.prod + record_length(pr.size), cfg.position_bits))
    m.store("spinlock", -1)
    seq = sum(1 for r in s.records if r.status >= BUSY)
    return m.next(
        records=_set_record(s, pr.cur, Record(BUSY, pr.prod, pr.size, seq)),
        producers=_set_producer(s, p, Producer(P_WRITE, pr.attempts + 1, cur=pr.cur,
                                               held=pr.held + (pr.cur,))),
    )


# ------------------------------------------------------------------ payload


@step("write", "producer", "the BPF program storing its sample through the reserved pointer",
      "3 write", (store("payload", PLAIN),))
def write_payload(cfg: Config, s: State, p: int, mem: Direct | None = None) -> State:
    """Write the payload after the header, wrapping modulo S (a v5.8 record longer than S hits its own header)."""
    m = Direct(s) if mem is None else mem
    pr = s.producers[p]
    rec = s.records[pr.cur]
    words = min((rec.size + 7) // 8, cfg.slots)
    word = payload_word(pr.cur)
    for i in range(words):
        m.store("payload", word, ((rec.pos + 8 + 8 * i) & cfg.mask) >> 3)
    return m.next(producers=_set_producer(s, p, _idle(pr)))


# ------------------------------------------------------------------ commit


@step("commit.xchg", "producer", "bpf_ringbuf_commit via bpf_ringbuf_submit / bpf_ringbuf_discard (xchg len)",
      "3 commit.1", (rmw("header.len", XCHG),))
def commit_xchg(cfg: Config, s: State, p: int, rec: int, discard: bool = False, flags: int = 0,
                mem: Direct | None = None) -> State:
    """Clear BUSY (and set DISCARD) in the record's header with one atomic exchange."""
    m = Direct(s) if mem is None else mem
    pr = s.producers[p]

    def committed(word: int) -> int:
        new_len = (read_len(word) ^ BUSY_BIT) | (DISCARD_BIT if discard else 0)
        return header_word(slot_owner(word) if slot_kind(word) == KIND_HEADER else rec, new_len)

    m.rmw("header.len", committed, (s.records[rec].pos & cfg.mask) >> 3)
    r = s.records[rec]
    return m.next(
        records=_set_record(s, rec, evolve(r, status=DISCARDED if discard else SUBMITTED)),
        producers=_set_producer(s, p, evolve(
            pr,
            pc=P_WAKEUP, cur=rec, flags=flags, held=tuple(h for h in pr.held if h != rec))),
    )


@step("commit.wakeup", "producer", "bpf_ringbuf_commit (wakeup decision, irq_work_queue)",
      "3 commit.2", (load("consumer_pos", ACQUIRE), store("irq_work")))
def commit_wakeup(cfg: Config, s: State, p: int, mem: Direct | None = None) -> State:
    """Queue the consumer wakeup if forced, or if the consumer waits at this very record.

    The consumer_pos load is always made (the kernel reads it before testing
    the flags). Queueing irq_work is an SC event (``model.overrides.SC_EVENTS``),
    made even when the work is already pending (irq_work_queue's atomic still runs).
    """
    m = Direct(s) if mem is None else mem
    pr = s.producers[p]
    at_record = (m.load("consumer_pos") & cfg.mask) == (s.records[pr.cur].pos & cfg.mask)
    wake = bool(pr.flags & BPF_RB_FORCE_WAKEUP) or (at_record and not pr.flags & BPF_RB_NO_WAKEUP)
    if wake and cfg.honest:
        m.event("irq_work")
        return m.next(producers=_set_producer(s, p, _idle(pr)), irq_pending=True)
    return m.next(producers=_set_producer(s, p, _idle(pr)))


# ------------------------------------------------------------------ choices


def commit_choices(cfg: Config) -> list[tuple[bool, int]]:
    """(discard, flags) pairs a commit may use in this configuration."""
    discards = (False, True) if cfg.discard else (False,)
    flags = (0, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP) if cfg.wakeup_flags else (0,)
    return [(d, f) for d in discards for f in flags]


def producer_done(cfg: Config, pr: Producer) -> bool:
    """All attempts used and every reservation committed."""
    return pr.pc == P_IDLE and pr.attempts == cfg.records and not pr.held


def producer_steps(cfg: Config, s: State, p: int) -> list[tuple[Action, Callable, tuple]]:
    """The steps producer ``p`` may take now: (action, step function, its arguments after ``cfg, s``)."""
    pr = s.producers[p]
    actor = producer_actor(p)
    pc = pr.pc
    if pc == P_IDLE:
        out: list[tuple[Action, Callable, tuple]] = []
        if pr.attempts < cfg.records and len(pr.held) < cfg.hold:
            for size in cfg.sizes:
                for nmi in ((False, True) if cfg.nmi else (False,)):
                    args = (("size", size), ("nmi", 1)) if nmi else (("size", size),)
                    out.append((Action(actor, "reserve.check", args), reserve_check, (p, size, nmi)))
        for rec in pr.held:
            for discard, flags in commit_choices(cfg):
                out.append((Action(actor, "commit.xchg",
                                   (("rec", rec), ("discard", int(discard)), ("flags", flags))),
                            commit_xchg, (p, rec, discard, flags)))
        return out
    if pc == P_WRITE:
        return [(Action(actor, "write", (("rec", pr.cur),)), write_payload, (p,))]
    name, fn = (_OVERWRITE_STEP_AT if cfg.rules.overwrite else _STEP_AT)[pc]
    return [(Action(actor, name), _GLOBALS[fn], (p,))]


_STEP_AT = {
    P_LOAD_CONS: ("reserve.load_cons", "reserve_load_cons"),
    P_LOCK: ("reserve.lock", "reserve_lock"),
    P_SCAN: ("reserve.scan", "reserve_scan"),
    P_CLAIM: ("reserve.claim", "reserve_claim"),
    P_WAKEUP: ("commit.wakeup", "commit_wakeup"),
}
"""Program point to (step name, step function's name): looked up by name, so a test can patch a step."""
_OVERWRITE_STEP_AT = _STEP_AT | {
    P_CLAIM: ("reserve.room", "reserve_room"),
    P_OVER_SCAN: ("reserve.overwrite_scan", "reserve_overwrite_scan"),
    P_OVER_CLAIM: ("reserve.overwrite_claim", "reserve_overwrite_claim"),
}
"""The same in overwrite mode (``Rules.overwrite``): the space check and claim of section 7."""
_GLOBALS = globals()
_ACTOR_NAMES = [producer_actor(p) for p in range(8)]


def producer_successors(cfg: Config, s: State, p: int, weak: WeakMemory | None = None) -> list[tuple[Action, State]]:
    """Every step producer ``p`` can take now, with the state it leads to (through ``weak`` if given).

    The sc path repeats ``producer_steps``'s choice of steps inline: it is the
    explorer's hottest loop, and sc must not pay for weak memory.
    """
    if weak is not None:
        out: list[tuple[Action, State]] = []
        for action, fn, args in producer_steps(cfg, s, p):
            out.extend(weak.outcomes(s, p, action, fn, args))
        return out
    pr = s.producers[p]
    pc = pr.pc
    if pc == P_IDLE:
        actor = _ACTOR_NAMES[p]
        out = []
        if pr.attempts < cfg.records and len(pr.held) < cfg.hold:
            for size in cfg.sizes:
                for nmi in ((False, True) if cfg.nmi else (False,)):
                    args = (("size", size), ("nmi", 1)) if nmi else (("size", size),)
                    out.append((Action(actor, "reserve.check", args), reserve_check(cfg, s, p, size, nmi)))
        for rec in pr.held:
            for discard, flags in commit_choices(cfg):
                out.append((Action(actor, "commit.xchg", (("rec", rec), ("discard", int(discard)), ("flags", flags))),
                            commit_xchg(cfg, s, p, rec, discard, flags)))
        return out
    if pc == P_WRITE:
        return [(Action(_ACTOR_NAMES[p], "write", (("rec", pr.cur),)), write_payload(cfg, s, p))]
    name, fn = (_OVERWRITE_STEP_AT if cfg.rules.overwrite else _STEP_AT)[pc]
    nxt = _GLOBALS[fn](cfg, s, p)
    return [] if nxt is None else [(Action(_ACTOR_NAMES[p], name), nxt)]

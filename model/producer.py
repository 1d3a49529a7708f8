"""Producer steps: bpf_ringbuf_reserve, the payload write, bpf_ringbuf_submit/discard.

One function per numbered step of docs/protocol.md#3, each a pure function
``(config, state, producer, choices) -> next state`` (or ``None`` where the
step is not enabled, e.g. a spinning lock). ``producer_successors`` says which
step a producer is at and which choices it has.
"""

from __future__ import annotations

from model.actions import Action, producer_actor
from model.config import Config
from model.constants import (BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BUSY_BIT, DISCARD_BIT,
                             MAX_RECORD_SZ, distance, record_length, u64)
from model.state import (evolve, BUSY, DISCARDED, FAILED, KIND_HEADER, P_CLAIM, P_IDLE, P_LOAD_CONS,
                         P_LOCK, P_SCAN, P_WAKEUP, P_WRITE, SUBMITTED, Producer, Record, State,
                         header_word, payload_word, read_len, slot_kind, slot_owner)
from model.steps import ACQUIRE, PLAIN, RELEASE, XCHG, load, rmw, step, store


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


def _fail_reservation(s: State, p: int, pr: Producer, **shared: object) -> State:
    """Reserve returned NULL: the attempt is used up, the program goes on."""
    return evolve(
        s,
        records=_set_record(s, pr.cur, Record(FAILED, 0, pr.size, -1)),
        producers=_set_producer(s, p, _idle(pr, pr.attempts + 1)),
        **shared,
    )


def refused_early(cfg: Config, size: int, flags: int = 0) -> bool:
    """Reserve step 0: does the helper return NULL before touching the ring?"""
    if flags != 0 or size > MAX_RECORD_SZ:
        return True
    return cfg.checks_record_size and record_length(size) > cfg.ring_size


# ------------------------------------------------------------------ reserve


@step("reserve.check", "producer", "bpf_ringbuf_reserve / __bpf_ringbuf_reserve (argument checks)",
      "3 reserve.0")
def reserve_check(cfg: Config, s: State, p: int, size: int, nmi: bool = False, flags: int = 0) -> State:
    """Start a reservation of ``size`` bytes; refuse bad flags, huge sizes and (v5.13+) records longer than the ring.

    The explored model always passes ``flags=0``; other values exist for
    conformance scripts, where the kernel must refuse them.
    """
    pr = s.producers[p]
    rec = p * cfg.records + pr.attempts
    started = evolve(pr, pc=P_LOAD_CONS, cur=rec, size=size, nmi=bool(nmi))
    if refused_early(cfg, size, flags):
        return _fail_reservation(s, p, started)
    return evolve(s, producers=_set_producer(s, p, started))


@step("reserve.load_cons", "producer", "__bpf_ringbuf_reserve (smp_load_acquire consumer_pos)",
      "3 reserve.1", (load("consumer_pos", ACQUIRE),))
def reserve_load_cons(cfg: Config, s: State, p: int) -> State:
    """Read consumer_pos once, before the lock; user space may change it right after."""
    pr = s.producers[p]
    return evolve(s, producers=_set_producer(s, p, evolve(pr, pc=P_LOCK, cons=s.consumer_pos)))


@step("reserve.lock", "producer", "__bpf_ringbuf_reserve (spin_lock / spin_trylock in NMI)",
      "3 reserve.2", (rmw("spinlock", ACQUIRE), load("producer_pos"), load("pending_pos")))
def reserve_lock(cfg: Config, s: State, p: int) -> State | None:
    """Take the spinlock (an NMI reservation only tries: NULL if held), read producer_pos and pending_pos."""
    pr = s.producers[p]
    if s.lock != -1:
        return _fail_reservation(s, p, pr) if pr.nmi else None
    pend = s.pending_pos if cfg.has_pending else 0
    scan = cfg.has_pending and pend < s.producer_pos
    pr = evolve(pr, pc=P_SCAN if scan else P_CLAIM, prod=s.producer_pos, pend=pend)
    return evolve(s, lock=p, producers=_set_producer(s, p, pr))


@step("reserve.scan", "producer", "__bpf_ringbuf_reserve (pending_pos loop, v6.10+)",
      "3 reserve.3", (load("header.len", PLAIN),))
def reserve_scan(cfg: Config, s: State, p: int) -> State:
    """Read one header at pending: stop at a BUSY record, else step pending past it."""
    pr = s.producers[p]
    hdr_len = read_len(s.slots[(pr.pend & cfg.mask) >> 3])
    if hdr_len & BUSY_BIT:
        pr = evolve(pr, pc=P_CLAIM)
    else:
        pend = u64(pr.pend + record_length(hdr_len & ~DISCARD_BIT))
        pr = evolve(pr, pc=P_SCAN if pend < pr.prod else P_CLAIM, pend=pend)
    return evolve(s, producers=_set_producer(s, p, pr))


@step("reserve.claim", "producer", "__bpf_ringbuf_reserve (space check, header, producer_pos, unlock)",
      "3 reserve.4", (store("pending_pos"), store("header", PLAIN),
                      store("producer_pos", RELEASE), store("spinlock", RELEASE)))
def reserve_claim(cfg: Config, s: State, p: int) -> State:
    """Check for space against consumer_pos (and pending_pos); write the BUSY header and publish producer_pos."""
    pr = s.producers[p]
    new_prod = u64(pr.prod + record_length(pr.size))
    shared: dict[str, object] = {"lock": -1}
    if cfg.has_pending:
        shared["pending_pos"] = pr.pend
    if distance(new_prod, pr.cons) > cfg.mask or (
            cfg.has_pending and distance(new_prod, pr.pend) > cfg.mask):
        return _fail_reservation(s, p, pr, **shared)
    slots = list(s.slots)
    slots[(pr.prod & cfg.mask) >> 3] = header_word(pr.cur, pr.size | BUSY_BIT)
    seq = sum(1 for r in s.records if r.status >= BUSY)
    return evolve(
        s,
        producer_pos=new_prod,
        slots=tuple(slots),
        records=_set_record(s, pr.cur, Record(BUSY, pr.prod, pr.size, seq)),
        producers=_set_producer(s, p, Producer(P_WRITE, pr.attempts + 1, cur=pr.cur,
                                               held=pr.held + (pr.cur,))),
        **shared,
    )


# ------------------------------------------------------------------ payload


@step("write", "producer", "the BPF program storing its sample through the reserved pointer",
      "3 write", (store("payload", PLAIN),))
def write_payload(cfg: Config, s: State, p: int) -> State:
    """Write the payload after the header, wrapping modulo S (a v5.8 record longer than S hits its own header)."""
    pr = s.producers[p]
    rec = s.records[pr.cur]
    words = min((rec.size + 7) // 8, cfg.slots)
    slots = list(s.slots)
    word = payload_word(pr.cur)
    for i in range(words):
        slots[((rec.pos + 8 + 8 * i) & cfg.mask) >> 3] = word
    return evolve(s, slots=tuple(slots), producers=_set_producer(s, p, _idle(pr)))


# ------------------------------------------------------------------ commit


@step("commit.xchg", "producer", "bpf_ringbuf_commit via bpf_ringbuf_submit / bpf_ringbuf_discard (xchg len)",
      "3 commit.1", (rmw("header.len", XCHG),))
def commit_xchg(cfg: Config, s: State, p: int, rec: int, discard: bool = False, flags: int = 0) -> State:
    """Clear BUSY (and set DISCARD) in the record's header with one atomic exchange."""
    pr = s.producers[p]
    idx = (s.records[rec].pos & cfg.mask) >> 3
    word = s.slots[idx]
    new_len = (read_len(word) ^ BUSY_BIT) | (DISCARD_BIT if discard else 0)
    owner = slot_owner(word) if slot_kind(word) == KIND_HEADER else rec
    slots = list(s.slots)
    slots[idx] = header_word(owner, new_len)
    r = s.records[rec]
    return evolve(
        s,
        slots=tuple(slots),
        records=_set_record(s, rec, evolve(r, status=DISCARDED if discard else SUBMITTED)),
        producers=_set_producer(s, p, evolve(
            pr,
            pc=P_WAKEUP, cur=rec, flags=flags, held=tuple(h for h in pr.held if h != rec))),
    )


@step("commit.wakeup", "producer", "bpf_ringbuf_commit (wakeup decision, irq_work_queue)",
      "3 commit.2", (load("consumer_pos", ACQUIRE), store("irq_work")))
def commit_wakeup(cfg: Config, s: State, p: int) -> State:
    """Queue the consumer wakeup if forced, or if the consumer waits at this very record."""
    pr = s.producers[p]
    at_record = (s.consumer_pos & cfg.mask) == (s.records[pr.cur].pos & cfg.mask)
    wake = bool(pr.flags & BPF_RB_FORCE_WAKEUP) or (at_record and not pr.flags & BPF_RB_NO_WAKEUP)
    nxt = evolve(s, producers=_set_producer(s, p, _idle(pr)))
    if wake and cfg.honest and not s.irq_pending:
        nxt = evolve(nxt, irq_pending=True)
    return nxt


# ------------------------------------------------------------------ choices


def commit_choices(cfg: Config) -> list[tuple[bool, int]]:
    """(discard, flags) pairs a commit may use in this configuration."""
    discards = (False, True) if cfg.discard else (False,)
    flags = (0, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP) if cfg.wakeup_flags else (0,)
    return [(d, f) for d in discards for f in flags]


def producer_done(cfg: Config, pr: Producer) -> bool:
    """All attempts used and every reservation committed."""
    return pr.pc == P_IDLE and pr.attempts == cfg.records and not pr.held


def producer_successors(cfg: Config, s: State, p: int) -> list[tuple[Action, State]]:
    """Every step producer ``p`` can take now, with the state it leads to."""
    pr = s.producers[p]
    actor = producer_actor(p)
    pc = pr.pc
    if pc == P_IDLE:
        out: list[tuple[Action, State]] = []
        if pr.attempts < cfg.records and len(pr.held) < cfg.hold:
            for size in cfg.sizes:
                for nmi in ((False, True) if cfg.nmi else (False,)):
                    args = (("size", size), ("nmi", 1)) if nmi else (("size", size),)
                    out.append((Action(actor, "reserve.check", args),
                                reserve_check(cfg, s, p, size, nmi)))
        for rec in pr.held:
            for discard, flags in commit_choices(cfg):
                out.append((Action(actor, "commit.xchg",
                                   (("rec", rec), ("discard", int(discard)), ("flags", flags))),
                            commit_xchg(cfg, s, p, rec, discard, flags)))
        return out
    if pc == P_LOAD_CONS:
        return [(Action(actor, "reserve.load_cons"), reserve_load_cons(cfg, s, p))]
    if pc == P_LOCK:
        nxt = reserve_lock(cfg, s, p)
        return [] if nxt is None else [(Action(actor, "reserve.lock"), nxt)]
    if pc == P_SCAN:
        return [(Action(actor, "reserve.scan"), reserve_scan(cfg, s, p))]
    if pc == P_CLAIM:
        return [(Action(actor, "reserve.claim"), reserve_claim(cfg, s, p))]
    if pc == P_WRITE:
        return [(Action(actor, "write", (("rec", pr.cur),)), write_payload(cfg, s, p))]
    if pc == P_WAKEUP:
        return [(Action(actor, "commit.wakeup"), commit_wakeup(cfg, s, p))]
    raise AssertionError(f"producer {p} at unknown pc {pc}")

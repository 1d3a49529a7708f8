"""libbpf's user producer: user_ring_buffer__reserve, the sample write, __submit / __discard.

One function per step of docs/protocol.md#5 (``user.reserve``,
``user.reserve.claim``, ``user.write``, ``user.commit``), each a pure function
``(config, state, choices) -> next state``. libbpf's producer is
single-threaded (one ``user`` actor); unlike a kernel producer it may fill
the ring completely (``producer_pos - consumer_pos == S``), and it refuses
sizes carrying the BUSY or DISCARD bit. A refused reservation uses up one of
the producer's attempts, as a NULL kernel reservation does.
"""

from __future__ import annotations

from typing import Callable

from model.actions import Action
from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT, HDR_SZ, u64
from model.state import BUSY, DISCARDED, FAILED, KIND_HEADER, SUBMITTED, Record, header_word, payload_word, \
    read_len, slot_kind, slot_owner
from model.steps import ACQUIRE, PLAIN, RELEASE, XCHG, load, rmw, step, store
from model.userring.memory import UserMem
from model.userring.state import U_CLAIM, U_IDLE, U_WRITE, UserProducer, UserState, set_record

USER_ACTOR = "app"
"""The user-space application: libbpf's producer, or hostile user space (actions ``app.user.reserve``...)."""
E2BIG, ENOSPC = 7, 28


def user_total_size(size: int) -> int:
    """libbpf's rounded sample size: header plus payload, up to a multiple of 8, in 32-bit arithmetic."""
    return ((size + HDR_SZ + 7) // 8 * 8) & 0xFFFFFFFF


def reserve_errno(cfg: Config, size: int, cons: int, prod: int) -> int:
    """0 if libbpf reserves ``size`` bytes at ``prod`` with consumer_pos ``cons``, else the errno it sets.

    E2BIG for a size carrying a flag bit or a sample larger than the ring;
    ENOSPC when the free space (32-bit, ``S - (prod - cons)``) is short.
    """
    if size & (BUSY_BIT | DISCARD_BIT) or size > 0xFFFFFFFF:
        return E2BIG
    total = user_total_size(size)
    if total > cfg.ring_size:
        return E2BIG
    avail = (cfg.ring_size - ((prod - cons) & ((1 << 64) - 1))) & 0xFFFFFFFF
    return ENOSPC if avail < total else 0


def _failed(s: UserState, pr: UserProducer) -> UserState:
    """Reserve returned NULL: the attempt is used, the producer goes on."""
    return s._replace(records=set_record(s, pr.cur, Record(FAILED, 0, pr.size, -1)),
                      producer=UserProducer(U_IDLE, pr.attempts + 1, held=pr.held, writes=pr.writes))


@step("user.reserve", "user", "user_ring_buffer__reserve (flag-bit check, smp_load_acquire consumer_pos)",
      "5 user.reserve", (load("consumer_pos", ACQUIRE),))
def user_reserve(cfg: Config, s: UserState, size: int, mem: UserMem | None = None) -> UserState:
    """Start reserving ``size`` bytes: read consumer_pos (the drain may move it right after)."""
    m = UserMem(s) if mem is None else mem
    pr = s.producer
    started = UserProducer(U_CLAIM, pr.attempts, cur=pr.attempts, size=size, held=pr.held, writes=pr.writes)
    cons = m.load("consumer_pos")
    return m.next(producer=started._replace(cons=cons))


@step("user.reserve.claim", "user",
      "user_ring_buffer__reserve (producer_pos, size and space checks, BUSY header, smp_store_release)",
      "5 user.reserve.claim", (load("producer_pos", ACQUIRE), store("header", PLAIN),
                               store("producer_pos", RELEASE)))
def user_reserve_claim(cfg: Config, s: UserState, mem: UserMem | None = None) -> UserState:
    """Read producer_pos; refuse (E2BIG, ENOSPC) or write the BUSY header (pad 0) and publish producer_pos.

    The record's ghost ``seq`` is the reservation's order among successful ones.
    """
    m = UserMem(s) if mem is None else mem
    pr = s.producer
    prod = m.load("producer_pos")
    if reserve_errno(cfg, pr.size, pr.cons, prod):
        return _failed(m.next(), pr)
    m.store("header", header_word(pr.cur, pr.size | BUSY_BIT), (prod & cfg.mask) >> 3)
    m.store("producer_pos", u64(prod + user_total_size(pr.size)))
    seq = sum(1 for r in s.records if r.status >= BUSY)
    return m.next(records=set_record(s, pr.cur, Record(BUSY, prod, pr.size, seq)),
                  producer=UserProducer(U_WRITE, pr.attempts + 1, cur=pr.cur, held=pr.held + (pr.cur,),
                                           writes=pr.writes))


@step("user.write", "user", "the application filling the sample user_ring_buffer__reserve returned",
      "5 user.write", (store("payload", PLAIN),))
def user_write(cfg: Config, s: UserState, mem: UserMem | None = None) -> UserState:
    """Write the sample's payload words after its header (wrapping modulo S)."""
    m = UserMem(s) if mem is None else mem
    pr = s.producer
    rec = s.records[pr.cur]
    word = payload_word(pr.cur)
    for i in range(min((rec.size + 7) // 8, cfg.slots)):
        m.store("payload", word, ((rec.pos + HDR_SZ + 8 * i) & cfg.mask) >> 3)
    return m.next(producer=UserProducer(U_IDLE, pr.attempts, held=pr.held, writes=pr.writes))


@step("user.commit", "user", "user_ring_buffer__submit / __discard (user_ringbuf_commit: atomic exchange of len)",
      "5 user.commit", (rmw("header.len", XCHG),))
def user_commit(cfg: Config, s: UserState, rec: int, discard: bool = False,
                mem: UserMem | None = None) -> UserState:
    """Clear BUSY (and set DISCARD for __discard) in the sample's header with one atomic exchange."""
    m = UserMem(s) if mem is None else mem
    pr = s.producer

    def committed(word: int) -> int:
        new_len = (read_len(word) & ~BUSY_BIT) | (DISCARD_BIT if discard else 0)
        return header_word(slot_owner(word) if slot_kind(word) == KIND_HEADER else rec, new_len)

    m.rmw("header.len", committed, (s.records[rec].pos & cfg.mask) >> 3)
    r = s.records[rec]
    return m.next(records=set_record(s, rec, r._replace(status=DISCARDED if discard else SUBMITTED)),
                  producer=pr._replace(held=tuple(h for h in pr.held if h != rec)))


def user_done(cfg: Config, pr: UserProducer) -> bool:
    """libbpf's producer has used every attempt and committed everything it reserved."""
    return pr.pc == U_IDLE and pr.attempts == cfg.records and not pr.held


def user_steps(cfg: Config, s: UserState) -> list[tuple[Action, Callable, tuple]]:
    """The steps the libbpf producer may take now: (action, step function, arguments after ``cfg, s``)."""
    pr = s.producer
    if pr.pc == U_CLAIM:
        return [(Action(USER_ACTOR, "user.reserve.claim"), user_reserve_claim, ())]
    if pr.pc == U_WRITE:
        return [(Action(USER_ACTOR, "user.write", (("rec", pr.cur),)), user_write, ())]
    out: list[tuple[Action, Callable, tuple]] = []
    if pr.attempts < cfg.records and len(pr.held) < cfg.hold:
        for size in cfg.sizes:
            out.append((Action(USER_ACTOR, "user.reserve", (("size", size),)), user_reserve, (size,)))
    for rec in pr.held:
        for discard in ((False, True) if cfg.discard else (False,)):
            out.append((Action(USER_ACTOR, "user.commit", (("rec", rec), ("discard", int(discard)))),
                        user_commit, (rec, discard)))
    return out

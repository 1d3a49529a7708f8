"""The protocol steps, compiled: one numba function per step of model/, over the flat form.

Each function here is a line-by-line transcription of the Python step named
in its docstring (``model.producer``, ``model.consumer``, ``model.adversary``),
acting in place on a flat state ``F`` (see ``layout``) under the configuration
array ``C``. The Python model stays the reference: tests/checker/compiled
holds every successor computed here equal to the Python one on every reachable
state of the manifest configurations.

Positions are absolute 64-bit patterns in int64, so additions wrap as the
kernel's u64 arithmetic does; an unsigned comparison is ``u_lt``.

An action is one int: step id, actor, and up to three small arguments
(``action_code``); ``engine.decode_action`` turns it back into a model Action.
"""

from __future__ import annotations

import numpy as np

from checker.compiled.jit import hot
from checker.compiled.layout import (C_CHECKS_SIZE, C_CONSUMER, C_DEL0, C_DISCARD, C_E, C_HAS_PENDING,
                                     C_HOLD, C_L, C_MASK, C_NFLAT, C_NMI, C_NSIZES, C_NSLOTS, C_P,
                                     C_PR0, C_R, C_REACH, C_REC0, C_S, C_SIZES, C_SLOT0, C_WFLAGS,
                                     F_CCONS, F_CGOT, F_CLEN, F_CONS, F_CPC, F_CPROD, F_EDGE, F_IRQ,
                                     F_LOCK, F_NDEL, F_PEND, F_PROD, PR_ATTEMPTS, PR_CONS, PR_CUR,
                                     PR_FIELDS, PR_FLAGS, PR_HELD0, PR_HELD1, PR_NMI, PR_PC, PR_PEND,
                                     PR_PROD, PR_SIZE, R_POS, R_SEQ, R_SIZE, R_STATUS, REC_FIELDS)
from model.constants import (BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BUSY_BIT, DISCARD_BIT, LEN_MASK,
                             MAX_RECORD_SZ)
from model.state import (BUSY, C_DELIVER, C_LOAD_CONS, C_LOAD_PROD, C_READ_HDR, C_SLEEP, C_STORE,
                         C_WAIT, DISCARDED, FAILED, KIND_HEADER, P_CLAIM, P_IDLE, P_LOAD_CONS,
                         P_LOCK, P_SCAN, P_WAKEUP, P_WRITE, SUBMITTED)

SIGN = np.int64(-(2**63))
"""The sign bit: x ^ SIGN orders 64-bit patterns as unsigned numbers."""

# Step ids of the action codes, in model order.
(A_RESERVE_CHECK, A_LOAD_CONS, A_LOCK, A_SCAN, A_CLAIM, A_WRITE, A_COMMIT_XCHG, A_COMMIT_WAKEUP,
 A_CONSUME_LOAD_CONS, A_CONSUME_LOAD_PROD, A_READ_HEADER, A_DELIVER, A_STORE_CONS, A_POLL_WAIT,
 A_IRQ_WORK, A_USER_STORE_CONS) = range(16)


# ------------------------------------------------------------------ arithmetic and slot words


@hot(inline="always")
def u_lt(a, b):
    """Unsigned 64-bit a < b (model positions are Python ints in [0, 2**64))."""
    return (a ^ SIGN) < (b ^ SIGN)


@hot(inline="always")
def record_length(size):
    """model.constants.record_length."""
    return (size + 8 + 7) & ~7


@hot(inline="always")
def slot_index(C, pos):
    """(pos & mask) >> 3, the slot a position falls in."""
    return C[C_SLOT0] + ((pos & C[C_MASK]) >> 3)


@hot(inline="always")
def header_word(owner, len_word):
    """model.state.header_word."""
    return KIND_HEADER | (owner << 2) | ((len_word & 0xFFFFFFFF) << 10)


@hot(inline="always")
def payload_word(owner):
    """model.state.payload_word."""
    return 2 | (owner << 2)


@hot(inline="always")
def read_len(word):
    """model.state.read_len."""
    return word >> 10 if word & 3 == KIND_HEADER else 0


@hot(inline="always")
def slot_owner(word):
    """model.state.slot_owner."""
    return (word >> 2) & 0xFF if word != 0 else -1


@hot(inline="always")
def pr_base(C, p):
    return C[C_PR0] + PR_FIELDS * p


@hot(inline="always")
def rec_base(C, r):
    return C[C_REC0] + REC_FIELDS * r


@hot(inline="always")
def action_code(step, actor, a1=0, a2=0, a3=0):
    """Step id, actor (producer index, P for the consumer, P+1 irq, P+2 user) and arguments in one int."""
    return step | (actor << 5) | (a1 << 10) | (a2 << 26) | (a3 << 28)


# ------------------------------------------------------------------ producer helpers


@hot
def set_idle(C, F, p, attempts):
    """model.producer._idle: back between helper calls, dead locals cleared, held kept."""
    b = pr_base(C, p)
    F[b + PR_PC] = P_IDLE
    F[b + PR_ATTEMPTS] = attempts
    F[b + PR_CUR] = -1
    F[b + PR_SIZE] = 0
    F[b + PR_NMI] = 0
    F[b + PR_CONS] = 0
    F[b + PR_PROD] = 0
    F[b + PR_PEND] = 0
    F[b + PR_FLAGS] = 0


@hot
def fail_reservation(C, F, p):
    """model.producer._fail_reservation: the attempt is used up, reserve returned NULL."""
    b = pr_base(C, p)
    rb = rec_base(C, F[b + PR_CUR])
    F[rb + R_STATUS] = FAILED
    F[rb + R_POS] = 0
    F[rb + R_SIZE] = F[b + PR_SIZE]
    F[rb + R_SEQ] = -1
    set_idle(C, F, p, F[b + PR_ATTEMPTS] + 1)


@hot
def refused_early(C, size):
    """model.producer.refused_early (flags are always 0 in the explored model)."""
    if size > MAX_RECORD_SZ:
        return True
    return C[C_CHECKS_SIZE] != 0 and record_length(size) > C[C_S]


# ------------------------------------------------------------------ reserve


@hot
def reserve_check(C, F, p, size, nmi):
    """model.producer.reserve_check: start a reservation; refuse what step 0 refuses."""
    b = pr_base(C, p)
    F[b + PR_PC] = P_LOAD_CONS
    F[b + PR_CUR] = p * C[C_E] + F[b + PR_ATTEMPTS]
    F[b + PR_SIZE] = size
    F[b + PR_NMI] = nmi
    if refused_early(C, size):
        fail_reservation(C, F, p)


@hot
def reserve_load_cons(C, F, p):
    """model.producer.reserve_load_cons: read consumer_pos once, before the lock."""
    b = pr_base(C, p)
    F[b + PR_PC] = P_LOCK
    F[b + PR_CONS] = F[F_CONS]


@hot
def reserve_lock(C, F, p):
    """model.producer.reserve_lock: take the spinlock (NMI: trylock); False when not enabled."""
    b = pr_base(C, p)
    if F[F_LOCK] != -1:
        if F[b + PR_NMI]:
            fail_reservation(C, F, p)
            return True
        return False
    pend = F[F_PEND] if C[C_HAS_PENDING] else 0
    scan = C[C_HAS_PENDING] != 0 and u_lt(pend, F[F_PROD])
    F[b + PR_PC] = P_SCAN if scan else P_CLAIM
    F[b + PR_PROD] = F[F_PROD]
    F[b + PR_PEND] = pend
    F[F_LOCK] = p
    return True


@hot
def reserve_scan(C, F, p):
    """model.producer.reserve_scan: read one header at pending; stop at BUSY, else step past it."""
    b = pr_base(C, p)
    hdr_len = read_len(F[slot_index(C, F[b + PR_PEND])])
    if hdr_len & BUSY_BIT:
        F[b + PR_PC] = P_CLAIM
    else:
        pend = F[b + PR_PEND] + record_length(hdr_len & ~DISCARD_BIT)
        F[b + PR_PC] = P_SCAN if u_lt(pend, F[b + PR_PROD]) else P_CLAIM
        F[b + PR_PEND] = pend


@hot
def reserve_claim(C, F, p):
    """model.producer.reserve_claim: space check, BUSY header, publish producer_pos, unlock."""
    b = pr_base(C, p)
    mask = C[C_MASK]
    new_prod = F[b + PR_PROD] + record_length(F[b + PR_SIZE])
    F[F_LOCK] = -1
    if C[C_HAS_PENDING]:
        F[F_PEND] = F[b + PR_PEND]
    if u_lt(mask, new_prod - F[b + PR_CONS]) or (
            C[C_HAS_PENDING] != 0 and u_lt(mask, new_prod - F[b + PR_PEND])):
        fail_reservation(C, F, p)
        return
    cur = F[b + PR_CUR]
    F[slot_index(C, F[b + PR_PROD])] = header_word(cur, F[b + PR_SIZE] | BUSY_BIT)
    seq = 0
    for r in range(C[C_R]):
        if F[rec_base(C, r) + R_STATUS] >= BUSY:
            seq += 1
    rb = rec_base(C, cur)
    F[rb + R_STATUS] = BUSY
    F[rb + R_POS] = F[b + PR_PROD]
    F[rb + R_SIZE] = F[b + PR_SIZE]
    F[rb + R_SEQ] = seq
    F[F_PROD] = new_prod
    attempts = F[b + PR_ATTEMPTS] + 1
    if F[b + PR_HELD0] < 0:
        F[b + PR_HELD0] = cur
    else:
        F[b + PR_HELD1] = cur
    set_idle(C, F, p, attempts)
    F[b + PR_PC] = P_WRITE
    F[b + PR_CUR] = cur


# ------------------------------------------------------------------ payload and commit


@hot
def write_payload(C, F, p):
    """model.producer.write_payload: the payload after the header, wrapping modulo S."""
    b = pr_base(C, p)
    cur = F[b + PR_CUR]
    rb = rec_base(C, cur)
    words = min((F[rb + R_SIZE] + 7) >> 3, C[C_NSLOTS])
    word = payload_word(cur)
    for i in range(words):
        F[slot_index(C, F[rb + R_POS] + 8 + 8 * i)] = word
    set_idle(C, F, p, F[b + PR_ATTEMPTS])


@hot
def commit_xchg(C, F, p, rec, discard, flags):
    """model.producer.commit_xchg: clear BUSY (and set DISCARD) with one atomic exchange."""
    b = pr_base(C, p)
    rb = rec_base(C, rec)
    idx = slot_index(C, F[rb + R_POS])
    word = F[idx]
    new_len = (read_len(word) ^ BUSY_BIT) | (DISCARD_BIT if discard else 0)
    owner = slot_owner(word) if word & 3 == KIND_HEADER else rec
    F[idx] = header_word(owner, new_len)
    F[rb + R_STATUS] = DISCARDED if discard else SUBMITTED
    F[b + PR_PC] = P_WAKEUP
    F[b + PR_CUR] = rec
    F[b + PR_FLAGS] = flags
    if F[b + PR_HELD0] == rec:
        F[b + PR_HELD0] = F[b + PR_HELD1]
        F[b + PR_HELD1] = -1
    elif F[b + PR_HELD1] == rec:
        F[b + PR_HELD1] = -1


@hot
def commit_wakeup(C, F, p):
    """model.producer.commit_wakeup: queue the wakeup if forced or the consumer waits at this record."""
    b = pr_base(C, p)
    mask = C[C_MASK]
    flags = F[b + PR_FLAGS]
    at_record = (F[F_CONS] & mask) == (F[rec_base(C, F[b + PR_CUR]) + R_POS] & mask)
    wake = (flags & BPF_RB_FORCE_WAKEUP) != 0 or (at_record and not flags & BPF_RB_NO_WAKEUP)
    set_idle(C, F, p, F[b + PR_ATTEMPTS])
    if wake and C[C_CONSUMER] != 2 and not F[F_IRQ]:
        F[F_IRQ] = 1


# ------------------------------------------------------------------ consumer


@hot
def set_resting(F, pc):
    """model.consumer._resting: the consumer's dead locals cleared."""
    F[F_CPC] = pc
    F[F_CCONS] = 0
    F[F_CPROD] = 0
    F[F_CGOT] = 0
    F[F_CLEN] = 0


@hot
def consume_load_cons(C, F):
    """model.consumer.consume_load_cons: start a pass from the published consumer position."""
    F[F_CPC] = C_LOAD_PROD
    F[F_CCONS] = F[F_CONS]


@hot
def consume_load_prod(C, F):
    """model.consumer.consume_load_prod: snapshot producer_pos."""
    prod = F[F_PROD]
    if u_lt(F[F_CCONS], prod):
        F[F_CPC] = C_READ_HDR
        F[F_CPROD] = prod
        F[F_CGOT] = 0
        F[F_CLEN] = 0
    else:
        set_resting(F, C_WAIT)


@hot
def consume_read_header(C, F):
    """model.consumer.consume_read_header: BUSY ends the pass; otherwise step past the record."""
    hdr_len = read_len(F[slot_index(C, F[F_CCONS])])
    if hdr_len & BUSY_BIT:
        set_resting(F, C_WAIT)
        return
    F[F_CCONS] = F[F_CCONS] + record_length(hdr_len & LEN_MASK)
    F[F_CPC] = C_STORE if hdr_len & DISCARD_BIT else C_DELIVER
    F[F_CGOT] = 1
    F[F_CLEN] = hdr_len


@hot
def sample_entry(C, F, start, hdr_len):
    """model.consumer.sample_identity as one log entry: (record id + 1) * 2 + intact."""
    word = F[slot_index(C, start)]
    if word & 3 != KIND_HEADER:
        return 0
    rec = slot_owner(word)
    rb = rec_base(C, rec)
    ok = F[rb + R_STATUS] == SUBMITTED and F[rb + R_POS] == start and (hdr_len & LEN_MASK) == F[rb + R_SIZE]
    if ok:
        mine = payload_word(rec)
        for i in range(min((F[rb + R_SIZE] + 7) >> 3, C[C_NSLOTS])):
            if F[slot_index(C, start + 8 + 8 * i)] != mine:
                ok = False
                break
    return (rec + 1) * 2 + (1 if ok else 0)


@hot
def consume_deliver(C, F):
    """model.consumer.consume_deliver: hand the sample to the callback; False if the log is full."""
    start = F[F_CCONS] - record_length(F[F_CLEN] & LEN_MASK)
    entry = sample_entry(C, F, start, F[F_CLEN])
    F[F_CPC] = C_STORE
    n = F[F_NDEL]
    if n >= C[C_L]:
        return False
    F[C[C_DEL0] + n] = entry
    F[F_NDEL] = n + 1
    return True


@hot
def consume_store_cons(C, F):
    """model.consumer.consume_store_cons: publish the consumer position; more, re-read, or epoll."""
    cons = F[F_CCONS]
    if u_lt(cons, F[F_CPROD]):
        pc = C_READ_HDR
    else:
        pc = C_LOAD_PROD if F[F_CGOT] else C_WAIT
    F[F_CONS] = cons
    F[F_CPC] = pc
    F[F_CLEN] = 0


@hot
def poll_wait(C, F):
    """model.consumer.poll_wait: level returns while data is there; edge only after a wakeup."""
    if C[C_CONSUMER] == 0:
        set_resting(F, C_LOAD_CONS if F[F_PROD] != F[F_CONS] else C_SLEEP)
    elif F[F_EDGE]:
        set_resting(F, C_LOAD_CONS)
        F[F_EDGE] = 0
    else:
        set_resting(F, C_SLEEP)


@hot
def irq_work(C, F):
    """model.consumer.irq_work: a sleeping consumer wakes; an awake edge consumer gets an event."""
    F[F_IRQ] = 0
    if F[F_CPC] == C_SLEEP:
        set_resting(F, C_WAIT if C[C_CONSUMER] == 0 else C_LOAD_CONS)
    elif C[C_CONSUMER] == 1:
        F[F_EDGE] = 1


@hot
def user_store_cons(C, F, value):
    """model.adversary.user_store_cons: hostile user space stores consumer_pos."""
    F[F_CONS] = value


# ------------------------------------------------------------------ successors


@hot(inline="always")
def _row(F, OUT, n, nf):
    """Row ``n`` of OUT, set to a copy of ``F``: a successor is computed in place in its row."""
    row = OUT[n]
    for i in range(nf):
        row[i] = F[i]
    return row


@hot
def _emit(C, F, OUT, ACT, n, code):
    """Append a copy of ``F`` with action ``code`` (kept for callers that build a successor aside)."""
    nf = C[C_NFLAT]
    for i in range(nf):
        OUT[n, i] = F[i]
    ACT[n] = code
    return n + 1


@hot
def producer_successors(C, F, p, OUT, ACT, n, T):
    """model.producer.producer_successors: what producer ``p`` can do, appended from row ``n``.

    Each successor is computed in its own row of OUT, a copy of ``F`` (``T`` is not used).
    """
    b = pr_base(C, p)
    pc = F[b + PR_PC]
    nf = C[C_NFLAT]
    if pc == P_IDLE:
        held = (1 if F[b + PR_HELD0] >= 0 else 0) + (1 if F[b + PR_HELD1] >= 0 else 0)
        if F[b + PR_ATTEMPTS] < C[C_E] and held < C[C_HOLD]:
            for k in range(C[C_NSIZES]):
                for nmi in range(2 if C[C_NMI] else 1):
                    reserve_check(C, _row(F, OUT, n, nf), p, C[C_SIZES + k], nmi)
                    ACT[n] = action_code(A_RESERVE_CHECK, p, k, nmi)
                    n += 1
        for h in range(2):
            rec = F[b + PR_HELD0 + h]
            if rec < 0:
                continue
            for discard in range(2 if C[C_DISCARD] else 1):
                for fi in range(3 if C[C_WFLAGS] else 1):
                    commit_xchg(C, _row(F, OUT, n, nf), p, rec, discard, fi)
                    ACT[n] = action_code(A_COMMIT_XCHG, p, rec, discard, fi)
                    n += 1
        return n
    R = _row(F, OUT, n, nf)
    if pc == P_LOAD_CONS:
        reserve_load_cons(C, R, p)
        code = action_code(A_LOAD_CONS, p)
    elif pc == P_LOCK:
        if not reserve_lock(C, R, p):
            return n
        code = action_code(A_LOCK, p)
    elif pc == P_SCAN:
        reserve_scan(C, R, p)
        code = action_code(A_SCAN, p)
    elif pc == P_CLAIM:
        reserve_claim(C, R, p)
        code = action_code(A_CLAIM, p)
    elif pc == P_WRITE:
        rec = F[b + PR_CUR]
        write_payload(C, R, p)
        code = action_code(A_WRITE, p, rec)
    else:
        commit_wakeup(C, R, p)
        code = action_code(A_COMMIT_WAKEUP, p)
    ACT[n] = code
    return n + 1


@hot
def consumer_successors(C, F, OUT, ACT, n, T):
    """model.consumer.consumer_successors: the consumer's one next step, then a queued irq_work.

    Returns -1 - n when the delivery log overflowed its packed size (an internal limit).
    """
    nf = C[C_NFLAT]
    P = C[C_P]
    pc = F[F_CPC]
    if pc <= C_WAIT:
        R = _row(F, OUT, n, nf)
        if pc == C_LOAD_CONS:
            consume_load_cons(C, R)
            code = action_code(A_CONSUME_LOAD_CONS, P)
        elif pc == C_LOAD_PROD:
            consume_load_prod(C, R)
            code = action_code(A_CONSUME_LOAD_PROD, P)
        elif pc == C_READ_HDR:
            consume_read_header(C, R)
            code = action_code(A_READ_HEADER, P)
        elif pc == C_DELIVER:
            if not consume_deliver(C, R):
                return -1 - n
            code = action_code(A_DELIVER, P)
        elif pc == C_STORE:
            consume_store_cons(C, R)
            code = action_code(A_STORE_CONS, P)
        else:
            poll_wait(C, R)
            code = action_code(A_POLL_WAIT, P)
        ACT[n] = code
        n += 1
    if F[F_IRQ]:
        irq_work(C, _row(F, OUT, n, nf))
        ACT[n] = action_code(A_IRQ_WORK, P + 1)
        n += 1
    return n


@hot
def adversary_successors(C, F, OUT, ACT, n, T):
    """model.adversary.adversary_successors: one successor per value user space may store."""
    nf = C[C_NFLAT]
    reach = C[C_REACH]
    k = 0
    for d in range(-reach, reach + 1, 8):
        v = F[F_PROD] + d
        if v != F[F_CONS]:
            user_store_cons(C, _row(F, OUT, n, nf), v)
            ACT[n] = action_code(A_USER_STORE_CONS, C[C_P] + 2, k)
            n += 1
        k += 1
    return n


@hot
def successors(C, F, OUT, ACT, T):
    """model.ringbuf.RingBufModel.successors: producers in order, then consumer (or user space).

    Rows of OUT get the flat next states, ACT their action codes; returns how
    many, or -1 - n when a delivery log overflowed (an internal limit).
    """
    n = 0
    for p in range(C[C_P]):
        n = producer_successors(C, F, p, OUT, ACT, n, T)
    if C[C_CONSUMER] != 2:
        return consumer_successors(C, F, OUT, ACT, n, T)
    return adversary_successors(C, F, OUT, ACT, n, T)


@hot
def producers_done(C, F):
    """model.ringbuf.RingBufModel.producers_done."""
    for p in range(C[C_P]):
        b = pr_base(C, p)
        if F[b + PR_PC] != P_IDLE or F[b + PR_ATTEMPTS] != C[C_E] or F[b + PR_HELD0] >= 0:
            return False
    return True


@hot
def is_terminal(C, F):
    """model.ringbuf.RingBufModel.is_terminal: producers done, no irq_work, consumer asleep."""
    if not producers_done(C, F) or F[F_IRQ]:
        return False
    return C[C_CONSUMER] == 2 or F[F_CPC] == C_SLEEP

"""The properties of specs/, compiled beside the steps: one numba predicate per property.

Each returns True when the property holds in flat state ``F`` (the Python
predicate returns None), False when it is violated. The reason in words is
not computed here: a violation found by the compiled core is replayed in the
Python model, whose predicate gives the reason (and must agree).
Property ids are the positions in ``specs.PROPERTY_ORDER``.
"""

from __future__ import annotations

from checker.compiled.jit import hot
from checker.compiled.layout import (C_CONSUMER, C_DEL0, C_HAS_PENDING, C_R, C_S, C_WFLAGS,
                                     F_CONS, F_NDEL, F_PEND, F_PROD, R_POS, R_SEQ, R_SIZE, R_STATUS)
from checker.compiled.steps import header_word, rec_base, record_length, slot_index, u_lt
from model.constants import BUSY_BIT
from model.state import BUSY, DISCARDED, SUBMITTED
from specs import PROPERTY_ORDER

PROPERTY_ID = {name: i for i, name in enumerate(PROPERTY_ORDER)}


@hot(inline="always")
def _judges_terminal(C, terminal):
    return terminal and C[C_CONSUMER] != 2 and not C[C_WFLAGS]


@hot(inline="always")
def _entry_rec(C, F, j):
    return F[C[C_DEL0] + j] // 2 - 1


@hot
def in_bounds(C, F, terminal):
    """specs.memory_safety.in_bounds: every reserved record fits the ring."""
    for r in range(C[C_R]):
        b = rec_base(C, r)
        if F[b + R_STATUS] >= BUSY and record_length(F[b + R_SIZE]) > C[C_S]:
            return False
    return True


@hot(inline="always")
def _live(C, F, r):
    b = rec_base(C, r)
    st = F[b + R_STATUS]
    if st == BUSY:
        return True
    return st > BUSY and C[C_CONSUMER] != 2 and F[b + R_POS] - F[F_CONS] >= 0


@hot(inline="always")
def _ranges_overlap(a, len_a, b, len_b, S):
    if len_a >= S or len_b >= S:
        return True
    d = (b - a) & (S - 1)
    return d < len_a or d + len_b > S


@hot
def no_overlap(C, F, terminal):
    """specs.memory_safety.no_overlap: live records use disjoint bytes."""
    R = C[C_R]
    for i in range(R):
        if not _live(C, F, i):
            continue
        a = rec_base(C, i)
        for j in range(i + 1, R):
            if not _live(C, F, j):
                continue
            b = rec_base(C, j)
            if _ranges_overlap(F[a + R_POS], record_length(F[a + R_SIZE]), F[b + R_POS],
                               record_length(F[b + R_SIZE]), C[C_S]):
                return False
    return True


@hot
def header_integrity(C, F, terminal):
    """specs.memory_safety.header_integrity: a busy record's header is still its own."""
    for r in range(C[C_R]):
        b = rec_base(C, r)
        if F[b + R_STATUS] == BUSY and F[slot_index(C, F[b + R_POS])] != header_word(r, F[b + R_SIZE] | BUSY_BIT):
            return False
    return True


@hot
def capacity(C, F, terminal):
    """specs.memory_safety.capacity: producer_pos within S of consumer_pos (honest), busy records in [pending, producer)."""
    S = C[C_S]
    if C[C_CONSUMER] != 2 and u_lt(S, F[F_PROD] - F[F_CONS]):
        return False
    if C[C_HAS_PENDING]:
        span = F[F_PROD] - F[F_PEND]
        if u_lt(S, span):
            return False
        for r in range(C[C_R]):
            b = rec_base(C, r)
            if F[b + R_STATUS] == BUSY:
                d = F[b + R_POS] - F[F_PEND]
                if u_lt(S, d) or d + record_length(F[b + R_SIZE]) > span:
                    return False
    return True


@hot
def ordered_delivery(C, F, terminal):
    """specs.delivery.ordered_delivery: samples reach the callback in reservation order."""
    last = -1
    for j in range(F[F_NDEL]):
        rec = _entry_rec(C, F, j)
        if rec < 0:
            continue
        seq = F[rec_base(C, rec) + R_SEQ]
        if seq <= last:
            return False
        last = seq
    return True


@hot
def committed_only(C, F, terminal):
    """specs.delivery.committed_only: every delivered sample is a submitted, intact record."""
    for j in range(F[F_NDEL]):
        e = F[C[C_DEL0] + j]
        if e // 2 - 1 < 0 or not e & 1:
            return False
    return True


@hot
def discard_skipped(C, F, terminal):
    """specs.delivery.discard_skipped: no discarded record delivered; at the end, all passed."""
    for j in range(F[F_NDEL]):
        rec = _entry_rec(C, F, j)
        if rec >= 0 and F[rec_base(C, rec) + R_STATUS] == DISCARDED:
            return False
    if _judges_terminal(C, terminal):
        for r in range(C[C_R]):
            b = rec_base(C, r)
            if F[b + R_STATUS] == DISCARDED and F[F_CONS] - (F[b + R_POS] + record_length(F[b + R_SIZE])) < 0:
                return False
    return True


@hot
def exactly_once(C, F, terminal):
    """specs.delivery.exactly_once: none delivered twice; at the end every submitted one delivered."""
    n = F[F_NDEL]
    for j in range(n):
        rj = _entry_rec(C, F, j)
        if rj < 0:
            continue
        for k in range(j + 1, n):
            if _entry_rec(C, F, k) == rj:
                return False
    if _judges_terminal(C, terminal):
        for r in range(C[C_R]):
            if F[rec_base(C, r) + R_STATUS] == SUBMITTED:
                seen = False
                for j in range(n):
                    if _entry_rec(C, F, j) == r:
                        seen = True
                        break
                if not seen:
                    return False
    return True


@hot
def no_lost_wakeup(C, F, terminal):
    """specs.delivery.no_lost_wakeup: at the end the consumer does not sleep on unconsumed data."""
    return not (_judges_terminal(C, terminal) and F[F_PROD] != F[F_CONS])


@hot
def aligned(C, F, terminal):
    """specs.memory_safety.aligned: positions and record starts are multiples of 8."""
    if (F[F_CONS] | F[F_PROD] | F[F_PEND]) & 7:
        return False
    for r in range(C[C_R]):
        b = rec_base(C, r)
        if F[b + R_STATUS] >= BUSY and F[b + R_POS] & 7:
            return False
    return True


@hot
def holds(C, F, terminal, prop):
    """Property ``prop`` (an index into specs.PROPERTY_ORDER) holds in ``F``."""
    if prop == 0:
        return in_bounds(C, F, terminal)
    if prop == 1:
        return no_overlap(C, F, terminal)
    if prop == 2:
        return header_integrity(C, F, terminal)
    if prop == 3:
        return capacity(C, F, terminal)
    if prop == 4:
        return ordered_delivery(C, F, terminal)
    if prop == 5:
        return committed_only(C, F, terminal)
    if prop == 6:
        return discard_skipped(C, F, terminal)
    if prop == 7:
        return exactly_once(C, F, terminal)
    if prop == 8:
        return no_lost_wakeup(C, F, terminal)
    return aligned(C, F, terminal)


@hot
def first_violated(C, F, terminal, props):
    """The first property of ``props`` (ids, in the search's order) violated in ``F``, else -1."""
    for k in range(props.shape[0]):
        if not holds(C, F, terminal, props[k]):
            return props[k]
    return -1

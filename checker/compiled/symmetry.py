"""Producer symmetry on the compiled core: model/symmetry.py's canonical form, over the flat state.

``canonicalize`` sorts the producers by the key of ``model.symmetry._key``
(program point, locals with record ids relative to the producer's block,
its block of records, whether it holds the lock), ties broken by index as
Python's sort of ``(key, p)`` does, and renames record ids, slot owners, the
lock holder and the delivery log to match (``model.symmetry.rename``).
Positions compare as unsigned 64-bit numbers, like the Python ints they stand for.
tests/checker/compiled/test_symmetry.py holds the representative equal to
the Python one on every reachable state, and the reduced counts equal.
"""

from __future__ import annotations

from checker.compiled.jit import hot
from checker.compiled.layout import (C_DEL0, C_E, C_NFLAT, C_NSLOTS, C_P, C_SLOT0, F_LOCK, F_NDEL,
                                     PR_ATTEMPTS, PR_CONS, PR_CUR, PR_FIELDS, PR_FLAGS, PR_HELD0, PR_HELD1,
                                     PR_NMI, PR_PC, PR_PEND, PR_PROD, PR_SIZE, R_POS, R_SEQ, R_SIZE, R_STATUS,
                                     REC_FIELDS)
from checker.compiled.steps import pr_base, rec_base, u_lt


@hot(inline="always")
def _cmp_int(a, b):
    return -1 if a < b else (1 if a > b else 0)


@hot(inline="always")
def _cmp_pos(a, b):
    return -1 if u_lt(a, b) else (1 if u_lt(b, a) else 0)


@hot
def _cmp_held(C, F, p, q):
    """Lexicographic comparison of the held tuples (ids relative to each block): () < (x,) < (x, y)."""
    E = C[C_E]
    bp, bq = pr_base(C, p), pr_base(C, q)
    for k in range(2):
        hp, hq = F[bp + PR_HELD0 + k], F[bq + PR_HELD0 + k]
        if hp < 0 and hq < 0:
            return 0
        if hp < 0:
            return -1
        if hq < 0:
            return 1
        c = _cmp_int(hp - p * E, hq - q * E)
        if c:
            return c
    return 0


@hot
def compare_producers(C, F, p, q):
    """-1, 0 or 1: producer p's key against producer q's (model.symmetry._key order)."""
    E = C[C_E]
    bp, bq = pr_base(C, p), pr_base(C, q)
    for f in (PR_PC, PR_ATTEMPTS):
        c = _cmp_int(F[bp + f], F[bq + f])
        if c:
            return c
    cp, cq = F[bp + PR_CUR], F[bq + PR_CUR]
    c = _cmp_int(cp - p * E if cp >= 0 else -1, cq - q * E if cq >= 0 else -1)
    if c:
        return c
    for f in (PR_SIZE, PR_NMI):
        c = _cmp_int(F[bp + f], F[bq + f])
        if c:
            return c
    for f in (PR_CONS, PR_PROD, PR_PEND):
        c = _cmp_pos(F[bp + f], F[bq + f])
        if c:
            return c
    c = _cmp_held(C, F, p, q)
    if c:
        return c
    c = _cmp_int(F[bp + PR_FLAGS], F[bq + PR_FLAGS])
    if c:
        return c
    for k in range(E):
        rp, rq = rec_base(C, p * E + k), rec_base(C, q * E + k)
        c = _cmp_int(F[rp + R_STATUS], F[rq + R_STATUS])
        if c:
            return c
        c = _cmp_pos(F[rp + R_POS], F[rq + R_POS])
        if c:
            return c
        for f in (R_SIZE, R_SEQ):
            c = _cmp_int(F[rp + f], F[rq + f])
            if c:
                return c
    return _cmp_int(1 if F[F_LOCK] == p else 0, 1 if F[F_LOCK] == q else 0)


@hot
def canonicalize(C, F, out, order, new_index):
    """Write the representative of ``F`` to ``out``; True when it differs from ``F``.

    ``order[i]`` is the real producer renamed to i (insertion sort on the
    keys, stable, so ties keep index order as Python's sorted((key, p)) does).
    """
    P = C[C_P]
    nf = C[C_NFLAT]
    for i in range(P):
        order[i] = i
    for i in range(1, P):
        j = i
        while j > 0 and compare_producers(C, F, order[j - 1], order[j]) > 0:
            order[j - 1], order[j] = order[j], order[j - 1]
            j -= 1
    moved = False
    for i in range(P):
        new_index[order[i]] = i
        if order[i] != i:
            moved = True
    for i in range(nf):
        out[i] = F[i]
    if not moved:
        return False
    E = C[C_E]
    for i in range(P):
        src, dst = pr_base(C, order[i]), pr_base(C, i)
        for f in range(PR_FIELDS):
            out[dst + f] = F[src + f]
        for f in (PR_CUR, PR_HELD0, PR_HELD1):
            r = F[src + f]
            if r >= 0:
                out[dst + f] = new_index[r // E] * E + r % E
        for k in range(E):
            rs, rd = rec_base(C, order[i] * E + k), rec_base(C, i * E + k)
            for f in range(REC_FIELDS):
                out[rd + f] = F[rs + f]
    if F[F_LOCK] >= 0:
        out[F_LOCK] = new_index[F[F_LOCK]]
    for k in range(C[C_NSLOTS]):
        w = F[C[C_SLOT0] + k]
        if w != 0:
            r = (w >> 2) & 0xFF
            r2 = new_index[r // E] * E + r % E
            out[C[C_SLOT0] + k] = (w & ~(0xFF << 2)) | (r2 << 2)
    d0 = C[C_DEL0]
    for j in range(F[F_NDEL]):
        e = F[d0 + j]
        r = e // 2 - 1
        if r >= 0:
            out[d0 + j] = (new_index[r // E] * E + r % E + 1) * 2 + (e & 1)
    return True

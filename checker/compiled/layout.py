"""The packed state of the compiled core: a model.state.State as a few 64-bit words.

Two forms, both lossless:

* the *flat* form, one int64 per field of ``State`` (absolute positions as
  64-bit patterns, slot words exactly as ``model.state`` writes them), which
  the compiled steps read and write: it is the Python state laid out in an
  array, so a step reads like its Python original;
* the *packed* form, the flat fields squeezed into bit fields of ``nwords``
  int64 words, which is what the visited set stores.

Packing is where the bytes are saved: positions are stored relative to the
start (a small number, with absolute 0, the value of a dead local, as its
own code 0), payload sizes as an index into the configuration's sizes,
record ids and sequence numbers in as many bits as there are records, and
the delivery log as one small code per entry. A field never straddles two
words. A value that does not fit its field is never truncated: ``pack``
reports it and the engine stops with an internal error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from checker.compiled.jit import hot
from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT, LEN_MASK, record_length
from model.state import NO_CONSUMER, Consumer, Producer, Record, State

# ---------------------------------------------------------------- the configuration array C

C_S, C_MASK, C_NSLOTS, C_P, C_E, C_R, C_HOLD, C_HAS_PENDING, C_CHECKS_SIZE = range(9)
C_CONSUMER, C_NMI, C_DISCARD, C_WFLAGS, C_REACH, C_START, C_NSIZES = range(9, 16)
C_SLOT0, C_REC0, C_PR0, C_DEL0, C_L, C_NFLAT, C_NWORDS, C_BIAS = range(16, 24)
C_NLENS, C_MAXSUCC, C_START_LOW, C_OWNER_BITS, C_SIZE_BITS = 24, 25, 26, 27, 28
C_SIZES = 32
"""The configuration's payload sizes, in its order (reserve.check tries them in it)."""
C_LENS = 48
"""Every payload size a len word can carry (the sizes and 0), sorted: a size's code is its index."""
C_LEN = 72

CONSUMER_KINDS = {"level": 0, "edge": 1, "adversarial": 2}
MAX_SIZES = 16

# ---------------------------------------------------------------- the flat form

F_CONS, F_PROD, F_PEND, F_LOCK, F_IRQ, F_EDGE = range(6)
F_CPC, F_CCONS, F_CPROD, F_CGOT, F_CLEN = range(6, 11)
F_NDEL = 11
FIXED = 12
"""Flat fields before the slots: positions, lock, irq_pending, edge_ready, consumer, log length."""

R_STATUS, R_POS, R_SIZE, R_SEQ = range(4)
REC_FIELDS = 4
PR_PC, PR_ATTEMPTS, PR_CUR, PR_SIZE, PR_NMI, PR_CONS, PR_PROD, PR_PEND, PR_HELD0, PR_HELD1, PR_FLAGS = range(11)
PR_FIELDS = 11

# ---------------------------------------------------------------- how each flat field is packed

K_NONE, K_PLAIN, K_PLUS1, K_POS, K_SIZE, K_LEN, K_SLOT, K_ENTRY = range(8)
"""Field codes: not stored, as is, plus one (for -1), position, size index, len word, slot word, log entry."""


@dataclass(frozen=True)
class Layout:
    """Where every flat field of one configuration lives in the packed words."""

    config: Config
    start: int
    C: np.ndarray
    """The configuration array the compiled functions read (``C_*`` indices)."""
    FT: np.ndarray
    """Field table, one row per flat field: word, shift, width, kind, and for a field not
    stored (kind K_NONE) the one value it may have."""
    nflat: int
    nwords: int
    log_len: int
    """Longest delivery log the packed form can hold."""

    @property
    def bytes_per_state(self) -> int:
        """Bytes of one packed state."""
        return 8 * self.nwords


class LayoutError(ValueError):
    """The configuration does not fit the packed form (the reason is one line)."""


def _bits(n_values: int) -> int:
    """Bits needed for codes 0 .. n_values - 1."""
    return max(1, (n_values - 1).bit_length())


def build_layout(cfg: Config, start: int = 0) -> Layout:
    """The layout of ``cfg``, or LayoutError when some field would not fit 62 bits or 16 words."""
    if len(cfg.sizes) > MAX_SIZES:
        raise LayoutError(f"more than {MAX_SIZES} payload sizes")
    if max(cfg.sizes) >= 1 << 24:
        raise LayoutError("payload sizes of 2**24 bytes or more")
    n_rec = cfg.producers * cfg.records
    lens = sorted(set(cfg.sizes) | {0})
    max_len = max(record_length(x) for x in lens)
    reach = cfg.reach if not cfg.honest else 0
    # Every position stays within [start - reach - 8, start + all records + one more + reach + 8].
    bias = reach + 8
    span = n_rec * max_len + max_len + 2 * reach + 16
    pos_bits = _bits(span + 2)
    rec_bits = _bits(n_rec + 1)
    size_bits = _bits(len(lens))
    len_bits = size_bits + 2
    slot_bits = 2 + rec_bits + len_bits
    log_len = 0 if not cfg.honest else (n_rec * max_len + max_len) // 8 + 1
    entry_bits = _bits(2 * (n_rec + 1) + 2)

    nslots = cfg.slots
    slot0 = FIXED
    rec0 = slot0 + nslots
    pr0 = rec0 + REC_FIELDS * n_rec
    del0 = pr0 + PR_FIELDS * cfg.producers
    nflat = del0 + log_len
    spec: list[tuple[int, int]] = [(0, K_NONE)] * nflat
    FT = np.zeros((nflat, 5), dtype=np.int64)
    if not cfg.honest:
        FT[F_CPC, 4] = NO_CONSUMER.pc
    for p in range(cfg.producers):
        FT[pr0 + PR_FIELDS * p + PR_HELD1, 4] = -1

    def put(i: int, width: int, kind: int) -> None:
        spec[i] = (width, kind)

    for i in (F_CONS, F_PROD, F_PEND):
        put(i, pos_bits, K_POS)
    put(F_LOCK, _bits(cfg.producers + 1), K_PLUS1)
    put(F_IRQ, 1, K_PLAIN)
    put(F_EDGE, 1, K_PLAIN)
    if cfg.honest:
        put(F_CPC, 3, K_PLAIN)
        put(F_CCONS, pos_bits, K_POS)
        put(F_CPROD, pos_bits, K_POS)
        put(F_CGOT, 1, K_PLAIN)
        put(F_CLEN, len_bits, K_LEN)
    for k in range(nslots):
        put(slot0 + k, slot_bits, K_SLOT)
    for r in range(n_rec):
        b = rec0 + REC_FIELDS * r
        put(b + R_STATUS, 3, K_PLAIN)
        put(b + R_POS, pos_bits, K_POS)
        put(b + R_SIZE, size_bits, K_SIZE)
        put(b + R_SEQ, rec_bits, K_PLUS1)
    for p in range(cfg.producers):
        b = pr0 + PR_FIELDS * p
        put(b + PR_PC, 3, K_PLAIN)
        put(b + PR_ATTEMPTS, _bits(cfg.records + 1), K_PLAIN)
        put(b + PR_CUR, rec_bits, K_PLUS1)
        put(b + PR_SIZE, size_bits, K_SIZE)
        if cfg.nmi:
            put(b + PR_NMI, 1, K_PLAIN)
        for f in (PR_CONS, PR_PROD, PR_PEND):
            put(b + f, pos_bits, K_POS)
        put(b + PR_HELD0, rec_bits, K_PLUS1)
        if cfg.hold > 1:
            put(b + PR_HELD1, rec_bits, K_PLUS1)
        if cfg.wakeup_flags:
            put(b + PR_FLAGS, 2, K_PLAIN)
    for j in range(log_len):
        put(del0 + j, entry_bits, K_ENTRY)

    word, shift = 0, 0
    for i, (width, kind) in enumerate(spec):
        if kind == K_NONE:
            continue
        if width > 62:
            raise LayoutError(f"a field needs {width} bits")
        if shift + width > 64:
            word, shift = word + 1, 0
        FT[i, :4] = (word, shift, width, kind)
        shift += width
    nwords = word + 1
    if nwords > 16:
        raise LayoutError(f"the packed state would take {nwords} words (at most 16)")

    C = np.zeros(C_LEN, dtype=np.int64)
    C[C_S], C[C_MASK], C[C_NSLOTS] = cfg.ring_size, cfg.mask, nslots
    C[C_P], C[C_E], C[C_R], C[C_HOLD] = cfg.producers, cfg.records, n_rec, cfg.hold
    C[C_HAS_PENDING], C[C_CHECKS_SIZE] = cfg.has_pending, cfg.checks_record_size
    C[C_CONSUMER] = CONSUMER_KINDS[cfg.consumer]
    C[C_NMI], C[C_DISCARD], C[C_WFLAGS] = cfg.nmi, cfg.discard, cfg.wakeup_flags
    C[C_REACH] = cfg.reach
    C[C_START] = to_i64(start)
    C[C_START_LOW] = start & cfg.mask
    C[C_NSIZES] = len(cfg.sizes)
    C[C_SLOT0], C[C_REC0], C[C_PR0], C[C_DEL0], C[C_L] = slot0, rec0, pr0, del0, log_len
    C[C_NFLAT], C[C_NWORDS], C[C_BIAS] = nflat, nwords, bias
    C[C_NLENS] = len(lens)
    C[C_OWNER_BITS], C[C_SIZE_BITS] = rec_bits, size_bits
    per_producer = len(cfg.sizes) * (2 if cfg.nmi else 1) + cfg.hold * (2 if cfg.discard else 1) * (
        3 if cfg.wakeup_flags else 1)
    tail = 2 if cfg.honest else 2 * (cfg.reach // 8) + 1
    C[C_MAXSUCC] = cfg.producers * per_producer + tail
    for i, v in enumerate(cfg.sizes):
        C[C_SIZES + i] = v
    for i, v in enumerate(lens):
        C[C_LENS + i] = v
    return Layout(cfg, start, C, FT, nflat, nwords, log_len)


# ---------------------------------------------------------------- State <-> flat (Python)


def to_i64(v: int) -> int:
    """An unsigned 64-bit value as the int64 with the same bits."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def to_u64(v: int) -> int:
    """Inverse of ``to_i64``."""
    return int(v) & ((1 << 64) - 1)


def to_flat(lay: Layout, s: State) -> np.ndarray:
    """The flat form of ``s`` (LayoutError if its delivery log is longer than the layout holds)."""
    C = lay.C
    F = np.zeros(lay.nflat, dtype=np.int64)
    F[F_CONS], F[F_PROD], F[F_PEND] = (to_i64(x) for x in (s.consumer_pos, s.producer_pos, s.pending_pos))
    F[F_LOCK], F[F_IRQ], F[F_EDGE] = s.lock, s.irq_pending, s.edge_ready
    c = s.consumer
    F[F_CPC], F[F_CCONS], F[F_CPROD], F[F_CGOT], F[F_CLEN] = c.pc, to_i64(c.cons), to_i64(c.prod), c.got_new, c.len
    if len(s.delivered) > lay.log_len:
        raise LayoutError(f"delivery log of {len(s.delivered)} entries (the layout holds {lay.log_len})")
    F[F_NDEL] = len(s.delivered)
    for k, w in enumerate(s.slots):
        F[C[C_SLOT0] + k] = w
    for r, rec in enumerate(s.records):
        b = C[C_REC0] + REC_FIELDS * r
        F[b:b + 4] = (rec.status, to_i64(rec.pos), rec.size, rec.seq)
    for p, pr in enumerate(s.producers):
        b = C[C_PR0] + PR_FIELDS * p
        held = list(pr.held) + [-1] * (2 - len(pr.held))
        F[b:b + PR_FIELDS] = (pr.pc, pr.attempts, pr.cur, pr.size, pr.nmi, to_i64(pr.cons),
                              to_i64(pr.prod), to_i64(pr.pend), held[0], held[1], pr.flags)
    for j, (rec, ok) in enumerate(s.delivered):
        F[C[C_DEL0] + j] = (rec + 1) * 2 + ok
    return F


def from_flat(lay: Layout, F: np.ndarray) -> State:
    """The State a flat array stands for."""
    C = lay.C
    cfg = lay.config
    F = [int(x) for x in F]
    records = []
    for r in range(cfg.producers * cfg.records):
        b = C[C_REC0] + REC_FIELDS * r
        records.append(Record(F[b], to_u64(F[b + 1]), F[b + 2], F[b + 3]))
    producers = []
    for p in range(cfg.producers):
        b = C[C_PR0] + PR_FIELDS * p
        held = tuple(h for h in F[b + PR_HELD0:b + PR_HELD1 + 1] if h >= 0)
        producers.append(Producer(F[b], F[b + 1], F[b + 2], F[b + 3], bool(F[b + 4]), to_u64(F[b + 5]),
                                  to_u64(F[b + 6]), to_u64(F[b + 7]), held, F[b + PR_FLAGS]))
    d0 = C[C_DEL0]
    delivered = tuple((F[d0 + j] // 2 - 1, bool(F[d0 + j] & 1)) for j in range(F[F_NDEL]))
    return State(
        consumer_pos=to_u64(F[F_CONS]), producer_pos=to_u64(F[F_PROD]), pending_pos=to_u64(F[F_PEND]),
        lock=F[F_LOCK],
        slots=tuple(F[C[C_SLOT0]:C[C_SLOT0] + cfg.slots]),
        records=tuple(records),
        producers=tuple(producers),
        consumer=Consumer(F[F_CPC], to_u64(F[F_CCONS]), to_u64(F[F_CPROD]), bool(F[F_CGOT]), F[F_CLEN]),
        irq_pending=bool(F[F_IRQ]), edge_ready=bool(F[F_EDGE]),
        delivered=delivered,
    )


# ---------------------------------------------------------------- flat <-> packed (compiled)


@hot
def _size_code(C, v):
    for i in range(C[C_NLENS]):
        if C[C_LENS + i] == v:
            return i
    return -1


@hot
def _len_code(C, v):
    """A len word (size | DISCARD | BUSY) as size code, discard bit, busy bit; -1 if not one."""
    size = v & LEN_MASK
    if v & ~(LEN_MASK | DISCARD_BIT | BUSY_BIT):
        return -1
    code = _size_code(C, size)
    if code < 0:
        return -1
    sb = C[C_SIZE_BITS]
    return code | (((v >> 30) & 1) << sb) | (((v >> 31) & 1) << (sb + 1))


@hot
def _len_word(C, code):
    sb = C[C_SIZE_BITS]
    size = C[C_LENS + (code & ((1 << sb) - 1))]
    return size | (((code >> sb) & 1) << 30) | (((code >> (sb + 1)) & 1) << 31)


@hot
def encode_field(C, kind, v):
    """The code of flat value ``v`` for a field of ``kind``; -1 when it has none."""
    if kind == K_PLAIN:
        return v
    if kind == K_PLUS1:
        return v + 1
    if kind == K_POS:
        if v == 0:
            return 0
        return (v - C[C_START]) + C[C_BIAS] + 1
    if kind == K_SIZE:
        return _size_code(C, v)
    if kind == K_LEN:
        return _len_code(C, v)
    if kind == K_SLOT:
        k = v & 3
        if k == 0:
            return 0 if v == 0 else -1
        owner = (v >> 2) & 0xFF
        if owner >= C[C_R]:
            return -1
        if k == 2:
            return -1 if v >> 10 else 2 | (owner << 2)
        lc = _len_code(C, v >> 10)
        if k != 1 or lc < 0:
            return -1
        return 1 | (owner << 2) | (lc << (2 + C[C_OWNER_BITS]))
    if kind == K_ENTRY:
        return v + 1
    return -1


@hot
def decode_field(C, kind, code):
    """Inverse of ``encode_field``."""
    if kind == K_PLAIN:
        return code
    if kind == K_PLUS1:
        return code - 1
    if kind == K_POS:
        if code == 0:
            return 0
        return C[C_START] + (code - 1 - C[C_BIAS])
    if kind == K_SIZE:
        return C[C_LENS + code]
    if kind == K_LEN:
        return _len_word(C, code)
    if kind == K_SLOT:
        if code == 0:
            return 0
        rb = C[C_OWNER_BITS]
        owner = (code >> 2) & ((1 << rb) - 1)
        if code & 3 == 2:
            return 2 | (owner << 2)
        return 1 | (owner << 2) | ((_len_word(C, code >> (2 + rb)) & 0xFFFFFFFF) << 10)
    if kind == K_ENTRY:
        return code - 1
    return 0


@hot
def pack(C, FT, F, out):
    """Pack flat ``F`` into ``out`` (nwords int64); False when a value does not fit its field."""
    for w in range(C[C_NWORDS]):
        out[w] = 0
    d0 = C[C_DEL0]
    n_del = F[F_NDEL]
    for i in range(C[C_NFLAT]):
        kind = FT[i, 3]
        if kind == K_NONE:
            if i != F_NDEL and F[i] != FT[i, 4]:
                return False
            continue
        if kind == K_ENTRY and i - d0 >= n_del:
            continue
        code = encode_field(C, kind, F[i])
        if code < 0 or code >= (1 << FT[i, 2]):
            return False
        out[FT[i, 0]] |= code << FT[i, 1]
    return True


@hot
def unpack(C, FT, words, F):
    """Unpack ``words`` into flat ``F`` (inverse of ``pack``).

    The delivery log is a prefix of non-zero codes, so its loop stops at the
    first empty entry and clears the rest (most states have a short log).
    """
    d0 = C[C_DEL0]
    nflat = C[C_NFLAT]
    start = C[C_START]
    bias = C[C_BIAS]
    for i in range(d0):
        kind = FT[i, 3]
        if kind == K_NONE:
            F[i] = FT[i, 4]
            continue
        code = (words[FT[i, 0]] >> FT[i, 1]) & ((1 << FT[i, 2]) - 1)
        if kind == K_POS:
            F[i] = 0 if code == 0 else start + (code - 1 - bias)
        elif kind == K_PLAIN:
            F[i] = code
        elif kind == K_PLUS1:
            F[i] = code - 1
        else:
            F[i] = decode_field(C, kind, code)
    n_del = 0
    for i in range(d0, nflat):
        code = (words[FT[i, 0]] >> FT[i, 1]) & ((1 << FT[i, 2]) - 1)
        if code == 0:
            break
        F[i] = code - 1
        n_del += 1
    for i in range(d0 + n_del, nflat):
        F[i] = 0
    F[F_NDEL] = n_del


# ---------------------------------------------------------------- State <-> packed


def encode(lay: Layout, s: State) -> np.ndarray:
    """The packed words of ``s`` (LayoutError when it does not fit)."""
    out = np.zeros(lay.nwords, dtype=np.int64)
    if not pack(lay.C, lay.FT, to_flat(lay, s), out):
        raise LayoutError("a value of the state does not fit its packed field")
    return out


def decode(lay: Layout, words: np.ndarray) -> State:
    """The State packed in ``words``."""
    F = np.zeros(lay.nflat, dtype=np.int64)
    unpack(lay.C, lay.FT, np.asarray(words, dtype=np.int64), F)
    return from_flat(lay, F)


@hot
def pack_changed(C, FT, before, before_words, F, out):
    """Pack ``F``, a successor of flat ``before`` whose packed words are ``before_words``.

    Only the fields that changed are encoded again (most steps change a few);
    the log entries past its length are zero in both (``unpack`` and the steps
    keep them so), so the comparison stops there.
    Returns -1 when a value does not fit, else 1 if a field any property reads
    (positions, slots, records, the delivery log) changed and 0 if not.
    """
    if F[F_NDEL] != before[F_NDEL]:
        return 1 if pack(C, FT, F, out) else -1
    for w in range(C[C_NWORDS]):
        out[w] = before_words[w]
    inputs = 0
    slot0 = C[C_SLOT0]
    pr0 = C[C_PR0]
    d0 = C[C_DEL0]
    start = C[C_START]
    bias = C[C_BIAS]
    for i in range(d0 + F[F_NDEL]):
        if F[i] == before[i]:
            continue
        kind = FT[i, 3]
        v = F[i]
        if kind == K_POS:
            code = 0 if v == 0 else (v - start) + bias + 1
        elif kind == K_PLAIN:
            code = v
        elif kind == K_PLUS1:
            code = v + 1
        elif kind == K_NONE:
            return -1
        else:
            code = encode_field(C, kind, v)
        width = FT[i, 2]
        if code < 0 or code >= (1 << width):
            return -1
        shift = FT[i, 1]
        w = FT[i, 0]
        out[w] = (out[w] & ~(((1 << width) - 1) << shift)) | (code << shift)
        if i <= F_PEND or (slot0 <= i < pr0) or i >= d0:
            inputs = 1
    return inputs

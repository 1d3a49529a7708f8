"""Symbolic ring buffer states: the vocabulary the SMT encodings are written in.

A ``SymState`` has exactly the shape of ``model.state.State`` (same field
names, same nesting) with z3 terms in place of Python values, so an SMT
property can be read line by line against its Python predicate.

Encoding choices, and why:

* Every integer (positions, program points, record ids, sizes, counters) is a
  64-bit bitvector. Positions are the kernel's u64 counters, so wrap-around
  modulo 2**64 is the bitvector's own arithmetic; small fields use the same
  width so that one set of helpers serves all and signed ``-1`` (a free lock,
  no record) is simply all-ones.
* ``slots`` is a ``Slots`` value: an array from a 64-bit word index
  (``(pos & mask) >> 3``) to the packed slot word of ``model.state``
  (kind | owner << 2 | len << 10), kept as its write history (a base, then
  single-word stores, range fills and ``If`` merges) and read with
  ``slots[index]``, which builds the nested ``If`` term for that index. Why
  this and not a z3 Array with a ``Lambda`` per payload write: a range write
  of any length stays one node (1535 words at S=0x4000 are one fill), the
  index sort does not depend on S (so S may be symbolic), and the formulas
  stay quantifier-free bitvector formulas. With z3 ``Lambda`` terms the
  CVE-2024-41009 unrolling at S=0x4000 came back ``unknown (incomplete
  quantifiers)`` after minutes; with the history it is solved in seconds.
  ``Slots.array(name)`` starts from an unconstrained z3 Array (for
  arbitrary pre-states). Only indices below S/8 mean anything.
* ``records``, ``producers``, each producer's ``held`` list and the
  ``delivered`` log are bounded symbolic lists (Python tuples of terms). Their
  lengths are fixed by the configuration (P*E records, P producers, ``hold``
  held entries), so for the record and producer lists the bound is exact. The
  delivered log has a capacity and a count; entries past the count stay at a
  canonical value so that equal states have equal terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import z3

from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT, MAX_RECORD_SZ, U64
from model.state import C_SLEEP, KIND_HEADER, KIND_PAYLOAD, P_IDLE

W = 64
"""Width of every bitvector in the encoding."""

NONE = U64
"""``-1`` as a 64-bit pattern: a free lock, no current record, an unreserved seq."""


def bv(n: int) -> z3.BitVecRef:
    """A 64-bit constant (negative numbers wrap, so ``bv(-1)`` is all ones)."""
    return z3.BitVecVal(n & U64, W)


ABSENT = z3.BitVecVal(0, W)
"""The one term a field added for overwrite mode (``SymState.overwrite_pos``, ``SymProducer.over``)
holds in every other configuration: ``eq`` and ``state_eq`` skip it, and ``ite`` keeps it, so the
formulas (and the proof digests) of those configurations are the terms they always were."""


def flag(b: z3.BoolRef | bool) -> z3.BitVecRef:
    """A Boolean as the 0/1 integer an action argument carries."""
    return z3.If(b, bv(1), bv(0)) if isinstance(b, z3.ExprRef) else bv(int(b))


# ---------------------------------------------------------------- the ring


@dataclass(frozen=True)
class Ring:
    """The ring size as a term: a constant for a configuration, or S = 2**k for proofs."""

    size: z3.BitVecRef
    concrete: int | None = None
    """S when it is a constant (enables loops over the slots), else None."""

    @property
    def mask(self) -> z3.BitVecRef:
        """``S - 1``."""
        return self.size - 1

    @property
    def nslots(self) -> z3.BitVecRef:
        """Words in the data area, ``S / 8``."""
        return z3.LShR(self.size, 3)

    @classmethod
    def of(cls, cfg: Config) -> "Ring":
        """The configuration's (constant) ring size."""
        return cls(bv(cfg.ring_size), cfg.ring_size)

    @classmethod
    def symbolic(cls, name: str = "k", max_log2: int = 32) -> tuple["Ring", z3.BitVecRef, z3.BoolRef]:
        """S = 2**k for a symbolic k with 4 <= k <= max_log2; returns (ring, k, assumption)."""
        k = z3.BitVec(name, W)
        return cls(bv(1) << k), k, z3.And(z3.UGE(k, 4), z3.ULE(k, max_log2))


# ---------------------------------------------------------------- arithmetic (model.constants)


def record_length(size: z3.BitVecRef) -> z3.BitVecRef:
    """``round_up(size + 8, 8)``: bytes a record takes on the ring."""
    return (size + 15) & bv(~7)


def distance(to: z3.BitVecRef, frm: z3.BitVecRef) -> z3.BitVecRef:
    """``to - frm`` modulo 2**64, as the kernel computes it."""
    return to - frm


def is_ahead(pos: z3.BitVecRef, ref: z3.BitVecRef) -> z3.BoolRef:
    """``pos`` is at or past ``ref`` on the 64-bit circle."""
    return z3.ULT(pos - ref, bv(1 << 63))


def slot_index(ring: Ring, pos: z3.BitVecRef) -> z3.BitVecRef:
    """The word index of byte position ``pos``: ``(pos & mask) >> 3``."""
    return z3.LShR(pos & ring.mask, 3)


def refused_early(cfg: Config, ring: Ring, size: z3.BitVecRef) -> z3.BoolRef:
    """Reserve step 0 (flags are always 0 in the explored model)."""
    too_big = z3.UGT(size, bv(MAX_RECORD_SZ))
    if cfg.checks_record_size:
        return z3.Or(too_big, z3.UGT(record_length(size), ring.size))
    return too_big


# ---------------------------------------------------------------- slot words (model.state)


def header_word(owner: z3.BitVecRef, len_word: z3.BitVecRef) -> z3.BitVecRef:
    """Slot value of ``owner``'s header holding ``len_word``."""
    return bv(KIND_HEADER) | (owner << 2) | ((len_word & bv(0xFFFFFFFF)) << 10)


def payload_word(owner: z3.BitVecRef) -> z3.BitVecRef:
    """Slot value of a payload word written by ``owner``."""
    return bv(KIND_PAYLOAD) | (owner << 2)


def slot_kind(word: z3.BitVecRef) -> z3.BitVecRef:
    """KIND_HEADER, KIND_PAYLOAD or SLOT_EMPTY."""
    return word & 3


def slot_owner(word: z3.BitVecRef) -> z3.BitVecRef:
    """The record that last wrote the slot, or -1 if never written."""
    return z3.If(word == 0, bv(-1), z3.LShR(word, 2) & 0xFF)


def read_len(word: z3.BitVecRef) -> z3.BitVecRef:
    """The len word a reader sees; bytes that are not a header read as 0."""
    return z3.If(slot_kind(word) == KIND_HEADER, z3.LShR(word, 10), bv(0))


def is_busy(len_word: z3.BitVecRef) -> z3.BoolRef:
    """BUSY bit set."""
    return len_word & BUSY_BIT != 0


def is_discard(len_word: z3.BitVecRef) -> z3.BoolRef:
    """DISCARD bit set."""
    return len_word & DISCARD_BIT != 0


# ---------------------------------------------------------------- the data area


class Slots:
    """The data area as a write history; ``slots[i]`` is the term for word ``i``."""

    __slots__ = ("op", "a", "b", "c", "prev", "other", "_memo")

    def __init__(self, op: str, a=None, b=None, c=None, prev: "Slots | None" = None,
                 other: "Slots | None" = None) -> None:
        self.op, self.a, self.b, self.c, self.prev, self.other = op, a, b, c, prev, other
        self._memo: dict[int, z3.BitVecRef] = {}

    @classmethod
    def constant(cls, words: Sequence[int]) -> "Slots":
        """Known contents (unlisted indices read 0)."""
        return cls("const", {i: w for i, w in enumerate(words) if w})

    @classmethod
    def array(cls, name: str) -> "Slots":
        """Unknown contents: an unconstrained z3 Array."""
        return cls("array", z3.Array(name, z3.BitVecSort(W), z3.BitVecSort(W)))

    def store(self, idx: z3.BitVecRef, word: z3.BitVecRef) -> "Slots":
        """Word ``idx`` set to ``word``."""
        return Slots("store", idx, word, prev=self)

    def fill(self, first: z3.BitVecRef, words: z3.BitVecRef, nslots: z3.BitVecRef,
             word: z3.BitVecRef) -> "Slots":
        """``words`` consecutive words from ``first`` (wrapping modulo ``nslots``) set to ``word``."""
        return Slots("fill", (first, nslots), words, word, prev=self)

    def ite(self, cond: z3.BoolRef, other: "Slots") -> "Slots":
        """``self`` if ``cond`` else ``other``."""
        if self is other:
            return self
        return Slots("ite", cond, prev=self, other=other)

    def written(self, value: Callable[[z3.BitVecRef], int]) -> set[int] | None:
        """Every index this history may have written, given ``value`` (a model's evaluation of a term):
        the others read 0. None when an unconstrained array is in it (every index may be nonzero).

        A decoder reads only these, so a state of a ring of 2**25 bytes decodes
        without evaluating four million terms.
        """
        out: set[int] = set()
        todo: list[Slots] = [self]
        seen: set[int] = set()
        while todo:
            node = todo.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.op == "array":
                return None
            if node.op == "const":
                out.update(node.a)
            elif node.op == "store":
                out.add(value(node.a))
            elif node.op == "fill":
                first, nslots = value(node.a[0]), value(node.a[1])
                out.update((first + i) % nslots for i in range(min(value(node.b), nslots)))
            if node.prev is not None:
                todo.append(node.prev)
            if node.other is not None:
                todo.append(node.other)
        return out

    def __getitem__(self, j: z3.BitVecRef) -> z3.BitVecRef:
        key = j.get_id()
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        op = self.op
        if op == "const":
            out = bv(0)
            for i, w in sorted(self.a.items(), reverse=True):
                out = z3.If(j == i, bv(w), out)
        elif op == "array":
            out = z3.Select(self.a, j)
        elif op == "store":
            out = z3.If(j == self.a, self.b, self.prev[j])
        elif op == "fill":
            first, nslots = self.a
            out = z3.If(z3.ULT((j - first) & (nslots - 1), self.b), self.c, self.prev[j])
        else:
            out = z3.If(self.a, self.prev[j], self.other[j])
        self._memo[key] = out
        return out


# ---------------------------------------------------------------- the symbolic state


class SymRecord(NamedTuple):
    """``model.state.Record`` with terms."""

    status: z3.BitVecRef
    pos: z3.BitVecRef
    size: z3.BitVecRef
    seq: z3.BitVecRef


class SymProducer(NamedTuple):
    """``model.state.Producer`` with terms; ``held`` is a list of ``hold`` entries plus a count."""

    pc: z3.BitVecRef
    attempts: z3.BitVecRef
    cur: z3.BitVecRef
    size: z3.BitVecRef
    nmi: z3.BitVecRef
    cons: z3.BitVecRef
    prod: z3.BitVecRef
    pend: z3.BitVecRef
    held: tuple[z3.BitVecRef, ...]
    """Entries past ``held_n`` are -1."""
    held_n: z3.BitVecRef
    flags: z3.BitVecRef
    over: z3.BitVecRef = ABSENT
    """Overwrite mode: the overwrite_pos being advanced (``model.state.Producer.over``)."""


class SymConsumer(NamedTuple):
    """``model.state.Consumer`` with terms."""

    pc: z3.BitVecRef
    cons: z3.BitVecRef
    prod: z3.BitVecRef
    got_new: z3.BoolRef
    len: z3.BitVecRef


class SymLog(NamedTuple):
    """The ghost ``delivered`` log: ``n`` entries of (record id or -1, intact) out of a fixed capacity."""

    n: z3.BitVecRef
    recs: tuple[z3.BitVecRef, ...]
    """Entries past ``n`` are -1."""
    intact: tuple[z3.BoolRef, ...]
    """Entries past ``n`` are False."""


class SymState(NamedTuple):
    """``model.state.State`` with terms (see the module docstring for the encoding)."""

    consumer_pos: z3.BitVecRef
    producer_pos: z3.BitVecRef
    pending_pos: z3.BitVecRef
    lock: z3.BitVecRef
    slots: Slots
    records: tuple[SymRecord, ...]
    producers: tuple[SymProducer, ...]
    consumer: SymConsumer
    irq_pending: z3.BoolRef
    edge_ready: z3.BoolRef
    delivered: SymLog
    overwrite_pos: z3.BitVecRef = ABSENT
    """Overwrite mode only (``model.state.State.overwrite_pos``); ``ABSENT`` elsewhere."""


def fresh_state(cfg: Config, name: str, log_capacity: int, slots: Slots | None = None) -> SymState:
    """A state whose every field is a fresh constant named after ``name`` (``slots`` may be given)."""

    def v(f: str) -> z3.BitVecRef:
        return z3.BitVec(f"{name}.{f}", W)

    def b(f: str) -> z3.BoolRef:
        return z3.Bool(f"{name}.{f}")

    records = tuple(SymRecord(v(f"r{i}.status"), v(f"r{i}.pos"), v(f"r{i}.size"), v(f"r{i}.seq"))
                    for i in range(cfg.producers * cfg.records))
    producers = tuple(
        SymProducer(v(f"p{p}.pc"), v(f"p{p}.attempts"), v(f"p{p}.cur"), v(f"p{p}.size"), v(f"p{p}.nmi"),
                    v(f"p{p}.cons"), v(f"p{p}.prod"), v(f"p{p}.pend"),
                    tuple(v(f"p{p}.held{j}") for j in range(cfg.hold)), v(f"p{p}.held_n"), v(f"p{p}.flags"),
                    *((v(f"p{p}.over"),) if cfg.rules.overwrite else ()))
        for p in range(cfg.producers))
    consumer = SymConsumer(v("c.pc"), v("c.cons"), v("c.prod"), b("c.got_new"), v("c.len"))
    log = SymLog(v("log.n"), tuple(v(f"log{j}.rec") for j in range(log_capacity)),
                 tuple(b(f"log{j}.intact") for j in range(log_capacity)))
    return SymState(v("consumer_pos"), v("producer_pos"), v("pending_pos"), v("lock"),
                    slots if slots is not None else Slots.array(f"{name}.slots"),
                    records, producers, consumer, b("irq_pending"), b("edge_ready"), log,
                    *((v("overwrite_pos"),) if cfg.rules.overwrite else ()))


def ite(c: z3.BoolRef, a, b):
    """Field-wise ``If(c, a, b)`` over (nested) symbolic states, lists and terms."""
    if a is b:
        return a
    if isinstance(a, Slots):
        return a.ite(c, b)
    if isinstance(a, tuple):
        out = [ite(c, x, y) for x, y in zip(a, b)]
        return type(a)(*out) if hasattr(a, "_fields") else tuple(out)
    if isinstance(a, z3.ExprRef) and a.eq(b):
        return a
    return z3.If(c, a, b)


def pick(items: Sequence, idx: z3.BitVecRef):
    """``items[idx]`` for a symbolic index (out of range gives the last item)."""
    out = items[-1]
    for i in range(len(items) - 2, -1, -1):
        out = ite(idx == i, items[i], out)
    return out


def set_at(items: Sequence, idx: z3.BitVecRef | int, new) -> tuple:
    """``items`` with ``items[idx] = new`` for a constant or symbolic index."""
    if isinstance(idx, int):
        return tuple(new if i == idx else x for i, x in enumerate(items))
    return tuple(ite(idx == i, new, x) for i, x in enumerate(items))


def eq(a, b) -> z3.BoolRef:
    """Field-wise equality of two symbolic values of the same shape; slots must be the same history."""
    if isinstance(a, Slots):
        assert a is b, "eq() compares slot histories by identity; use state_eq for contents"
        return z3.BoolVal(True)
    if isinstance(a, tuple):
        return z3.And([eq(x, y) for x, y in zip(a, b) if not (x is ABSENT and y is ABSENT)])
    return a == b


def state_eq(ring: Ring, a: SymState, b: SymState) -> z3.BoolRef:
    """Two states are equal: every field, and the slots at every index below S/8 (constant S only)."""
    assert ring.concrete is not None, "state equality over slots needs a constant ring size"
    slots = [a.slots[bv(i)] == b.slots[bv(i)] for i in range(ring.concrete // 8)]
    rest = [eq(x, y) for x, y, f in zip(a, b, SymState._fields)
            if f != "slots" and not (x is ABSENT and y is ABSENT)]
    return z3.And(slots + rest)


# ---------------------------------------------------------------- model.ringbuf helpers


def producer_done(cfg: Config, pr: SymProducer) -> z3.BoolRef:
    """All attempts used and every reservation committed."""
    return z3.And(pr.pc == P_IDLE, pr.attempts == cfg.records, pr.held_n == 0)


def is_terminal(cfg: Config, s: SymState) -> z3.BoolRef:
    """``RingBufModel.is_terminal``: producers done, no irq_work queued, consumer asleep (or adversarial)."""
    done = [producer_done(cfg, pr) for pr in s.producers] + [z3.Not(s.irq_pending)]
    if cfg.honest:
        done.append(s.consumer.pc == C_SLEEP)
    return z3.And(done)


def as_bool(b: z3.BoolRef | bool) -> z3.BoolRef:
    """A Python or z3 Boolean as a z3 Boolean."""
    return z3.BoolVal(b) if isinstance(b, bool) else b

"""Named auxiliary invariants of the user ring proofs, over ``checker.smt.user.state.SymUserState``.

Each is ``(cfg, ring, s) -> z3 Bool`` with a name and a one-line statement
(``checker.smt.invariants.Invariant``). They speak of the kernel side only:
the busy word, the drains' locals and the ghost ``last_advance``. Nothing is
assumed of what user space writes (producer_pos and the data area are
whatever the adversary stored last), which is why the same invariants serve
the adversarial and the libbpf producer. Notation: a drain is *running*
between its busy cmpxchg and its release of the busy word
(``model.userring.state.RUNNING``); ``total(len)`` is ``sample_total``.
"""

from __future__ import annotations

import z3

from checker.smt.invariants import Invariant
from checker.smt.user.state import SymDrain, SymUserState, sample_len, sample_total
from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT
from model.userring.drain import DYNPTR_MAX_SIZE
from model.userring.state import D_CALLBACK, D_DISCARD, D_END, D_IDLE, D_LOAD_CONS, D_READ_HDR, D_RELEASE
from specs.smt import Ring


def running(d: SymDrain) -> z3.BoolRef:
    """The drain holds the busy word (a program point in ``RUNNING``)."""
    return z3.And(d.pc != D_IDLE, z3.ULE(d.pc, D_END))


def _at(d: SymDrain, *pcs: int) -> z3.BoolRef:
    return z3.Or([d.pc == pc for pc in pcs])


def validated(ring: Ring, cons: z3.BitVecRef, prod: z3.BitVecRef, len_word: z3.BitVecRef) -> z3.BoolRef:
    """The sample at ``cons`` with header ``len_word`` passed peek's position tests against ``prod``: there
    is data, the sample lies within what ``prod`` advertises, and it fits the data area."""
    total = sample_total(len_word)
    return z3.And(z3.ULT(cons, prod), z3.ULE(total, prod - cons), z3.ULE(total, ring.size))


def well_formed(cfg: Config, ring: Ring, s: SymUserState) -> z3.BoolRef:
    return z3.And([z3.Or(s.busy == 0, s.busy == 1)] + [z3.ULE(d.pc, D_END) for d in s.drains])


def busy_owner(cfg: Config, ring: Ring, s: SymUserState) -> z3.BoolRef:
    out = [(s.busy == 1) == z3.Or([running(d) for d in s.drains])]
    for i, d in enumerate(s.drains):
        for e in s.drains[i + 1:]:
            out.append(z3.Not(z3.And(running(d), running(e))))
    return z3.And(out)


def drain_prod_aligned(cfg: Config, ring: Ring, s: SymUserState) -> z3.BoolRef:
    return z3.And([z3.Implies(_at(d, D_LOAD_CONS, D_READ_HDR, D_DISCARD, D_CALLBACK, D_RELEASE), d.prod & 7 == 0)
                   for d in s.drains])


def drain_cursor(cfg: Config, ring: Ring, s: SymUserState) -> z3.BoolRef:
    out = []
    for d in s.drains:
        out.append(z3.Implies(_at(d, D_READ_HDR, D_DISCARD, D_CALLBACK, D_RELEASE),
                              z3.And(d.cons == s.consumer_pos, z3.ULT(d.cons, d.prod))))
    return z3.And(out)


def drain_sample(cfg: Config, ring: Ring, s: SymUserState) -> z3.BoolRef:
    return z3.And([z3.Implies(_at(d, D_DISCARD, D_CALLBACK, D_RELEASE), validated(ring, d.cons, d.prod, d.len))
                   for d in s.drains])


def drain_sample_dynptr(cfg: Config, ring: Ring, s: SymUserState) -> z3.BoolRef:
    return z3.And([z3.Implies(_at(d, D_DISCARD, D_CALLBACK, D_RELEASE), z3.ULE(sample_len(d.len), DYNPTR_MAX_SIZE))
                   for d in s.drains])


def drain_sample_flags(cfg: Config, ring: Ring, s: SymUserState) -> z3.BoolRef:
    out = []
    for d in s.drains:
        out.append(z3.Implies(d.pc == D_DISCARD, d.len & DISCARD_BIT != 0))
        out.append(z3.Implies(_at(d, D_CALLBACK, D_RELEASE), d.len & (DISCARD_BIT | BUSY_BIT) == 0))
    return z3.And(out)


def advance_validated(cfg: Config, ring: Ring, s: SymUserState) -> z3.BoolRef:
    a = s.last_advance
    return z3.Implies(a.present, z3.And(a.old == a.at, a.new == a.old + sample_total(a.len),
                                        validated(ring, a.at, a.prod, a.len)))


INVARIANTS = [
    Invariant("well_formed", "the busy word is 0 or 1; every drain is at one of its program points", well_formed),
    Invariant("busy_owner", "the busy word is 1 exactly while some drain runs, and no two drains run at once",
              busy_owner),
    Invariant("drain_prod_aligned", "a running drain past load_prod read a producer_pos that is a multiple of 8",
              drain_prod_aligned),
    Invariant("drain_cursor", "a running drain past load_cons read consumer_pos, which nobody has moved since, "
                              "and it is below the producer_pos it read", drain_cursor),
    Invariant("drain_sample", "a drain about to skip, hand over or release a sample has validated its header "
                              "against the positions it read (there is data, it ends at or before that "
                              "producer_pos, it is at most S long)", drain_sample),
    Invariant("drain_sample_dynptr", "a drain about to skip, hand over or release a sample has a size that fits "
                                     "a dynptr", drain_sample_dynptr),
    Invariant("drain_sample_flags", "a drain skips only a DISCARD sample and hands over or releases only one with "
                                    "neither flag", drain_sample_flags),
    Invariant("advance_validated", "the last store of consumer_pos moved it by the total of a header validated "
                                   "at the old position", advance_validated),
]
"""The auxiliary invariants, in the order they are proved."""

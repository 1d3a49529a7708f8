"""Deciding quantifier-free proof obligations with Bitwuzla instead of z3.

The proofs are written in z3's Python API (the model's step terms, the
property encodings, the invariants), and z3's incremental solver settles most
obligations in milliseconds. With four records some obligations are hard
bit-vector problems: several 64-bit positions related by sums and ``<=``
through the tiling of the ring. z3 (incremental or eagerly bit-blasted) needs
100-250 s on the worst of them, or does not come back; Bitwuzla, a solver
built for exactly this logic (QF_ABV), settles the same queries in 1-50 s.

So a query z3 does not settle quickly is translated, term by term, into
Bitwuzla's API and decided there. Nothing about the problem changes: the
translation maps each z3 operator to the Bitwuzla operator of the same
SMT-LIB meaning (table ``_OPS``), and refuses (``Untranslatable``) anything
it does not know, so the caller falls back to z3. ``unsat`` from either
solver is a proof; the tests check on random formulas that both solvers
agree.
"""

from __future__ import annotations

import time

import z3

from checker import interrupt
from checker.smt.terms import fold

try:  # an optional speed-up: without it the prover uses z3 alone
    import bitwuzla as _bw
except ImportError:  # pragma: no cover - bitwuzla is a declared dependency
    _bw = None


class Untranslatable(ValueError):
    """A z3 term has an operator or sort this translation does not cover."""


def available() -> bool:
    """Whether the Bitwuzla bindings are installed."""
    return _bw is not None


def _ops() -> dict[int, object]:
    K = _bw.Kind
    return {
        z3.Z3_OP_AND: K.AND, z3.Z3_OP_OR: K.OR, z3.Z3_OP_NOT: K.NOT, z3.Z3_OP_IMPLIES: K.IMPLIES,
        z3.Z3_OP_XOR: K.XOR, z3.Z3_OP_ITE: K.ITE, z3.Z3_OP_EQ: K.EQUAL, z3.Z3_OP_DISTINCT: K.DISTINCT,
        z3.Z3_OP_IFF: K.IFF,
        z3.Z3_OP_ULEQ: K.BV_ULE, z3.Z3_OP_ULT: K.BV_ULT, z3.Z3_OP_UGEQ: K.BV_UGE, z3.Z3_OP_UGT: K.BV_UGT,
        z3.Z3_OP_SLEQ: K.BV_SLE, z3.Z3_OP_SLT: K.BV_SLT, z3.Z3_OP_SGEQ: K.BV_SGE, z3.Z3_OP_SGT: K.BV_SGT,
        z3.Z3_OP_BADD: K.BV_ADD, z3.Z3_OP_BSUB: K.BV_SUB, z3.Z3_OP_BMUL: K.BV_MUL,
        z3.Z3_OP_BAND: K.BV_AND, z3.Z3_OP_BOR: K.BV_OR, z3.Z3_OP_BXOR: K.BV_XOR,
        z3.Z3_OP_BNOT: K.BV_NOT, z3.Z3_OP_BNEG: K.BV_NEG,
        z3.Z3_OP_BSHL: K.BV_SHL, z3.Z3_OP_BLSHR: K.BV_SHR, z3.Z3_OP_BASHR: K.BV_ASHR,
        z3.Z3_OP_CONCAT: K.BV_CONCAT, z3.Z3_OP_SELECT: K.ARRAY_SELECT, z3.Z3_OP_STORE: K.ARRAY_STORE,
        # z3's internal "_i" forms are division with SMT-LIB's total semantics (x/0 = all ones, x%0 = x),
        # which is what Bitwuzla's operators mean.
        z3.Z3_OP_BUDIV: K.BV_UDIV, z3.Z3_OP_BUREM: K.BV_UREM,
        z3.Z3_OP_BUDIV_I: K.BV_UDIV, z3.Z3_OP_BUREM_I: K.BV_UREM,
    }


class Translator:
    """z3 terms to Bitwuzla terms over one TermManager; constants are shared by name, so the translations
    of several formulas speak about the same unknowns."""

    def __init__(self, tm) -> None:
        self.tm = tm
        self.ops = _ops()
        self._memo: dict[int, tuple[z3.ExprRef, object]] = {}
        self._consts: dict[str, object] = {}
        K = _bw.Kind
        self._nary = {K.AND, K.OR, K.BV_ADD, K.BV_MUL, K.BV_AND, K.BV_OR, K.BV_XOR, K.BV_CONCAT}

    def sort(self, s: z3.SortRef):
        """The Bitwuzla sort of a z3 Bool, bit-vector or array sort."""
        if s.kind() == z3.Z3_BOOL_SORT:
            return self.tm.mk_bool_sort()
        if s.kind() == z3.Z3_BV_SORT:
            return self.tm.mk_bv_sort(s.size())
        if s.kind() == z3.Z3_ARRAY_SORT:
            return self.tm.mk_array_sort(self.sort(s.domain()), self.sort(s.range()))
        raise Untranslatable(f"sort {s}")

    def __call__(self, e: z3.ExprRef):
        """The translation of ``e``; subterms translated before (this translator's memo) are reused."""
        return fold(e, self._make, self._memo)

    def _make(self, x: z3.ExprRef, args: list):
        if not z3.is_app(x):
            raise Untranslatable(f"not quantifier-free: {str(x)[:80]}")
        tm, K = self.tm, _bw.Kind
        k = x.decl().kind()
        if k == z3.Z3_OP_TRUE:
            return tm.mk_true()
        if k == z3.Z3_OP_FALSE:
            return tm.mk_false()
        if k == z3.Z3_OP_BNUM:
            return tm.mk_bv_value(self.sort(x.sort()), x.as_long())
        if k == z3.Z3_OP_UNINTERPRETED and not args:
            name = x.decl().name()
            if name not in self._consts:
                self._consts[name] = tm.mk_const(self.sort(x.sort()), name)
            return self._consts[name]
        if k == z3.Z3_OP_EXTRACT:
            return tm.mk_term(K.BV_EXTRACT, args, list(x.params()))
        if k == z3.Z3_OP_ZERO_EXT:
            return tm.mk_term(K.BV_ZERO_EXTEND, args, [x.params()[0]])
        if k == z3.Z3_OP_SIGN_EXT:
            return tm.mk_term(K.BV_SIGN_EXTEND, args, [x.params()[0]])
        if k == z3.Z3_OP_CONST_ARRAY:
            return tm.mk_const_array(self.sort(x.sort()), args[0])
        kind = self.ops.get(k)
        if kind is None:
            raise Untranslatable(f"operator {x.decl().name()}")
        if kind in (K.AND, K.OR) and len(args) < 2:
            return args[0] if args else (tm.mk_true() if kind == K.AND else tm.mk_false())
        if kind in self._nary and len(args) > 2:
            out = args[0]
            for a in args[1:]:
                out = tm.mk_term(kind, [out, a])
            return out
        return tm.mk_term(kind, args)


class Session:
    """One Bitwuzla instance holding a hypothesis; ``refutes(goal)`` asks whether the goal follows, each goal
    under its own assumption so the instance is reused across the conjuncts of an obligation.

    Besides its own time limit, a check ends when a signal arrives (``checker.interrupt``, raised once the
    solver has returned) or at ``until``, a ``time.monotonic()`` deadline given per check."""

    def __init__(self, hypothesis: z3.BoolRef, timeout_s: float) -> None:
        opts = _bw.Options()
        opts.set(_bw.Option.TIME_LIMIT_PER, max(1, int(timeout_s * 1000)))
        opts.set(_bw.Option.PRODUCE_UNSAT_ASSUMPTIONS, True)
        self._tm = _bw.TermManager()
        self._solver = _bw.Bitwuzla(self._tm, opts)
        self._until: float | None = None
        signalled = interrupt.terminator()
        self._solver.configure_terminator(
            lambda: signalled() or (self._until is not None and time.monotonic() >= self._until))
        self._tr = Translator(self._tm)
        self._solver.assert_formula(self._tr(hypothesis))

    def refutes(self, goal: z3.BoolRef, until: float | None = None) -> z3.CheckSatResult:
        """``unsat`` when hypothesis and not goal cannot both hold (the goal follows), ``sat``, or ``unknown``
        (time limit, or the deadline ``until``)."""
        term = self._tr(z3.Not(goal))
        self._until = until
        with interrupt.deferred():
            return _as_z3(self._solver.check_sat(term))


def check(formula: z3.BoolRef, timeout_s: float = 60.0) -> z3.CheckSatResult:
    """Satisfiability of one quantifier-free z3 formula, decided by Bitwuzla."""
    opts = _bw.Options()
    opts.set(_bw.Option.TIME_LIMIT_PER, max(1, int(timeout_s * 1000)))
    tm = _bw.TermManager()
    solver = _bw.Bitwuzla(tm, opts)
    solver.configure_terminator(interrupt.terminator())
    solver.assert_formula(Translator(tm)(formula))
    with interrupt.deferred():
        return _as_z3(solver.check_sat())


def _as_z3(result) -> z3.CheckSatResult:
    return {_bw.Result.SAT: z3.sat, _bw.Result.UNSAT: z3.unsat}.get(result, z3.unknown)

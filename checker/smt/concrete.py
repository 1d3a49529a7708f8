"""Symbolic terms evaluated on explicit states: build the terms once, plug states in as values.

Building z3 terms for one explicit state costs milliseconds, too much for a
check that visits every reachable state and every transition. So terms are
built once, over a symbolic state whose every field is a named constant
(``variable_state``: with a constant ring size the data area is S/8 word
constants, so there is no array), and an explicit state is plugged in by
giving those constants values in one z3 model (``Valuation``) and asking z3 to
evaluate the term there (``model.eval``). The answer is z3's own evaluation of
the very term the encoding built: nothing of the encoding is re-implemented
here. Only constants whose value changed since the previous state are re-set,
which is what makes it fast (tens of microseconds per evaluation).

``flat_values`` lays an explicit state out in the order of ``variable_state``'s
constants, the way ``checker.smt.codec.encode_state`` would encode it: held
entries past the count are -1, log entries past the count are (-1, False);
overwrite mode adds overwrite_pos and each producer's ``over`` at the end.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from model.config import Config
from model.constants import U64
from model.state import State
from specs.smt import Slots, SymState, W, bv, fresh_state


def variable_state(cfg: Config, name: str, log_capacity: int) -> tuple[SymState, list[z3.ExprRef]]:
    """A symbolic state of named constants, slot words included, and those constants in ``flat_values`` order."""
    words = [z3.BitVec(f"{name}.slot{i}", W) for i in range(cfg.slots)]
    slots = Slots.constant(())
    for i, w in enumerate(words):
        slots = slots.store(bv(i), w)
    s = fresh_state(cfg, name, log_capacity, slots=slots)
    out: list[z3.ExprRef] = [s.consumer_pos, s.producer_pos, s.pending_pos, s.lock, *words]
    for r in s.records:
        out += list(r)
    for p in s.producers:
        out += [p.pc, p.attempts, p.cur, p.size, p.nmi, p.cons, p.prod, p.pend, *p.held, p.held_n, p.flags]
    out += list(s.consumer)
    out += [s.irq_pending, s.edge_ready, s.delivered.n, *s.delivered.recs, *s.delivered.intact]
    if cfg.rules.overwrite:
        out += [s.overwrite_pos] + [p.over for p in s.producers]
    return s, out


def flat_values(cfg: Config, s: State, log_capacity: int) -> tuple[int | bool, ...]:
    """``s`` as values of ``variable_state``'s constants (integers as u64 patterns, flags as bools)."""
    out: list[int | bool] = [s.consumer_pos, s.producer_pos, s.pending_pos, s.lock, *s.slots]
    for r in s.records:
        out += [r.status, r.pos, r.size, r.seq]
    for p in s.producers:
        out += [p.pc, p.attempts, p.cur, p.size, int(p.nmi), p.cons, p.prod, p.pend, *p.held,
                *([-1] * (cfg.hold - len(p.held))), len(p.held), p.flags]
    c = s.consumer
    n = len(s.delivered)
    if n > log_capacity:
        raise ValueError(f"delivered log of {n} entries exceeds the capacity {log_capacity}")
    out += [c.pc, c.cons, c.prod, bool(c.got_new), c.len, bool(s.irq_pending), bool(s.edge_ready), n]
    out += [d[0] for d in s.delivered] + [-1] * (log_capacity - n)
    out += [bool(d[1]) for d in s.delivered] + [False] * (log_capacity - n)
    if cfg.rules.overwrite:
        out += [s.overwrite_pos] + [p.over for p in s.producers]
    return tuple(v if isinstance(v, bool) else v & U64 for v in out)


class Valuation:
    """One z3 model whose constants are set from Python values; ``eval`` reads terms under it."""

    def __init__(self) -> None:
        self.model = z3.Model()
        self._ctx = self.model.ctx.ref()
        self._values: dict[tuple[int, bool], z3.ExprRef] = {}

    def value(self, v: int | bool, boolean: bool) -> z3.ExprRef:
        """The z3 constant for a Python value (cached: the same few values recur across states)."""
        key = (int(v), boolean)
        out = self._values.get(key)
        if out is None:
            out = z3.BoolVal(bool(v)) if boolean else z3.BitVecVal(int(v), W)
            self._values[key] = out
        return out

    def binder(self, constants: Sequence[z3.ExprRef]) -> Binder:
        """A setter for these constants (they must be 0-ary uninterpreted constants)."""
        return Binder(self, constants)

    def eval(self, term: z3.ExprRef) -> z3.ExprRef:
        """The value of ``term``; constants never set read as z3's default (every caller sets them all)."""
        return self.model.eval(term, model_completion=True)

    def bits(self, term: z3.BitVecRef) -> int:
        """The value of a (small) bitvector term as an int."""
        return self.eval(term).as_long()


class Binder:
    """Gives a fixed list of constants values in a ``Valuation``; re-sets only those that changed."""

    def __init__(self, valuation: Valuation, constants: Sequence[z3.ExprRef]) -> None:
        self.valuation = valuation
        self._decls = [(c.decl().ast, z3.is_bool(c)) for c in constants]
        self._last: list[int | bool | None] = [None] * len(self._decls)

    def set(self, values: Sequence[int | bool]) -> None:
        """Constant i takes ``values[i]`` (an int taken modulo 2**64, or a bool)."""
        if len(values) != len(self._decls):
            raise ValueError(f"{len(values)} values for {len(self._decls)} constants")
        val, ctx, model = self.valuation, self.valuation._ctx, self.valuation.model.model
        last = self._last
        for i, v in enumerate(values):
            if last[i] is None or last[i] != v:
                decl, boolean = self._decls[i]
                z3.Z3_add_const_interp(ctx, model, decl, val.value(v, boolean).as_ast())
                last[i] = v


def pack(conditions: Sequence[z3.BoolRef]) -> z3.BitVecRef:
    """Booleans as one bitvector, condition i at bit i (one evaluation reads them all)."""
    bits = [z3.If(c, z3.BitVecVal(1, 1), z3.BitVecVal(0, 1)) for c in conditions]
    return bits[0] if len(bits) == 1 else z3.Concat(bits[::-1])


def constants_in(term: z3.ExprRef) -> set[int]:
    """The ids of the uninterpreted constants ``term`` mentions."""
    seen: set[int] = set()
    out: set[int] = set()
    stack = [term]
    while stack:
        t = stack.pop()
        i = t.get_id()
        if i in seen:
            continue
        seen.add(i)
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out.add(i)
        elif z3.is_app(t):
            stack.extend(t.children())
    return out

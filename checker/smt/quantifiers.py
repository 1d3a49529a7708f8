"""Taking the universal quantifiers out of proof obligations, so the quantifier-free solver can decide them.

Two invariants speak about every payload word of a record (``window_payloads``
and the ``intact`` flag that ``consume.deliver`` computes for a symbolic ring
size), so their formulas carry ``ForAll word``. z3's general solver handles
them by model-based instantiation, which with four records does not come back
in useful time. Both ways out used here are standard and one-directional:

* In the goal (whose negation z3 checks), a ``ForAll`` in positive position is
  replaced by its body at a fresh constant, the *witness*: the negated goal
  then says "some word is wrong", which is exactly the negated ``ForAll``
  (Skolemisation). Nothing is lost.
* In a hypothesis, a ``ForAll`` in positive position is replaced by the
  conjunction of its body at chosen terms (the goal's witnesses): a weaker
  hypothesis. A query that is unsatisfiable with weaker hypotheses is
  unsatisfiable with the originals, so "discharged" stays sound; if the
  instances are not enough the query comes back satisfiable and the caller
  must not conclude anything from it (``checker.smt.prove`` then asks z3's
  general solver with the real quantifiers).

A quantifier under a negation-free position only is touched; one in mixed
position (an ``If`` condition, a Boolean ``==``) is left as it is.
"""

from __future__ import annotations

import itertools

import z3

from checker.smt.terms import fold

_counter = itertools.count()


def _rebuild(e: z3.ExprRef, children: list[z3.ExprRef]) -> z3.ExprRef:
    if all(c.eq(o) for c, o in zip(children, e.children())):
        return e
    return e.decl()(*children)


def _walk(e: z3.ExprRef, positive: bool | None, on_forall, memo: dict) -> z3.ExprRef:
    """Rebuild ``e`` calling ``on_forall(q)`` for each ForAll whose polarity is ``True`` (positive)."""
    key = (e.get_id(), positive)
    if key in memo:
        return memo[key]
    if z3.is_quantifier(e):
        out = on_forall(e) if (e.is_forall() and positive is True) else e
    elif z3.is_app(e) and e.num_args() > 0 and z3.is_bool(e):
        k = e.decl().kind()
        kids = e.children()
        if k in (z3.Z3_OP_AND, z3.Z3_OP_OR):
            new = [_walk(c, positive, on_forall, memo) for c in kids]
        elif k == z3.Z3_OP_NOT:
            new = [_walk(kids[0], None if positive is None else not positive, on_forall, memo)]
        elif k == z3.Z3_OP_IMPLIES:
            new = [_walk(kids[0], None if positive is None else not positive, on_forall, memo),
                   _walk(kids[1], positive, on_forall, memo)]
        elif k == z3.Z3_OP_ITE:
            new = [_walk(kids[0], None, on_forall, memo)] + [_walk(c, positive, on_forall, memo) for c in kids[1:]]
        else:
            new = [_walk(c, None, on_forall, memo) if z3.is_bool(c) else c for c in kids]
        out = _rebuild(e, new)
    else:
        out = e
    memo[key] = out
    return out


def skolemize_goal(goal: z3.BoolRef, prefix: str = "witness") -> tuple[z3.BoolRef, list[z3.ExprRef]]:
    """``goal`` with each positive ``ForAll x. B`` replaced by ``B[w]`` for a fresh constant ``w``; and the ws.

    Checking ``Not(result)`` is equisatisfiable with checking ``Not(goal)``.
    """
    witnesses: list[z3.ExprRef] = []

    def replace(q: z3.QuantifierRef) -> z3.ExprRef:
        consts = [z3.Const(f"{prefix}{next(_counter)}.{q.var_name(i)}", q.var_sort(i)) for i in range(q.num_vars())]
        witnesses.extend(consts)
        # de Bruijn index 0 is the last bound variable
        return z3.substitute_vars(q.body(), *reversed(consts))

    return _walk(goal, True, replace, {}), witnesses


def instantiate_hypothesis(hyp: z3.BoolRef, terms: list[z3.ExprRef]) -> z3.BoolRef:
    """``hyp`` with each positive one-variable ``ForAll x. B`` replaced by ``And(B[t] for t in terms)``
    (terms of the bound variable's sort); a weakening. Quantifiers over several variables are dropped to
    ``True`` (also a weakening)."""

    def replace(q: z3.QuantifierRef) -> z3.ExprRef:
        if q.num_vars() != 1:
            return z3.BoolVal(True)
        sort = q.var_sort(0)
        return z3.And([z3.substitute_vars(q.body(), t) for t in terms if t.sort() == sort] or [z3.BoolVal(True)])

    return _walk(hyp, True, replace, {})


def abstract_quantifiers(e: z3.BoolRef, prefix: str = "quantified") -> z3.BoolRef:
    """``e`` with each outermost quantified subformula, in any position, replaced by a fresh Boolean constant
    (one per distinct subformula). Such a subformula has no free bound variables, so in any model it has a
    truth value the constant can take: a query unsatisfiable with the constants is unsatisfiable with the
    subformulas. Used for goals whose quantifier does not matter to them (``log_distinct`` after a delivery
    mentions the sample's ``intact`` flag, a ``ForAll``, only where the place is empty)."""
    table: list[tuple[z3.ExprRef, z3.BoolRef]] = []

    def make(x: z3.ExprRef, kids: list[z3.ExprRef]) -> z3.ExprRef:
        if z3.is_quantifier(x):  # its body was walked too (``fold`` goes children first); that result is unused
            out = next((b for q, b in table if q.eq(x)), None)
            if out is None:
                out = z3.Bool(f"{prefix}{next(_counter)}")
                table.append((x, out))
            return out
        return _rebuild(x, kids) if z3.is_app(x) and x.num_args() > 0 else x

    return fold(e, make)


def has_quantifier(e: z3.ExprRef) -> bool:
    """True if a quantifier occurs anywhere in ``e``."""
    return fold(e, lambda x, kids: z3.is_quantifier(x) or any(kids))

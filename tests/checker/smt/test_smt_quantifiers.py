"""Skolemising goals and instantiating hypotheses: sound, and strong enough for the payload invariants."""

import pytest
import z3

from checker.smt.prove import _conjuncts
from checker.smt.quantifiers import has_quantifier, instantiate_hypothesis, skolemize_goal

W = z3.BitVec("w", 64)
X = z3.BitVec("x", 64)
A = z3.Array("a", z3.BitVecSort(64), z3.BitVecSort(64))
HYP = z3.ForAll([W], z3.Implies(z3.ULT(W, X), A[W] == 5))


def _proved(hyp, goal) -> bool:
    skolem, witnesses = skolemize_goal(goal)
    s = z3.SolverFor("QF_ABV")
    s.add(instantiate_hypothesis(hyp, witnesses), z3.Not(skolem))
    return s.check() == z3.unsat


def test_a_write_outside_the_range_keeps_the_range():
    goal = z3.ForAll([W], z3.Implies(z3.ULT(W, X), z3.Store(A, X + 3, 5)[W] == 5))
    assert _proved(HYP, goal)


def test_a_wider_range_is_not_proved():
    goal = z3.ForAll([W], z3.Implies(z3.ULT(W, X + 1), A[W] == 5))
    assert not _proved(HYP, goal)
    s = z3.Solver()  # and it really does not follow
    s.add(HYP, z3.Not(goal))
    assert s.check() == z3.sat


def test_results_are_quantifier_free_and_mixed_polarity_is_left_alone():
    skolem, witnesses = skolemize_goal(z3.And(HYP, z3.Not(HYP)))
    assert len(witnesses) == 1 and has_quantifier(skolem)  # the negated one stays
    assert not has_quantifier(instantiate_hypothesis(HYP, witnesses))
    guarded = z3.If(HYP, X == 1, X == 2)
    assert skolemize_goal(guarded)[0].eq(guarded)


def test_conjuncts_split_an_implied_conjunction_without_changing_it():
    a, b, c, d = z3.Bools("a b c d")
    goal = z3.And(a, z3.Implies(b, z3.And(c, d)), z3.Or(a, z3.And(c, d)))
    parts = _conjuncts(goal)
    assert len(parts) == 5
    s = z3.Solver()
    s.add(z3.Not(z3.And(parts) == goal))
    assert s.check() == z3.unsat


def test_abstracting_quantifiers_keeps_what_does_not_depend_on_them_and_only_that():
    from checker.smt.quantifiers import abstract_quantifiers, has_quantifier

    x, n = z3.BitVecs("ax an", 64)
    w = z3.BitVec("aw", 64)
    q = z3.ForAll([w], z3.Implies(z3.ULT(w, n), w != x))
    # place "n" gets the quantified flag; the goal looks at it only where n != 3, so its value does not matter
    flag = z3.If(n == 3, q, z3.BoolVal(False))
    ok = z3.Implies(n != 3, z3.Not(flag))
    needs_q = z3.Implies(z3.And(n == 3, z3.ULT(x, 3)), z3.Not(flag))  # true only because of what q says
    for goal, provable in ((ok, True), (needs_q, False)):
        abstracted = abstract_quantifiers(goal)
        assert not has_quantifier(abstracted)
        s = z3.Solver()
        s.add(z3.Not(abstracted))
        assert (s.check() == z3.unsat) == provable
    # the same quantified subformula gets the same constant
    both = abstract_quantifiers(z3.And(q, z3.Not(q)))
    s = z3.Solver()
    s.add(both)
    assert s.check() == z3.unsat


@pytest.mark.slow
def test_quantifiers_are_found_and_abstracted_at_any_depth():
    """Proof goals nest thousands of ``If``s: the walks must not recurse once per level."""
    from checker.smt.quantifiers import abstract_quantifiers
    from checker.smt.terms import fold

    def nest(t: z3.ExprRef) -> z3.BoolRef:
        for i in range(20000):
            t = z3.If(z3.BitVec(f"c{i}", 8) == 0, t, t + 1)
        return t == 0

    q = z3.ForAll([W], z3.ULE(W, W | 1))
    quantified = nest(z3.If(q, z3.BitVecVal(0, 8), z3.BitVecVal(1, 8)))
    assert has_quantifier(quantified)
    assert not has_quantifier(nest(z3.BitVecVal(0, 8)))
    flat = abstract_quantifiers(quantified, prefix="abstracted")
    assert not has_quantifier(flat)
    names = fold(flat, lambda x, kids: frozenset().union(*kids) | (
        {x} if z3.is_const(x) and x.decl().name().startswith("abstracted") else set()))
    assert len(names) == 1
    assert z3.substitute(flat, (next(iter(names)), q)).eq(quantified)  # nothing else was changed

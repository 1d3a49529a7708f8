"""Skolemising goals and instantiating hypotheses: sound, and strong enough for the payload invariants."""

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

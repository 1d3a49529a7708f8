"""The one DAG walk the digest, the Bitwuzla translation and the prover's record slicing share."""

import z3

from checker.smt.terms import fold


def test_each_shared_subterm_is_made_once_children_first():
    x = z3.BitVec("x", 8)
    t = x
    for _ in range(60):  # a tree of 2**60 paths, a DAG of 61 nodes
        t = t + t
    seen: list[str] = []

    def make(e, kids):
        seen.append(e.sexpr())
        return 1 + sum(kids)

    assert fold(t, make) == 2**61 - 1  # the value of a tree walk, computed on the DAG
    assert len(seen) == 61 and seen[0] == "x"


def test_a_deep_term_does_not_overflow_the_stack():
    t = z3.BitVec("x", 8)
    for i in range(20000):
        t = z3.If(z3.BitVec(f"c{i}", 8) == 0, t, t + 1)
    assert fold(t, lambda e, kids: 1 + max(kids, default=0)) > 20000


def test_a_shared_memo_is_not_walked_again():
    x, y = z3.BitVecs("x y", 8)
    memo: dict = {}
    calls = []
    fold(x + y, lambda e, k: calls.append(e) or 0, memo)
    fold((x + y) * 2, lambda e, k: calls.append(e) or 0, memo)
    assert len(calls) == 5  # x, y, x+y; then only 2 and the product

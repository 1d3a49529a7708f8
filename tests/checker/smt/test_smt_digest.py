"""The digest that ties a kept proof log to the model: stable across builds, changed by any change of a term."""

import pytest
import z3

from checker.smt import invariants as I
from checker.smt.digest import term_digest
from checker.smt.prove import proof_digest, proof_shape

X, Y = z3.BitVecs("x y", 64)
SHAPE = proof_shape("v6.10", producers=1, records=1, hold=1)


def test_equal_terms_built_twice_have_one_digest_and_any_change_shows():
    def build(k: int):
        w = z3.BitVec("w", 64)
        return [z3.And(z3.ULE(X, Y + k), z3.ForAll([w], z3.Implies(z3.ULT(w, X), w != Y)))]

    assert term_digest(build(1)) == term_digest(build(1))
    assert term_digest(build(1)) != term_digest(build(2))
    assert term_digest([z3.ULE(X, Y)]) != term_digest([z3.ULE(Y, X)])
    assert term_digest([z3.ULE(X, Y)]) != term_digest([z3.ULT(X, Y)])


def test_a_proof_digest_is_reproducible_and_sees_a_changed_invariant(monkeypatch):
    props = ["in_bounds", "no_overlap"]
    before = proof_digest(props, SHAPE)
    assert proof_digest(props, SHAPE) == before
    assert proof_digest(props, proof_shape("v5.13", producers=1, records=1, hold=1)) != before
    assert proof_digest(["in_bounds"], SHAPE) != before
    weaker = [I.Invariant(g.name, g.statement, (lambda c, r, s: z3.BoolVal(True)) if g.name == "tiling" else g.formula)
              for g in I.COMMON]
    monkeypatch.setattr(I, "COMMON", weaker)
    assert proof_digest(props, SHAPE) != before


@pytest.mark.slow                 # 8-16 s: the README's command stays under five minutes
def test_a_proof_reports_the_digest_a_kept_log_is_checked_against():
    """``prove`` takes its digest from its first round's terms; it must be the one ``proof_digest`` recomputes."""
    from checker.smt.prove import prove

    props = ["in_bounds", "capacity"]
    assert prove(props, SHAPE).digest == proof_digest(props, SHAPE)
    level = proof_shape("v6.10", "level", producers=1, records=1, hold=1)
    assert prove(["ordered_delivery"], level).digest == proof_digest(["ordered_delivery"], level)

"""The Bitwuzla backend: a z3 formula and its translation are satisfiable together or not at all, and the
prover's fallback to Bitwuzla keeps the proofs (and their verdicts) the same."""

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.smt import bitwuzla_backend as BW
from checker.smt.prove import proof_shape, prove

pytestmark = pytest.mark.skipif(not BW.available(), reason="bitwuzla is not installed")

W = 8
X, Y, Z = (z3.BitVec(n, W) for n in "xyz")
MEM = z3.Array("mem", z3.BitVecSort(W), z3.BitVecSort(W))


def _terms(depth: int) -> st.SearchStrategy:
    leaf = st.sampled_from([X, Y, Z]) | st.integers(0, 255).map(lambda v: z3.BitVecVal(v, W))
    if depth == 0:
        return leaf
    sub = _terms(depth - 1)
    binary = st.sampled_from([lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a & b,
                              lambda a, b: a | b, lambda a, b: a ^ b, lambda a, b: a << (b & 7),
                              lambda a, b: z3.LShR(a, b & 7), lambda a, b: a >> (b & 7), z3.UDiv, z3.URem,
                              lambda a, b: z3.Select(z3.Store(MEM, a, b), b),
                              lambda a, b: z3.Concat(z3.Extract(3, 0, a), z3.Extract(7, 4, b)),
                              lambda a, b: z3.ZeroExt(4, z3.Extract(3, 0, a)) + z3.SignExt(4, z3.Extract(3, 0, b))])
    return leaf | st.tuples(binary, sub, sub).map(lambda t: t[0](t[1], t[2])) | \
        st.tuples(sub, sub, sub).map(lambda t: z3.If(z3.ULT(t[0], t[1]), t[1], t[2])) | \
        sub.map(lambda a: ~a) | sub.map(lambda a: -a)


_atoms = st.tuples(st.sampled_from([z3.ULE, z3.ULT, z3.UGE, z3.UGT, lambda a, b: a <= b, lambda a, b: a < b,
                                    lambda a, b: a == b, lambda a, b: a != b]), _terms(2), _terms(2)).map(
    lambda t: t[0](t[1], t[2]))
_formulas = st.recursive(_atoms, lambda f: st.tuples(st.sampled_from([z3.And, z3.Or, z3.Implies, z3.Xor]), f, f).map(
    lambda t: t[0](t[1], t[2])) | f.map(z3.Not) | st.lists(f, min_size=3, max_size=3).map(
    lambda fs: z3.Distinct([z3.If(g, X, Y) for g in fs])), max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(_formulas)
def test_translation_agrees_with_z3(f):
    expected = z3.Solver()
    expected.add(f)
    assert BW.check(f) == expected.check()


def test_a_session_refutes_what_follows_and_only_that():
    s = BW.Session(z3.And(z3.ULT(X, 10), Y == X + 1), timeout_s=10)
    assert s.refutes(z3.ULE(Y, 10)) == z3.unsat
    assert s.refutes(z3.ULT(Y, 10)) == z3.sat
    assert s.refutes(z3.ULE(Y, 10)) == z3.unsat      # the failed goal was an assumption, not an assertion


def test_quantifiers_are_refused_not_mistranslated():
    with pytest.raises(BW.Untranslatable):
        BW.check(z3.ForAll([X], z3.ULE(X, Y)))


@pytest.mark.slow
def test_prove_through_bitwuzla_gives_the_same_verdicts(monkeypatch):
    """With z3's quick tries cut to a millisecond and its bit-blaster giving up, every hard query goes to
    Bitwuzla; the proof still holds, and the obligations say which solver settled them."""
    import checker.smt.prove as P

    monkeypatch.setattr(P, "_bit_blasted", lambda hyp, part, timeout_s: z3.unknown)
    shape = proof_shape("v6.10", "level", 1, 1, 1)
    props = ["ordered_delivery", "discard_skipped", "committed_only"]
    r = prove(props, shape, quick_s=0.001, round_s=0.001)
    assert set(r.verdicts.values()) == {"holds (complete)"}
    assert any("bitwuzla" in o.how for o in r.obligations)
    assert not any("bit-blasted" in o.how for o in r.obligations)
    assert all(o.result == "discharged" for o in r.obligations)


@pytest.mark.parametrize("bitwuzla_there", [True, False])
def test_eager_solvers_take_turns_in_growing_rounds_within_the_timeout(monkeypatch, bitwuzla_there):
    import checker.smt.prove as P

    calls = []
    monkeypatch.setattr(P, "_bit_blasted", lambda hyp, part, t: calls.append(("z3", t)) or z3.unknown)
    monkeypatch.setattr(P, "_bitwuzla", lambda hyp, part, q, t: (calls.append(("bzla", t)) or z3.unknown)
                        if bitwuzla_there else None)
    q = P._Query(None, z3.BoolVal(True), z3.BoolVal(True), timeout_s=100, quick_s=1, round_s=10)
    assert P._eager(z3.BoolVal(True), X == Y, q) == (z3.unknown, "")
    if bitwuzla_there:
        assert calls == [("z3", 10), ("bzla", 10), ("z3", 40), ("bzla", 40), ("z3", 50), ("bzla", 50)]
    else:  # z3 alone gets the rest of its time in one go instead of restarting
        assert calls == [("z3", 10), ("z3", 90)]
    calls.clear()
    monkeypatch.setattr(P, "_bitwuzla", lambda hyp, part, q, t: calls.append(("bzla", t)) or
                        (z3.unsat if t > 20 else z3.unknown))
    assert P._eager(z3.BoolVal(True), X == Y, q) == (z3.unsat, "bitwuzla")
    assert calls == [("z3", 10), ("bzla", 10), ("z3", 40), ("bzla", 40)]


def test_prove_in_two_worker_processes_gives_the_same_obligations():
    shape = proof_shape("v6.10", producers=1, records=1, hold=1)
    one = prove(["in_bounds", "no_overlap"], shape)
    lines = []
    two = prove(["in_bounds", "no_overlap"], shape, jobs=2, progress=lines.append)
    # every obligation a worker settles is printed once, as it comes (through the workers' result queue)
    assert sorted(line.strip().rsplit(": ", 1)[0] for line in lines) == sorted(o.name for o in two.obligations)
    assert one.verdicts == two.verdicts == {"in_bounds": "holds (complete)", "no_overlap": "holds (complete)"}
    assert sorted((o.name, o.result) for o in one.obligations) == sorted((o.name, o.result) for o in two.obligations)


def test_eager_solvers_see_the_slice_about_the_goals_records_first_then_everything():
    """A goal conjunct about record 0 is tried on the hypotheses about record 0 alone (a weakening: unsat there is
    a proof); when the slice is too weak the whole hypothesis still proves it."""
    import checker.smt.prove as P

    r0, r1 = z3.BitVec("s.r0.pos", 64), z3.BitVec("s.r1.pos", 64)
    hyp = z3.And(z3.ULE(r0, 100), r1 == 5, z3.ULT(r0, r1))

    class Undecided:  # the incremental solver gives up at once, so the eager solvers are used
        def set(self, *a):
            pass

        def check(self, *a):
            return z3.unknown

    q = P._Query(None, hyp, hyp, timeout_s=30, quick_s=0.001, round_s=5)
    assert P._records_in(z3.ULT(r0, r1)) == {0, 1}
    sliced = P._sliced(hyp, z3.ULE(r0, 200), q)
    assert P._records_in(sliced) == {0}
    differ = z3.Solver()
    differ.add(sliced != z3.ULE(r0, 100))
    assert differ.check() == z3.unsat
    assert P._refuted(Undecided(), hyp, z3.ULE(r0, 200), q) == (z3.unsat, "sliced, bit-blasted")
    # record 1's facts are needed: the slice fails, the whole hypothesis proves it
    assert P._refuted(Undecided(), hyp, z3.ULT(r0, 5), q) == (z3.unsat, "bit-blasted")
    assert P._refuted(Undecided(), hyp, z3.ULT(r0, 4), q)[0] == z3.sat

"""The memory models on the classic litmus shapes: one test per shape and model, textbook verdicts.

Each test also checks that every sequentially consistent outcome is found, so
an explorer that finds nothing cannot pass a "forbidden" verdict.
"""

import pytest

from model.memory import make
from model.memory.litmus import (CORR, IRIW_ACQ, LB, LOST_WAKEUP, LOST_WAKEUP_FENCED, MP, MP_FENCES,
                                 MP_REL_ACQ, SB, SB_FENCES, SB_REL_ACQ, SB_XCHG, SHAPES, TWO_TWO_W,
                                 explore)

A, F = "allowed", "forbidden"

EXPECTED = {
    #             sc  tso ra  sra
    SB:          (F, A, A, A),
    SB_REL_ACQ:  (F, A, A, A),
    SB_FENCES:   (F, F, F, F),
    SB_XCHG:     (F, F, F, F),
    LOST_WAKEUP: (F, A, A, A),
    LOST_WAKEUP_FENCED: (F, F, F, F),
    MP:          (F, F, A, A),
    MP_REL_ACQ:  (F, F, F, F),
    MP_FENCES:   (F, F, F, F),
    LB:          (F, F, F, F),
    IRIW_ACQ:    (F, F, A, A),
    TWO_TWO_W:   (F, F, A, F),
    CORR:        (F, F, F, F),
}
MODELS = ("sc", "tso", "ra", "sra")
CASES = [(shape, name, verdicts[i]) for shape, verdicts in EXPECTED.items()
         for i, name in enumerate(MODELS)]


def test_every_shape_has_expectations():
    assert set(EXPECTED) == set(SHAPES)


@pytest.mark.parametrize("shape,name,verdict", CASES,
                         ids=[f"{s.name}-{n}" for s, n, _ in CASES])
def test_shape(shape, name, verdict):
    found = explore(shape, make(name))
    assert not found.bounded
    assert (A if found.allows(shape.weak) else F) == verdict
    sc = explore(shape, make("sc")).outcomes
    assert sc <= found.outcomes


def test_sb_under_sc_has_exactly_the_three_interleaved_outcomes():
    outcomes = {(dict(o)["r0"], dict(o)["r1"]) for o in explore(SB, make("sc")).outcomes}
    assert outcomes == {(0, 1), (1, 0), (1, 1)}


def test_2_2w_final_memory_under_ra_and_sra():
    """RA reaches x=1, y=1 by placing a store below one already there; SRA only appends."""
    def finals(name):
        return {(dict(o)["x"], dict(o)["y"]) for o in explore(TWO_TWO_W, make(name)).outcomes}
    assert finals("ra") == {(1, 1), (1, 2), (2, 1), (2, 2)}
    assert finals("sra") == {(1, 2), (2, 1), (2, 2)}

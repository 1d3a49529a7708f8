"""The z3 steps follow v6.15's rules (issue 15): crosscheck and BMC on small v6.15 configurations."""

from __future__ import annotations

import pytest

from checker.smt.bmc import bmc
from checker.smt.crosscheck import crosscheck
from model.config import Config

SMALL = dict(ring_size=32, producers=2, records=1, sizes=(8,), consumer="level")


def test_python_and_smt_agree_on_every_reachable_v6_15_state_with_nmi_and_the_timeout():
    """Both ways v6.15's lock fails (an NMI over the holder, a timeout) on every reachable state:
    same predicates, same transitions, same successor sets."""
    rep = crosscheck(Config(variant="v6.15", nmi=True, lock_timeout=True, **SMALL))
    assert rep.reachable == 1480 and not rep.sampled and rep.disagreements == []


@pytest.mark.slow
@pytest.mark.parametrize("extra", [dict(nmi=True), dict(lock_timeout=True), dict()])
def test_python_and_smt_agree_on_the_other_v6_15_shapes(extra):
    rep = crosscheck(Config(variant="v6.15", **SMALL | extra))
    assert rep.reachable > 500 and not rep.sampled and rep.disagreements == []


@pytest.mark.slow
def test_the_timeout_adds_failed_task_reservations_on_both_sides():
    with_timeout = crosscheck(Config(variant="v6.15", lock_timeout=True, **SMALL))
    without = crosscheck(Config(variant="v6.15", **SMALL))
    assert with_timeout.reachable > without.reachable
    assert with_timeout.disagreements == without.disagreements == []


@pytest.mark.slow
def test_bmc_runs_on_v6_15():
    r = bmc(Config(variant="v6.15", **SMALL | dict(consumer="adversarial", nmi=True, lock_timeout=True)),
            "no_overlap", 6)
    assert r.verdict.kind in ("holds", "bounded") and r.verdict.trace is None

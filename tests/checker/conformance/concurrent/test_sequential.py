"""The concurrent reference one call at a time is held to the model like the sequential one; the mutants are not
sequential bugs."""

from __future__ import annotations

import pytest

from checker.conformance.concurrent.mutants import CONCURRENT_MUTANTS
from checker.conformance.concurrent.reference import ConcurrentReference
from checker.conformance.concurrent.sequential import sequential
from checker.conformance.lockstep import CONFORMS, check_lockstep
from checker.conformance.mutants import ConsumerIgnoresBusy
from checker.conformance.standard import standard_configs
from model.config import Config

SMALL = Config(variant="v6.10", producers=2, records=1, sizes=(8,), discard=True)


@pytest.mark.parametrize("name", [n if n.startswith("v6.10") else pytest.param(n, marks=pytest.mark.slow)
                                  for n in standard_configs() if "adversarial" in n])
def test_the_concurrent_reference_seen_sequentially_conforms(name: str) -> None:
    r = check_lockstep(sequential(ConcurrentReference), standard_configs()[name])
    assert r.kind == CONFORMS, r.headline()


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in standard_configs() if "adversarial" not in n])
def test_the_concurrent_reference_seen_sequentially_conforms_with_a_consumer(name: str) -> None:
    r = check_lockstep(sequential(ConcurrentReference), standard_configs()[name])
    assert r.kind == CONFORMS, r.headline()


@pytest.mark.parametrize("name", sorted(CONCURRENT_MUTANTS))
def test_every_concurrent_mutant_is_invisible_one_call_at_a_time(name: str) -> None:
    r = check_lockstep(sequential(CONCURRENT_MUTANTS[name]), SMALL)
    assert r.kind == CONFORMS, r.headline()


def test_the_view_still_shows_a_sequential_bug() -> None:
    class IgnoresBusy(ConcurrentReference):
        def _read_header(self, mem, cons):
            word = yield mem.load(mem.word(cons), "acquire")
            return word & ~(1 << 31)

    r = check_lockstep(sequential(IgnoresBusy), SMALL)
    assert r.divergence is not None and r.divergence.field == "samples"
    assert check_lockstep(ConsumerIgnoresBusy, SMALL).divergence.field == "samples"

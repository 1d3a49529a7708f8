"""Exhaustive lockstep: the reference conforms, every mutant is caught with a minimal divergence."""

from __future__ import annotations

import pytest

from checker.conformance.lockstep import FactoryError, check_lockstep
from checker.conformance.mutants import MUTANTS
from checker.conformance.oracle import Oracle
from checker.conformance.reference import make_reference
from checker.conformance.standard import MUTANT_CONFIGS, standard_configs

MINIMAL_DIVERGENCE = {
    "consumer_ignores_busy": (2, "consume", "samples"),
    "commit_keeps_busy": (3, "commit", "header[0]"),
    "consumer_delivers_discarded": (4, "consume", "samples"),
    "consumer_never_stores": (4, "consume", "consumer_pos"),
    "reserve_no_size_check": (2, "reserve", "result"),
    "reserve_no_pending_check": (4, "reserve", "result"),
}
"""Mutant -> (operations in the shortest divergence, kind of the diverging one, field that differs)."""


STANDARD_IN_TESTS = sorted(n for n in standard_configs() if "S=64" not in n or n.startswith("v6.10"))
"""Every standard configuration; at S=64 (5-12 s each) only v6.10's, and those under ``-m slow``."""


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if "S=64" in n else n
                                  for n in STANDARD_IN_TESTS])
def test_reference_conforms_on_every_standard_configuration(name: str) -> None:
    result = check_lockstep(make_reference, standard_configs()[name])
    assert result.kind == "conforms", result.headline()
    assert result.divergence is None and result.exit_code == 0
    assert result.stats.states > 100 and result.stats.transitions >= result.stats.states - 1


def test_mutant_table_covers_every_mutant() -> None:
    assert set(MINIMAL_DIVERGENCE) == set(MUTANTS) == set(MUTANT_CONFIGS)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_each_mutant_diverges_minimally_at_the_expected_operation(name: str) -> None:
    result = check_lockstep(MUTANTS[name], MUTANT_CONFIGS[name])
    div = result.divergence
    assert result.kind == "diverges" and result.exit_code == 1 and div is not None
    assert (div.index, div.operation.kind, div.field) == MINIMAL_DIVERGENCE[name]
    assert len(div.operations) == div.index and div.operations[-1] == div.operation
    assert div.expected != div.observed


def test_the_missing_pending_check_shows_the_cve_2024_41009_shape() -> None:
    div = check_lockstep(MUTANTS["reserve_no_pending_check"],
                         MUTANT_CONFIGS["reserve_no_pending_check"]).divergence
    assert div is not None
    kinds = [op.kind for op in div.operations]
    assert kinds.count("set_consumer_pos") == 1 and kinds[-1] == "reserve"
    assert div.expected is None and isinstance(div.observed, int)
    assert div.observation is not None and div.model_observation is not None
    assert div.observation.producer_pos > div.model_observation.producer_pos


def test_a_divergence_carries_the_models_steps_up_to_the_diverging_operation() -> None:
    config = MUTANT_CONFIGS["consumer_never_stores"]
    div = check_lockstep(MUTANTS["consumer_never_stores"], config).divergence
    assert div is not None and div.trace is not None
    oracle = Oracle(config)
    s = oracle.initial()
    for op in div.operations:
        s, _ = oracle.apply(s, op)
    assert div.trace.final == s
    names = [str(step.action) for step in div.trace.steps]
    assert names[0] == "p0.reserve.check(size=8)" and "c.consume.store_cons" in names
    text = div.format()
    assert "consumer_pos: model expects 16, implementation gave 0" in text
    assert "<-- diverges" in text and "model steps:" in text
    assert div.to_dict()["field"] == "consumer_pos"


def test_a_search_cut_short_is_bounded_not_complete() -> None:
    result = check_lockstep(make_reference, standard_configs()["v6.10 level P=2 discard"], max_states=50)
    assert result.kind == "bounded" and result.exit_code == 3
    assert result.bound == "max_states=50" and "bound" in result.headline()


def test_an_exception_in_the_implementation_is_a_divergence() -> None:
    class Raises(type(make_reference(32, "v6.10"))):  # type: ignore[misc]
        def consume(self) -> list[bytes]:
            raise RuntimeError("boom")

    div = check_lockstep(Raises, MUTANT_CONFIGS["commit_keeps_busy"]).divergence
    assert div is not None and div.field == "exception" and div.index == 1
    assert "RuntimeError: boom" in str(div.observed)


def test_a_factory_that_refuses_is_a_one_line_error() -> None:
    def refuses(ring_size: int, variant: str):
        raise ValueError("only 4096-byte rings")

    with pytest.raises(FactoryError, match="only 4096-byte rings"):
        check_lockstep(refuses, MUTANT_CONFIGS["commit_keeps_busy"])


def test_histories_the_model_merges_but_the_bytes_tell_apart_are_both_explored() -> None:
    from checker.conformance.reference import ReferenceRingBuffer

    class StampedRing(ReferenceRingBuffer):
        """Writes into pg_off how many consumer_pos stores came before the reservation."""

        stores = 0

        def set_consumer_pos(self, value: int) -> None:
            self.stores += 1
            super().set_consumer_pos(value)

        def reserve(self, producer: int, size: int, flags: int = 0):
            h = super().reserve(producer, size, flags)
            if h is not None:
                self._memory.set_u32((h.position & self.mask) + 4, self.stores)
            return h

    config = standard_configs()["v6.10 adversarial sizes 8,40"]
    plain = check_lockstep(make_reference, config)
    stamped = check_lockstep(StampedRing, config)
    assert plain.stats.nodes == plain.stats.states
    assert stamped.kind == "conforms" and stamped.stats.states == plain.stats.states
    assert stamped.stats.nodes > stamped.stats.states

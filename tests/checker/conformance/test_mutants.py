"""Every mutant differs observably from the reference on a short, concrete script.

A script is a list of adapter calls; running it yields everything an
outsider can see (each call's result plus an observation after it). The
reference and a mutant must produce different traces on the mutant's
script, and the same trace on a script that avoids the broken decision.
"""

from __future__ import annotations

import pytest

from checker.conformance import mutants
from checker.conformance.adapter import Adapter, Factory, Observation
from checker.conformance.mutants import MUTANTS
from checker.conformance.reference import ReferenceRingBuffer, make_reference

Script = list[tuple]


def run(factory: Factory, ring_size: int, variant: str, script: Script) -> list[object]:
    """Run `script` and return the trace: (result, observation) per call.

    Steps: ("reserve", size), ("write", index, byte), ("commit", index),
    ("discard", index), ("consume",), ("set_cons", value). `index` counts
    successful reservations in order.
    """
    adapter = factory(ring_size, variant)
    handles = []
    trace: list[object] = []
    try:
        for step in script:
            result: object = None
            if step[0] == "reserve":
                result = adapter.reserve(0, step[1])
                if result is not None:
                    handles.append(result)
            elif step[0] == "write":
                handle = handles[step[1]]
                adapter.write(handle, bytes([step[2]]) * handle.size)
            elif step[0] in ("commit", "discard"):
                adapter.commit(handles[step[1]], discard=step[0] == "discard")
            elif step[0] == "consume":
                result = adapter.consume()
            else:
                adapter.set_consumer_pos(step[1])
            trace.append((result, adapter.observe()))
    finally:
        adapter.close()
    return trace


HOLD_AND_CONSUME: Script = [("reserve", 8), ("write", 0, 1), ("consume",)]
SUBMIT_AND_CONSUME_TWICE: Script = [
    ("reserve", 8),
    ("write", 0, 1),
    ("commit", 0),
    ("consume",),
    ("consume",),
]
DISCARD_AND_CONSUME: Script = [("reserve", 8), ("write", 0, 1), ("discard", 0), ("consume",)]
LIE_THEN_RESERVE_LONGER_THAN_RING: Script = [("set_cons", 80), ("reserve", 72)]
CVE_2024_41009_SCALED: Script = [("set_cons", 48), ("reserve", 40), ("reserve", 40)]

BREAKING_CASES = {
    "consumer_ignores_busy": ("v6.10", HOLD_AND_CONSUME),
    "commit_keeps_busy": ("v6.10", SUBMIT_AND_CONSUME_TWICE),
    "consumer_delivers_discarded": ("v6.10", DISCARD_AND_CONSUME),
    "reserve_no_size_check": ("v5.13", LIE_THEN_RESERVE_LONGER_THAN_RING),
    "reserve_no_pending_check": ("v6.10", CVE_2024_41009_SCALED),
    "consumer_never_stores": ("v6.10", SUBMIT_AND_CONSUME_TWICE),
}


def test_registry_names_exactly_the_agreed_mutants() -> None:
    assert set(MUTANTS) == set(BREAKING_CASES)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_each_mutant_is_a_documented_reference_adapter(name: str) -> None:
    mutant = MUTANTS[name](64, "v6.10")
    try:
        assert isinstance(mutant, ReferenceRingBuffer) and isinstance(mutant, Adapter)
        doc = type(mutant).__doc__ or ""
        assert doc.strip() and "\n" not in doc.strip()
    finally:
        mutant.close()


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_each_mutant_differs_from_the_reference(name: str) -> None:
    variant, script = BREAKING_CASES[name]
    assert run(MUTANTS[name], 64, variant, script) != run(make_reference, 64, variant, script)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_each_mutant_agrees_on_an_empty_ring(name: str) -> None:
    script: Script = [("consume",), ("reserve", 0)]
    assert run(MUTANTS[name], 64, "v6.10", script) == run(make_reference, 64, "v6.10", script)


def final(trace: list[object]) -> Observation:
    return trace[-1][1]


def test_consumer_ignores_busy_delivers_a_held_record() -> None:
    good = run(make_reference, 64, "v6.10", HOLD_AND_CONSUME)
    bad = run(mutants.ConsumerIgnoresBusy, 64, "v6.10", HOLD_AND_CONSUME)
    assert good[-1][0] == [] and final(good).consumer_pos == 0
    assert bad[-1][0] == [b"\x01" * 8] and final(bad).consumer_pos == 16


def test_commit_keeps_busy_starves_the_consumer() -> None:
    bad = run(mutants.CommitKeepsBusy, 64, "v6.10", SUBMIT_AND_CONSUME_TWICE)
    assert bad[3][0] == [] and final(bad).consumer_pos == 0
    assert int.from_bytes(final(bad).data[:4], "little") >> 31 == 1


def test_consumer_delivers_discarded_hands_out_a_discarded_record() -> None:
    good = run(make_reference, 64, "v6.10", DISCARD_AND_CONSUME)
    bad = run(mutants.ConsumerDeliversDiscarded, 64, "v6.10", DISCARD_AND_CONSUME)
    assert good[-1][0] == [] and bad[-1][0] == [b"\x01" * 8]
    assert final(good).consumer_pos == final(bad).consumer_pos == 16


@pytest.mark.parametrize("variant", ["v5.13", "v6.10"])
def test_reserve_no_size_check_matters_only_where_the_pending_check_cannot_catch_it(
    variant: str,
) -> None:
    bad = run(mutants.ReserveNoSizeCheck, 64, variant, LIE_THEN_RESERVE_LONGER_THAN_RING)
    good = run(make_reference, 64, variant, LIE_THEN_RESERVE_LONGER_THAN_RING)
    assert good[-1][0] is None
    assert (bad[-1][0] is not None) == (variant == "v5.13")


def test_reserve_no_pending_check_reopens_cve_2024_41009() -> None:
    good = run(make_reference, 64, "v6.10", CVE_2024_41009_SCALED)
    bad = run(mutants.ReserveNoPendingCheck, 64, "v6.10", CVE_2024_41009_SCALED)
    assert good[-1][0] is None
    assert bad[-1][0] is not None and bad[-1][0].position == 48


def test_consumer_never_stores_delivers_twice() -> None:
    good = run(make_reference, 64, "v6.10", SUBMIT_AND_CONSUME_TWICE)
    bad = run(mutants.ConsumerNeverStores, 64, "v6.10", SUBMIT_AND_CONSUME_TWICE)
    assert [step[0] for step in good[-2:]] == [[b"\x01" * 8], []]
    assert [step[0] for step in bad[-2:]] == [[b"\x01" * 8], [b"\x01" * 8]]
    assert final(bad).consumer_pos == 0

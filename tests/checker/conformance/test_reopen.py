"""Lockstep with reopen: the consumer closed and opened again on a used ring, one call at a time."""

from __future__ import annotations

import pytest

from checker.cli import cli_entry
from checker.conformance.concurrent.mutants import ReopenRestartsAtZero
from checker.conformance.concurrent.reference import ConcurrentReference
from checker.conformance.concurrent.sequential import sequential
from checker.conformance.lockstep import CONFORMS, check_lockstep
from checker.conformance.mutants import ConsumerRestartsOnReopen
from checker.conformance.ops import REOPEN
from checker.conformance.reference import make_reference
from checker.conformance.standard import standard_configs
from model.config import Config

CONFIG = Config(variant="v6.10", discard=True)


def test_the_reference_conforms_with_reopen_on_a_small_ring() -> None:
    r = check_lockstep(make_reference, CONFIG, reopen=True)
    assert r.kind == CONFORMS, r.headline()
    assert r.stats.nodes > r.stats.states, "states after a reopen are kept apart until the next consume"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["v5.8 level P=2 discard", "v6.10 edge P=2 discard"])
def test_the_reference_conforms_with_reopen(name: str) -> None:
    r = check_lockstep(make_reference, standard_configs()[name], reopen=True)
    assert r.kind == CONFORMS, r.headline()
    assert r.stats.nodes > r.stats.states, "states after a reopen are kept apart until the next consume"


@pytest.mark.parametrize("factory", [ConsumerRestartsOnReopen, sequential(ReopenRestartsAtZero)])
def test_a_consumer_that_restarts_at_zero_on_reopen_is_caught_in_lockstep(factory) -> None:
    div = check_lockstep(factory, CONFIG, reopen=True).divergence
    assert div is not None and div.field == "samples" and div.index == 6
    assert [op.kind for op in div.operations] == ["reserve", "write", "commit", "consume", REOPEN, "consume"]
    assert div.expected == () and div.observed == (0,)


def test_without_reopen_the_same_consumer_conforms() -> None:
    assert check_lockstep(ConsumerRestartsOnReopen, CONFIG).kind == CONFORMS
    assert check_lockstep(sequential(ConcurrentReference), CONFIG, reopen=True).kind == CONFORMS


def test_conform_reopen_from_the_command_line(capsys) -> None:
    impl = "checker.conformance.mutants:ConsumerRestartsOnReopen"
    assert cli_entry(["conform", "--impl", impl, "--discard"]) == 0
    assert cli_entry(["conform", "--impl", impl, "--discard", "--reopen"]) == 1
    assert "6. consume() -> []   <-- diverges" in capsys.readouterr().out

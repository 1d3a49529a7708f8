"""Lockstep from a used ring: the warm-up prefix, and what it finds."""

from __future__ import annotations

import pytest

from checker.cli import cli_entry
from checker.conformance.lockstep import CONFORMS, check_lockstep
from checker.conformance.mutants import ConsumerRestartsOnReopen
from checker.conformance.ops import CONSUME, REOPEN
from checker.conformance.oracle import Oracle
from checker.conformance.reference import make_reference
from checker.conformance.warmup import warmup_budget, warmup_config, warmup_operations
from model.config import Config

CONFIG = Config(variant="v6.10", discard=True)


def test_the_warmup_leaves_positions_past_a_lap_and_memory_holding_old_headers() -> None:
    cfg = warmup_config(CONFIG, 4)
    oracle = Oracle(cfg)
    s = oracle.initial()
    for op in warmup_operations(CONFIG, 4):
        s, _ = oracle.apply(s, op)
    assert s.producer_pos == s.consumer_pos == 96 > 2 * CONFIG.ring_size
    assert oracle.ops.observe(s).headers, "headers of consumed records stay in memory"
    assert warmup_budget(CONFIG, 4) == (6,) and cfg.records == 6


def test_the_reference_conforms_from_a_used_ring() -> None:
    r = check_lockstep(make_reference, CONFIG, warmup=4, reopen=True)
    assert r.kind == CONFORMS, r.headline()
    assert any("used ring" in n for n in r.notes)
    fresh = check_lockstep(make_reference, CONFIG)
    assert r.stats.states > 0 and fresh.kind == CONFORMS


def test_from_a_used_ring_a_restarting_consumer_hands_out_earlier_laps() -> None:
    div = check_lockstep(ConsumerRestartsOnReopen, CONFIG, warmup=4, reopen=True).divergence
    assert div is not None and div.field == "samples" and div.expected == ()
    assert [op.kind for op in div.operations[-2:]] == [REOPEN, CONSUME]
    assert len(div.observed) > 1, "stale records of earlier laps delivered again"


def test_a_warmup_too_long_for_the_model_is_refused() -> None:
    with pytest.raises(ValueError, match="exceed the 16 reservations"):
        warmup_config(CONFIG, 15)


def test_conform_warmup_from_the_command_line(capsys) -> None:
    impl = "checker.conformance.mutants:ConsumerRestartsOnReopen"
    assert cli_entry(["conform", "--discard", "--warmup", "4"]) == 0
    assert "used ring" in capsys.readouterr().out
    assert cli_entry(["conform", "--impl", impl, "--discard", "--warmup", "4", "--reopen"]) == 1
    assert cli_entry(["conform", "--discard", "--warmup", "15"]) == 2
    assert "--warmup 15:" in capsys.readouterr().err
    assert cli_entry(["conform", "--discard", "--warmup", "2", "--method", "stateful"]) == 2

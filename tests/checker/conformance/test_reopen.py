"""Lockstep with reopen: the consumer closed and opened again on a used ring, one call at a time."""

from __future__ import annotations

import io
import json

import pytest

from checker.cli import cli_entry
from checker.conformance.concurrent.mutants import ReopenRestartsAtZero
from checker.conformance.concurrent.reference import ConcurrentReference
from checker.conformance.concurrent.sequential import sequential
from checker.conformance.lockstep import BOUNDED, CONFORMS, DIVERGES, check_lockstep
from checker.conformance.mutants import ConsumerRestartsOnReopen, ConsumerSkipsBacklogOnReopen
from checker.conformance.ops import REOPEN, Op, commit, consume, reserve, write
from checker.conformance.recorder import record_operations
from checker.conformance.reference import make_reference
from checker.conformance.standard import standard_configs
from checker.conformance.stateful import check_stateful
from checker.conformance.tracelog import LogFormatError, validate_log
from model.config import Config

CONFIG = Config(variant="v6.10", discard=True)
REOPEN_PATH = [reserve(0, 8, 0), write(0, 0), commit(0, 0), consume(), Op(REOPEN), consume()]
"""One record produced and consumed, the consumer reopened, a consume that must deliver nothing."""


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


@pytest.mark.slow  # about 3.5 s of CPU (Hypothesis's shrinking); the backlog test below is the fast stateful one
def test_stateful_with_reopen_catches_a_consumer_that_restarts_with_a_shrunk_divergence() -> None:
    r = check_stateful(ConsumerRestartsOnReopen, CONFIG, max_examples=100, reopen=True)
    div = r.divergence
    assert r.kind == DIVERGES and div is not None and div.method == "stateful"
    assert [op.kind for op in div.operations] == ["reserve", "write", "commit", "consume", REOPEN, "consume"]
    assert div.field == "samples" and div.expected == () and div.observed == (0,)


def test_stateful_with_reopen_the_reference_conforms_and_reopens() -> None:
    r = check_stateful(make_reference, CONFIG, max_examples=30, reopen=True)
    assert r.kind == BOUNDED, r.headline()
    assert check_stateful(ConsumerRestartsOnReopen, CONFIG, max_examples=30).kind == BOUNDED


@pytest.mark.slow
def test_conform_stateful_reopen_from_the_command_line(capsys) -> None:
    impl = "checker.conformance.mutants:ConsumerRestartsOnReopen"
    assert cli_entry(["conform", "--impl", impl, "--discard", "--method", "stateful", "--examples", "100",
                      "--reopen"]) == 1
    assert "reopen()" in capsys.readouterr().out


def _recorded(factory, ops) -> list[str]:
    buf = io.StringIO()
    assert record_operations(factory, CONFIG, ops, buf) is None
    return buf.getvalue().splitlines()


def test_a_log_with_reopen_is_recorded_and_validated() -> None:
    lines = _recorded(make_reference, REOPEN_PATH)
    assert sum(json.loads(x).get("op") == REOPEN for x in lines) == 1
    assert validate_log(lines).kind == CONFORMS


def test_a_log_whose_consumer_restarts_at_zero_after_reopen_is_refused_at_that_line() -> None:
    lines = _recorded(ConsumerRestartsOnReopen, REOPEN_PATH)
    r = validate_log(lines)
    div = r.divergence
    assert r.kind == DIVERGES and div is not None and div.field == "samples"
    assert json.loads(lines[div.line - 1])["op"] == "consume" and div.line > lines.index('{"op": "reopen"}') + 1
    assert div.expected == () and div.observed == (0,)


def test_a_reopen_line_is_checked_like_the_others() -> None:
    head = '{"format": "ringcheck-log/1", "ring_size": 32, "variant": "v6.10"}'
    with pytest.raises(LogFormatError, match="line 2: a reopen line has no fields"):
        validate_log([head, '{"op": "reopen", "value": 3}'])
    adversarial = json.dumps({"format": "ringcheck-log/1", "config": Config(variant="v6.10",
                                                                          consumer="adversarial").to_dict()})
    div = validate_log([adversarial, '{"op": "reopen"}']).divergence
    assert div is not None and div.line == 2 and "no libbpf consumer" in str(div.observed)
    assert validate_log([head, '{"op": "reopen"}']).kind == CONFORMS


def test_conform_record_with_reopen_then_trace(tmp_path, capsys) -> None:
    log = tmp_path / "restart.jsonl"
    impl = "checker.conformance.mutants:ConsumerRestartsOnReopen"
    assert cli_entry(["conform", "--impl", impl, "--discard", "--reopen", "--record", str(log),
                      "--length", "60", "--seed", "1"]) == 0
    assert '"op": "reopen"' in log.read_text()
    assert cli_entry(["conform", "--trace", str(log)]) == 1
    assert "line" in capsys.readouterr().out


def test_a_consumer_that_skips_the_backlog_on_reopen_is_caught_everywhere() -> None:
    div = check_lockstep(ConsumerSkipsBacklogOnReopen, CONFIG, reopen=True).divergence
    assert div is not None and div.operations[-1].kind == REOPEN and div.field == "consumer_pos"
    assert [op.kind for op in div.operations] == ["reserve", REOPEN]
    assert (div.expected, div.observed) == (0, 16)
    shrunk = check_stateful(ConsumerSkipsBacklogOnReopen, CONFIG, max_examples=100, reopen=True).divergence
    assert shrunk is not None and [op.kind for op in shrunk.operations] == ["reserve", REOPEN]
    assert check_lockstep(ConsumerSkipsBacklogOnReopen, CONFIG).kind == CONFORMS
    lines = _recorded(ConsumerSkipsBacklogOnReopen, [reserve(0, 8, 0), write(0, 0), commit(0, 0), Op(REOPEN),
                                                     consume()])
    calls_only = [x for x in lines if json.loads(x).get("op") != "observe"]  # without observations: seen at consume
    logged = validate_log(calls_only).divergence
    assert logged is not None and logged.field == "samples" and logged.expected == (0,) and logged.observed == ()
    assert json.loads(calls_only[logged.line - 1])["op"] == "consume"

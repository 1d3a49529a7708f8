"""``ringcheck conform --concurrent``: verdicts, exit codes, failing schedules written and replayed."""

from __future__ import annotations

import json

import pytest

from checker.cli import cli_entry

PLAIN_POS = "checker.conformance.concurrent.mutants:PlainProducerPos"
NO_LOCK = "checker.conformance.concurrent.mutants:ReserveWithoutLock"


def test_the_concurrent_reference_conforms_by_default(capsys) -> None:
    assert cli_entry(["conform", "--concurrent", "--scenario", "two-producers"]) == 0
    out = capsys.readouterr().out
    assert "conforms (complete)" in out and "complete schedules judged" in out


def test_a_preemption_bound_makes_the_verdict_bounded(capsys) -> None:
    assert cli_entry(["conform", "--concurrent", "--scenario", "two-producers", "--preemptions", "1"]) == 3
    assert "conforms up to bound preemptions=1" in capsys.readouterr().out


def test_a_failing_schedule_is_written_as_json_and_replays_with_schedule(tmp_path, capsys) -> None:
    out = tmp_path / "fail.json"
    args = ["conform", "--concurrent", "--impl", PLAIN_POS, "--scenario", "produce-consume", "--memory", "ra"]
    assert cli_entry(args + ["--divergence-out", str(out), "--format", "json"]) == 1
    d = json.loads(out.read_text())
    assert d["format"] == "ringcheck-schedule/1" and d["property"] == "samples-intact"
    assert d["culprits"] == [{"kind": "stale", "thread": "c", "call": "consume()", "access": "load data[0]",
                              "by": ""}]
    capsys.readouterr()
    assert cli_entry(["conform", "--concurrent", "--impl", PLAIN_POS, "--schedule", str(out), "--json"]) == 1
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["method"] == "replay" and replayed["failure"]["schedule"] == d["schedule"]
    # The reference makes the release store, so the stale read the schedule asks for is not there.
    assert cli_entry(["conform", "--concurrent", "--schedule", str(out)]) == 2
    assert "is not possible here" in capsys.readouterr().err


def test_random_schedules_with_a_seed_find_the_producer_race(capsys) -> None:
    assert cli_entry(["conform", "--concurrent", "--impl", NO_LOCK, "--scenario", "two-producers",
                      "--random", "200", "--seed", "3"]) == 1
    assert "no-overlap" in capsys.readouterr().out


def test_the_mutation_table_catches_every_concurrent_mutant(capsys) -> None:
    assert cli_entry(["conform", "--concurrent", "--mutants"]) == 0
    assert "6/6 caught" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--scenario", "nope"], "--scenario 'nope' is not one of"),
    (["--memory", "pso"], "'pso' is not one of"),
    (["--format", "svg"], "a concurrent failure is written as text or json"),
    (["--schedule", "/nonexistent.json"], "cannot read /nonexistent.json"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, capsys) -> None:
    assert cli_entry(["conform", "--concurrent"] + args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_concurrent_options_need_concurrent(capsys) -> None:
    assert cli_entry(["conform", "--preemptions", "1"]) == 2
    assert "--preemptions needs --concurrent" in capsys.readouterr().err


def test_a_malformed_schedule_file_is_one_line(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "ringcheck-schedule/1", "scenario": {"ring_size": 32}}')
    assert cli_entry(["conform", "--concurrent", "--schedule", str(bad)]) == 2
    assert "malformed" in capsys.readouterr().err

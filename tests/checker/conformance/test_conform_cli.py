"""``ringcheck conform``: exit codes, --impl loading, --trace, --record, divergence export."""

from __future__ import annotations

import json

import pytest

from checker.cli import cli_entry

NEVER_STORES = "checker.conformance.mutants:ConsumerNeverStores"


def test_the_reference_conforms_by_default(capsys) -> None:
    assert cli_entry(["conform", "--producers", "2", "--discard"]) == 0
    out = capsys.readouterr().out
    assert "conforms (complete)" in out and "v6.10 S=32 P=2" in out


def test_a_mutant_diverges_with_exit_1_and_json(capsys) -> None:
    assert cli_entry(["conform", "--impl", NEVER_STORES, "--discard", "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["verdict"] == "diverges" and d["divergence"]["field"] == "consumer_pos"
    assert d["divergence"]["operation"] == {"op": "consume"} and d["divergence"]["index"] == 4


def test_stateful_method_and_bounded_search(capsys) -> None:
    assert cli_entry(["conform", "--impl", NEVER_STORES, "--method", "stateful"]) == 1
    assert cli_entry(["conform", "--producers", "2", "--max-states", "20"]) == 3
    assert "conforms up to bound max_states=20" in capsys.readouterr().out


@pytest.mark.parametrize("impl, message", [
    ("no.such.module:f", "cannot import no.such.module"),
    ("checker.conformance.mutants:Nope", "has no callable 'Nope'"),
    ("nocolon", "expected module:factory"),
    ("missing_file.py:f", "no file missing_file.py"),
])
def test_a_bad_impl_is_one_line_and_exit_2(impl: str, message: str, capsys) -> None:
    assert cli_entry(["conform", "--impl", impl]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_impl_from_a_file_with_a_factory_that_refuses(tmp_path, capsys) -> None:
    f = tmp_path / "myring.py"
    f.write_text("def make(ring_size, variant):\n    raise ValueError('only page-sized rings')\n")
    assert cli_entry(["conform", "--impl", f"{f}:make"]) == 2
    assert "only page-sized rings" in capsys.readouterr().err


def test_record_then_validate_then_reject_an_edit(tmp_path, capsys) -> None:
    log = tmp_path / "run.jsonl"
    args = ["conform", "--record", str(log), "--producers", "2", "--discard", "--length", "20"]
    assert cli_entry(args) == 0
    assert cli_entry(args) == 2  # refuses to overwrite
    assert cli_entry(["conform", "--trace", str(log)]) == 0
    lines = log.read_text().splitlines()
    obs = json.loads(lines[2])
    obs["producer_pos"] += 8
    lines[2] = json.dumps(obs)
    log.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert cli_entry(["conform", "--trace", str(log), "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["divergence"]["line"] == 3 and d["divergence"]["field"] == "producer_pos"


def test_a_malformed_log_is_exit_2(tmp_path, capsys) -> None:
    log = tmp_path / "bad.jsonl"
    log.write_text("{oops\n")
    assert cli_entry(["conform", "--trace", str(log)]) == 2
    assert "line 1: not JSON" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["text", "json", "itf", "html", "dot"])
def test_divergence_export_in_every_format(fmt: str, tmp_path) -> None:
    out = tmp_path / f"div.{fmt}"
    assert cli_entry(["conform", "--impl", NEVER_STORES, "--discard", "--divergence-out", str(out),
                      "--format", fmt]) == 1
    text = out.read_text()
    assert "consume" in text
    assert cli_entry(["conform", "--impl", NEVER_STORES, "--divergence-out", str(out)]) == 2


def test_mutation_score_table(capsys, monkeypatch) -> None:
    from checker.conformance import cli
    from checker.conformance.reference import make_reference

    some = {k: cli.MUTANTS[k] for k in ("commit_keeps_busy", "reserve_no_size_check")}
    monkeypatch.setattr(cli, "MUTANTS", some)
    assert cli_entry(["conform", "--mutants", "--examples", "30"]) == 0
    out = capsys.readouterr().out
    assert "4/4 caught" in out and "reserve_no_size_check          stateful  operation 2" in out
    monkeypatch.setattr(cli, "MUTANTS", {"commit_keeps_busy": make_reference})
    assert cli_entry(["conform", "--mutants", "--examples", "10"]) == 1
    assert "NOT CAUGHT" in capsys.readouterr().out


def test_standard_table_lists_refused_variants(tmp_path, capsys, monkeypatch) -> None:
    from checker.conformance import cli
    from checker.conformance.standard import standard_configs

    small = {k: v for k, v in standard_configs().items() if "adversarial sizes" in k}
    monkeypatch.setattr(cli, "standard_configs", lambda: small)
    ring = tmp_path / "only610.py"
    ring.write_text("from checker.conformance.reference import ReferenceRingBuffer\n"
                    "def make(ring_size, variant):\n"
                    "    if variant != 'v6.10':\n"
                    "        raise ValueError('v6.10 only')\n"
                    "    return ReferenceRingBuffer(ring_size, variant)\n")
    assert cli_entry(["conform", "--impl", f"{ring}:make", "--standard"]) == 0
    out = capsys.readouterr().out
    from checker.conformance.standard import VARIANTS

    refused = len(VARIANTS) - 1  # every variant with standard configurations but v6.10
    assert out.count("refused") == refused and out.count("conforms") == 1 and "v6.10 only" in out
    monkeypatch.setattr(cli, "standard_configs", lambda: {k: v for k, v in small.items() if "v5.8" in k})
    assert cli_entry(["conform", "--impl", f"{ring}:make", "--standard"]) == 2

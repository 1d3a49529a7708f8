"""Errors are one short line (issue 16, class 7), and what a newcomer looks for is there (class 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

import checker
from checker.cli import cli_entry
from checker.smt.cli import _print_proof

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- class 7: one line


@pytest.mark.parametrize("argv", [
    ["trace", "p0 reserve 8", "--output", "-"],             # missing --format: was seven lines
    ["kernel"],                                              # a group without its command: was its usage
    ["check", "--nonsense"],
    ["check", "--ring-size"],
    ["chek"],
    ["kernel", "diff", "--consumer", "nope"],
    ["states", "--format", "png", "--output", "-"],
    ["check", "--variant", "v" * 5000],                      # an error quoting a huge value is cut
    ["trace", "p0 reserve " + "9" * 5000, "--format", "dot", "--output", "-"],
])
def test_every_usage_error_is_one_short_line(argv: list[str], capsys) -> None:
    assert cli_entry(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("ringcheck: error: ") and captured.err.count("\n") == 1
    assert len(captured.err) < 400


def test_a_group_without_a_command_names_its_commands(capsys) -> None:
    assert cli_entry(["kernel"]) == 2
    assert capsys.readouterr().err == ("ringcheck: error: ringcheck kernel: missing command; one of: diff, probe "
                                       "(see ringcheck kernel --help)\n")


def test_a_scenario_on_a_1_mib_ring_fails_fast_in_one_short_line(capsys) -> None:
    t0 = time.process_time()
    text = "config: ring_size=1048576 consumer=adversarial\np0 reserve 8; p0.commit.wakeup"
    assert cli_entry(["trace", text, "--format", "dot", "--output", "-"]) == 2
    err = capsys.readouterr().err
    assert time.process_time() - t0 < 15  # was 31 s and a 20 MB line
    assert err.count("\n") == 1 and len(err) < 400 and "statement 2" in err


# ---------------------------------------------------------------- class 13: what a newcomer looks for


def test_version_matches_pyproject_and_is_in_json(capsys) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert checker.__version__ == version
    assert cli_entry(["--version"]) == 0
    assert capsys.readouterr().out == f"ringcheck {version}\n"
    assert cli_entry(["check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ringcheck_version"] == version
    assert cli_entry(["conform", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ringcheck_version"] == version
    from checker.graphs.itf import itf_dict
    from checker.run import check
    from model.config import Config

    trace = check(Config(variant="v5.13", consumer="adversarial", hold=2)).trace
    assert itf_dict(trace)["#meta"]["version"] == version


def test_check_help_lists_exit_codes_properties_and_choices(capsys) -> None:
    assert cli_entry(["check", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0 holds (complete), 1 violated" in text and "3 holds up to a bound" in text
    for name in ("in_bounds", "no_overlap", "ordered_delivery", "no_lost_wakeup", "aligned"):
        assert name in text
    from model.variants import variant_names

    assert f"--variant [{'|'.join(variant_names())}]" in text and "v6.15" in text and "--consumer [level|edge|adversarial|overwrite-safe]" in text
    assert "--strategy [bfs|dfs|random]" in text and "--variant TEXT" not in text


def test_a_random_search_counterexample_prints_its_seed(capsys) -> None:
    args = ["check", "--variant", "v5.13", "--consumer", "adversarial", "--hold", "2", "--strategy", "random",
            "--seed", "7"]
    assert cli_entry(args) == 1
    assert "seed:     7 (the same --seed finds this trace again)" in capsys.readouterr().out
    assert cli_entry([*args, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["seed"] == 7


def test_stateful_conform_reports_real_statistics(capsys) -> None:
    assert cli_entry(["conform", "--method", "stateful", "--examples", "20", "--json"]) == 3
    stats = json.loads(capsys.readouterr().out)["stats"]
    assert stats["transitions"] > 20 and stats["calls"] >= stats["transitions"]
    assert 1 < stats["states"] <= stats["transitions"] and 0 < stats["depth"] <= 30 and stats["seconds"] > 0


def test_conform_standard_honours_variant_and_refuses_other_options(monkeypatch, capsys) -> None:
    import checker.conformance.cli as conform_cli
    from checker.conformance.lockstep import ConformanceResult, LockstepStats

    ran: list[str] = []

    def fake_lockstep(factory, config, *args, **kw):
        ran.append(config.variant)
        return ConformanceResult(config, "lockstep", "conforms", LockstepStats())

    monkeypatch.setattr(conform_cli, "check_lockstep", fake_lockstep)
    assert cli_entry(["conform", "--standard", "--variant", "v5.8"]) == 0
    assert ran and set(ran) == {"v5.8"}
    ran.clear()
    assert cli_entry(["conform", "--standard"]) == 0
    from model.variants import variant_names

    from checker.conformance.standard import VARIANTS

    # every variant the bundled references implement has standard configurations (overwrite mode is the model's only)
    assert set(ran) == set(VARIANTS) == {v for v in variant_names() if v != "v6.19-overwrite"}
    assert cli_entry(["conform", "--standard", "--ring-size", "64"]) == 2
    assert "drop --ring-size" in capsys.readouterr().err


def test_a_proof_without_a_digest_prints_no_empty_digest_line() -> None:
    lines: list[str] = []
    r = SimpleNamespace(assumptions=[], invariants=[], digest="", obligations=[], seconds=0.0, interrupted=None,
                        bound=None, verdicts={})
    _print_proof(r, lines.append)
    assert not any(line.startswith("model digest") for line in lines)
    _print_proof(SimpleNamespace(**{**vars(r), "digest": "abc123"}), lines.append)
    assert "model digest: abc123" in lines


def _ringcheck_in(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # -P: the current folder is not on sys.path, as for the ringcheck console script
    return subprocess.run([sys.executable, "-P", "-c", "from checker.cli import entry_point; entry_point()", *args],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)


def test_hypothesis_leaves_no_folder_where_ringcheck_runs(tmp_path: Path) -> None:
    assert _ringcheck_in(tmp_path, "conform", "--method", "stateful", "--examples", "5").returncode == 3
    from checker.kernel.bpf import kernel_available

    if kernel_available()[0]:
        assert _ringcheck_in(tmp_path, "kernel", "diff", "--scripts", "3").returncode in (0, 1)
    assert list(tmp_path.iterdir()) == []


def test_impl_names_a_module_in_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "my_ring.py").write_text("from checker.conformance.reference import ReferenceRingBuffer as MyRing\n")
    p = _ringcheck_in(tmp_path, "conform", "--impl", "my_ring:MyRing")
    assert p.returncode == 0, p.stderr
    assert "conforms (complete)" in p.stdout

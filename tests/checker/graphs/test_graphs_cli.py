"""``ringcheck trace``, ``ringcheck states`` and ``ringcheck report`` from the command line."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from checker.cli import cli_entry
from checker.graphs.itf import load_itf
from checker.trace import Trace
from tests.checker.graphs.test_graphs_scenario import CVE_SCENARIO


@pytest.fixture
def trace_file(tmp_path, cve_41009):
    path = tmp_path / "cve.json"
    rc = cli_entry(["check", "--variant", "v5.13", "--consumer", "adversarial", "--hold", "2",
                    "--trace-out", str(path)])
    assert rc == 1
    assert Trace.load(path).states == cve_41009.states
    return path


@pytest.mark.parametrize("fmt", ["graphml", "dot", "json", "itf", "html", "svg"])
def test_every_format_from_a_trace_file(trace_file, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    assert cli_entry(["trace", str(trace_file), "--format", fmt, "--output", str(out)]) == 0
    assert out.stat().st_size > 500


def test_itf_from_the_cli_decodes_and_can_be_rendered_again(trace_file, tmp_path, cve_41009):
    itf = tmp_path / "t.itf.json"
    assert cli_entry(["trace", str(trace_file), "--format", "itf", "--output", str(itf)]) == 0
    assert load_itf(itf.read_text()).states == cve_41009.states
    g = tmp_path / "g.graphml"
    assert cli_entry(["trace", str(itf), "--format", "graphml", "--output", str(g)]) == 0
    assert nx.read_graphml(g).number_of_nodes() == len(cve_41009) + 1


def test_refuses_to_overwrite_without_force(trace_file, tmp_path, capsys):
    out = tmp_path / "t.svg"
    out.write_text("mine")
    assert cli_entry(["trace", str(trace_file), "--format", "svg", "--output", str(out)]) == 2
    assert out.read_text() == "mine"
    assert "--force" in capsys.readouterr().err
    assert cli_entry(["trace", str(trace_file), "--format", "svg", "--output", str(out), "--force"]) == 0
    assert out.read_text().startswith("<svg")


def test_scenario_file_and_text(tmp_path, cve_41009, capsys):
    path = tmp_path / "cve.scn"
    path.write_text(CVE_SCENARIO)
    assert cli_entry(["trace", str(path), "--format", "itf", "--output", "-"]) == 0
    assert load_itf(capsys.readouterr().out).states == cve_41009.states
    text = "p0 reserve 8; p0 write; p0.reserve.check(size=16); user consumer_pos = 16; p0 reserve"
    assert cli_entry(["trace", text, "--variant", "v5.13", "--consumer", "adversarial", "--hold", "2",
                      "--format", "itf", "--output", "-"]) == 0
    assert load_itf(capsys.readouterr().out).states == cve_41009.states


def test_impossible_scenario_step_is_one_line_exit_2(capsys):
    rc = cli_entry(["trace", "p0 reserve 16; p0 write; p0 write", "--format", "dot", "--output", "-"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "statement 3 `p0 write`" in err and "Traceback" not in err


@pytest.mark.parametrize("args, needle", [
    (["nosuchfile"], "no such file"),
    (["p0 reserve 8", "--variant", "v9"], "variant"),
])
def test_bad_sources(args, needle, capsys):
    assert cli_entry(["trace", *args, "--format", "svg", "--output", "-"]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_trace_file_with_config_options_is_refused(trace_file, capsys):
    assert cli_entry(["trace", str(trace_file), "--variant", "v5.8", "--format", "svg", "--output", "-"]) == 2
    assert "drop --variant" in capsys.readouterr().err


def test_tampered_trace_file_does_not_replay(trace_file, capsys):
    d = json.loads(trace_file.read_text())
    d["steps"][3]["state"]["producer_pos"] = 8
    trace_file.write_text(json.dumps(d))
    assert cli_entry(["trace", str(trace_file), "--format", "svg", "--output", "-"]) == 2
    assert "step 4" in capsys.readouterr().err


def test_states_command_and_its_guard(tmp_path, capsys):
    out = tmp_path / "g.dot"
    base = ["states", "--ring-size", "16", "--records", "1", "--sizes", "8"]
    assert cli_entry([*base, "--format", "dot", "--output", str(out)]) == 0
    assert "rank=same" in out.read_text()
    assert cli_entry([*base, "--format", "dot", "--output", "-", "--max-states", "5"]) == 2
    assert "--max-states" in capsys.readouterr().err


def test_report_refuses_a_foreign_folder(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert cli_entry(["report", "--output-dir", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err

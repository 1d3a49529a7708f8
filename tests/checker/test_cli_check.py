"""The CLI: exit codes, JSON, one-line errors, never overwriting a user's file."""

import json
import subprocess
import sys

import pytest

from checker.cli import cli_entry

CVE = ["check", "--variant", "v5.13", "--consumer", "adversarial", "--hold", "2", "--sizes", "8,16"]


def run(args, capsys):
    code = cli_entry(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_violation_exits_1_with_json(capsys):
    code, out, err = run(CVE + ["--json"], capsys)
    assert code == 1
    d = json.loads(out)
    assert d["verdict"] == "violated" and d["property"] == "no_overlap"
    assert set(d["stats"]) >= {"states", "transitions", "depth", "seconds", "states_per_second", "peak_mb"}
    assert len(d["trace"]) == 11 and d["trace"][0]["action"] is None
    assert d["trace"][-1]["action"] == "p0.reserve.claim"


def test_holds_exits_0(capsys):
    code, out, _ = run(CVE[:2] + ["v6.10"] + CVE[3:], capsys)
    assert code == 0 and "holds (complete)" in out


def test_bound_exits_3(capsys):
    code, out, _ = run(CVE[:2] + ["v6.10"] + CVE[3:] + ["--max-states", "100", "--json"], capsys)
    assert code == 3
    d = json.loads(out)
    assert d["verdict"] == "bounded" and d["bound"] == "max_states=100"


@pytest.mark.parametrize("args,needle", [
    (["check", "--variant", "v9"], "variant"),
    (["check", "--ring-size", "48"], "ring_size"),
    (["check", "--sizes", "8,x"], "sizes"),
    (["check", "--property", "nope"], "property"),
    (["check", "--strategy", "astar"], "strategy"),
    (["check", "--max-states", "0"], "max-states"),
    (["check", "--bogus"], "bogus"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, capsys):
    code, out, err = run(args, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err


def test_trace_out_never_overwrites_without_force(tmp_path, capsys):
    path = tmp_path / "mine.json"
    path.write_text("precious")
    code, _, err = run(CVE + ["--trace-out", str(path)], capsys)
    assert code == 2 and "exists" in err and path.read_text() == "precious"
    code, _, _ = run(CVE + ["--trace-out", str(path), "--force"], capsys)
    assert code == 1 and json.loads(path.read_text())["property"] == "no_overlap"


def test_console_script_default_suite_runs():
    p = subprocess.run([sys.executable, "-c", "from checker.cli import entry_point; entry_point()"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "0 unexpected" in p.stdout and "violated: in_bounds" in p.stdout

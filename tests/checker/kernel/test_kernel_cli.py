"""``ringcheck kernel probe`` and ``ringcheck kernel diff``: output, exit codes, refusal without privilege."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from checker import cli
from checker.kernel import cli as kernel_cli
from checker.kernel.bpf import kernel_available

AVAILABLE, REASON = kernel_available()
needs_kernel = pytest.mark.skipif(not AVAILABLE, reason=REASON)
ENTRY = "from checker.cli import entry_point; entry_point()"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.cli_entry(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@needs_kernel
def test_probe_reports_v6_10_with_the_evidence(capsys):
    code, out, _ = run_cli(capsys, "kernel", "probe")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "kernel ring buffer behaves like v6.10"
    assert "CVE-2021-3489" in lines[2] and "length check present" in lines[2]
    assert "CVE-2024-41009" in lines[3] and "pending_pos check present" in lines[3]
    code, out, _ = run_cli(capsys, "kernel", "probe", "--json")
    data = json.loads(out)
    assert code == 0 and data["variant"] == "v6.10" and len(data["evidence"]) == 3


@needs_kernel
def test_diff_prints_a_summary_and_exits_0_when_kernel_and_model_agree(capsys):
    code, out, _ = run_cli(capsys, "kernel", "diff", "--scripts", "40", "--seed", "5")
    assert code == 0, out
    assert out.splitlines()[0] == "probe: kernel behaves like v6.10"
    summary = out.splitlines()[1]
    assert "40 scripts run" in summary and "0 disagreements" in summary and "operations compared" in summary
    code, out, _ = run_cli(capsys, "kernel", "diff", "--scripts", "20", "--consumer", "libbpf", "--json")
    data = json.loads(out)
    assert code == 0 and (data["scripts"], data["disagreements"], data["consumer"]) == (20, 0, "libbpf")
    assert data["operations_compared"] > 20 and data["seconds"] > 0


@pytest.mark.slow                 # 8-16 s: the README's command stays under five minutes
@needs_kernel
def test_diff_against_a_wrong_model_exits_1_with_the_shrunk_trace(capsys):
    code, out, _ = run_cli(capsys, "kernel", "diff", "--scripts", "1000", "--seed", "1", "--variant", "v5.13")
    assert code == 1
    assert "1 disagreements" in out
    assert "first disagreement, shrunk by hypothesis:" in out
    assert "model v5.13 expects" in out.splitlines()[-1] and "kernel gave NULL" in out.splitlines()[-1]


def test_without_bpf_every_kernel_command_exits_2_with_one_line(capsys, monkeypatch):
    monkeypatch.setattr(kernel_cli, "kernel_available", lambda: (False, "bpf() not permitted: EPERM (simulated)"))
    for args in (["kernel", "probe"], ["kernel", "diff", "--scripts", "3"]):
        code, out, err = run_cli(capsys, *args)
        assert code == 2 and out == ""
        assert err == "ringcheck: error: cannot use the kernel's ring buffer here: bpf() not permitted: EPERM (simulated)\n"


def _unprivileged_commands() -> list[tuple[str, list[str]]]:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return []
    commands = [("capabilities dropped", [setpriv, "--bounding-set=-all", "--inh-caps=-all"])]
    if os.access(sys.executable, os.X_OK) and os.geteuid() == 0:
        commands.append(("uid 65534", [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]))
    return commands


@pytest.mark.parametrize("how,prefix", _unprivileged_commands() or [pytest.param("", [], marks=pytest.mark.skip(
    reason="setpriv is not installed"))])
@pytest.mark.parametrize("command", [["kernel", "probe"], ["kernel", "diff", "--scripts", "5"]])
def test_unprivileged_run_exits_2_with_one_line_and_no_traceback(how, prefix, command):
    if not AVAILABLE:
        prefix = []  # this process is unprivileged already
    imports = subprocess.run([*prefix, sys.executable, "-c", "import click, checker.cli"], capture_output=True,
                             text=True, timeout=60, cwd=os.getcwd())
    if imports.returncode != 0:
        last = (imports.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"{how}: this user cannot import the installed project ({last})")
    argv = [*prefix, sys.executable, "-c", ENTRY, *command]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=os.getcwd())
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("ringcheck: error: cannot use the kernel's ring buffer here: bpf() not permitted")


@pytest.mark.slow                 # 8-16 s: the README's command stays under five minutes
@needs_kernel
def test_diff_writes_the_disagreement_trace_and_never_overwrites_a_file(capsys, tmp_path):
    from checker.trace import Trace

    out_file = tmp_path / "trace.json"
    code, out, err = run_cli(capsys, "kernel", "diff", "--scripts", "1000", "--seed", "1", "--variant", "v5.13",
                             "--json", "--trace-out", str(out_file))
    data = json.loads(out)
    assert code == 1 and data["disagreements"] == 1
    assert data["disagreement"]["observed"] == "NULL" and data["disagreement"]["model_steps"]
    trace = Trace.load(out_file)
    assert trace.property == "kernel-diff" and [str(s.action) for s in trace.steps] == data["disagreement"]["model_steps"]
    code, out, err = run_cli(capsys, "kernel", "diff", "--scripts", "3", "--trace-out", str(out_file))
    assert code == 2 and out == "" and err.startswith("ringcheck: error: ") and "--force" in err

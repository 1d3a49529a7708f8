"""Ctrl-C and SIGTERM (issue 16, class 3): every command stops within about a second, prints what it found so
far, with --json one object whose verdict is "interrupted", and exits 130.

Each test starts ringcheck in a subprocess on a configuration that runs for a long time, waits until it is
working (a line it prints, or a fixed delay), sends the signal and times the exit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN_S = 2.0
"""The issue asks for a second; the margin is for a loaded 2-core machine (measured: 0.05-0.4 s)."""

LONG_CHECK = ["check", "--ring-size", "64", "--producers", "3", "--records", "2", "--sizes", "8,16"]
LONG_PROVE = ["prove", "--variant", "v6.10"]
LONG_BMC = ["bmc", "--property", "no_overlap", "--depth", "60", "--producers", "2"]


class Run:
    """A ringcheck subprocess with its output in files (no pipe can fill up and stall it)."""

    def __init__(self, args: list[str], tmp: Path) -> None:
        self.out, self.err = tmp / "stdout", tmp / "stderr"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("COLUMNS", None)
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-c", "import sys; from checker.cli import cli_entry; "
                                          "sys.exit(cli_entry(sys.argv[1:]))", *args],
                                         stdout=out, stderr=err, env=env, cwd=tmp)

    def wait_for(self, text: str, within_s: float = 60.0) -> None:
        """Until ``text`` appears on stdout or stderr (the command is past its start-up and working)."""
        end = time.monotonic() + within_s
        while time.monotonic() < end:
            if text in self.stdout() or text in self.stderr():
                return
            assert self.proc.poll() is None, f"ended before {text!r}: {self.stderr()}"
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not seen within {within_s}s")

    def signal(self, sig: int, within_s: float = STOP_WITHIN_S) -> tuple[int, float]:
        """Send ``sig``; (exit code, seconds until the process ended). Fails if it is still running."""
        assert self.proc.poll() is None, f"ended before the signal: {self.stdout()} {self.stderr()}"
        t = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=within_s + 20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return code, time.monotonic() - t

    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")


def stopped(run: Run, sig: int = signal.SIGINT) -> None:
    """Send ``sig`` and assert the exit code 130 within the limit and the stderr line."""
    code, seconds = run.signal(sig)
    assert code == 130, (code, run.stderr())
    assert seconds < STOP_WITHIN_S, f"took {seconds:.2f}s to stop"
    name = signal.Signals(sig).name
    assert f"interrupted by {name}" in run.stderr() + run.stdout()
    assert "Traceback" not in run.stderr()


def json_of(run: Run) -> dict:
    """The one JSON object on stdout."""
    return json.loads(run.stdout())


@pytest.mark.parametrize("sig", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_prove_in_one_process_stops_and_keeps_the_obligations_settled(tmp_path, sig):
    run = Run([*LONG_PROVE, "--jobs", "1"], tmp_path)
    run.wait_for("consecution: ")
    stopped(run, sig)
    out = run.stdout()
    settled = [ln for ln in out.splitlines() if ln.startswith("  initiation: ") or ln.startswith("  consecution: ")]
    assert settled, out
    assert "run cut short: interrupted by" in out
    assert "verdict: no_overlap: unknown: interrupted by" in out
    assert "holds (complete)" not in out


@pytest.mark.slow
def test_prove_with_workers_stops_them_and_prints_one_json_object(tmp_path):
    run = Run([*LONG_PROVE, "--jobs", "2", "--json", "--progress"], tmp_path)
    run.wait_for("prove")  # the progress bar on stderr: the workers are running
    time.sleep(2)
    stopped(run, signal.SIGINT)
    data = json_of(run)
    assert data["verdict"] == "interrupted"
    assert data["runs"][0]["interrupted"] == "SIGINT"
    assert data["runs"][0]["obligations"], "the obligations settled before the signal are kept"
    assert all(v.startswith("unknown") for v in data["runs"][0]["verdicts"].values())
    # no worker is left running: each would hold the stderr file open; pgrep by our parent's pid
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-P", str(run.proc.pid)], capture_output=True, text=True).stdout
    assert not left.strip()


def test_bmc_stops_with_the_depths_answered(tmp_path):
    run = Run([*LONG_BMC, "--json"], tmp_path)
    time.sleep(3)
    stopped(run, signal.SIGINT)
    data = json_of(run)
    assert data["verdict"] == "interrupted"
    assert "answered" in data["bound"]
    assert "Traceback" not in run.stderr() and "KeyboardInterrupt" not in run.stderr()


@pytest.mark.parametrize("as_json", [pytest.param(False, marks=pytest.mark.slow), True])
def test_check_stops_with_its_statistics(tmp_path, as_json):
    run = Run([*LONG_CHECK] + (["--json"] if as_json else []), tmp_path)
    time.sleep(2.5)
    stopped(run, signal.SIGTERM if as_json else signal.SIGINT)
    if as_json:
        data = json_of(run)
        assert data["verdict"] == "interrupted" and data["stats"]["states"] > 0
    else:
        assert "verdict:  interrupted by SIGINT" in run.stdout()
        assert "states" in run.stdout()


@pytest.mark.slow
def test_default_suite_stops_with_the_rows_done(tmp_path):
    run = Run([], tmp_path)
    run.wait_for("CVE-2021-3489 shape")
    time.sleep(1)
    stopped(run, signal.SIGINT)
    assert "cases done" in run.stdout()


def test_crosscheck_stops_with_the_states_checked(tmp_path):
    run = Run(["crosscheck", "--json"], tmp_path)
    time.sleep(3)
    stopped(run, signal.SIGINT)
    data = json_of(run)
    assert data["verdict"] == "interrupted"
    assert data["cut_short"] == "interrupted by SIGINT"
    assert data["configs"][-1]["interrupted"] == "SIGINT"


@pytest.mark.slow
def test_a_command_without_partial_results_still_ends_with_130(tmp_path):
    """states holds nothing worth printing half-built: one line and 130."""
    run = Run(["states", "--ring-size", "64", "--producers", "3", "--records", "2", "--sizes", "8,16",
               "--format", "dot", "--output", "g.dot", "--max-states", "10000000"], tmp_path)
    time.sleep(3)
    stopped(run, signal.SIGINT)


def test_in_process_handlers_are_restored():
    """cli_entry installs its handlers for the run only (tests and notebooks call it in-process)."""
    from checker.cli import cli_entry

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert cli_entry(["bmc", "--property", "in_bounds", "--depth", "1"]) == 3
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_conform_lockstep_stops_with_its_statistics(tmp_path):
    run = Run(["conform", "--producers", "2", "--records", "3", "--hold", "2", "--sizes", "8,16", "--discard",
               "--json"], tmp_path)
    time.sleep(3)
    stopped(run, signal.SIGINT)
    data = json_of(run)
    assert data["verdict"] == "interrupted" and data["bound"] == "interrupted by SIGINT"
    assert data["stats"]["states"] > 0 and data["stats"]["calls"] > 0


def _kernel() -> tuple[bool, str]:
    from checker.kernel.bpf import kernel_available

    return kernel_available()


@pytest.mark.kernel
@pytest.mark.skipif(not _kernel()[0], reason=_kernel()[1] or "bpf() refused")
def test_kernel_diff_stops_with_the_scripts_run(tmp_path):
    run = Run(["kernel", "diff", "--scripts", "1000000", "--json"], tmp_path)
    time.sleep(4)
    stopped(run, signal.SIGTERM)
    data = json_of(run)
    assert data["verdict"] == "interrupted" and data["interrupted"] == "SIGTERM"
    assert data["scripts"] > 0 and data["operations_compared"] > 0


@pytest.mark.slow
def test_conform_standard_stops_at_the_interrupted_configuration(tmp_path):
    """A table of runs ends at the one the signal cut short (it used to go on to the next ones)."""
    run = Run(["conform", "--standard"], tmp_path)
    run.wait_for("v5.8 adversarial")
    time.sleep(1)
    stopped(run, signal.SIGINT)
    assert run.stdout().rstrip().splitlines()[-1].split()[-6] == "interrupted"

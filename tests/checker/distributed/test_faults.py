"""Must show 4: a worker killed mid-run gives a bounded verdict naming it, never "complete";
with --on-worker-loss resume the run restarts from the last checkpoint and completes with the right counts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from checker.distributed.driver import run_distributed
from checker.search import Search
from model import Config
from tests.checker.distributed.conftest import serial, summary

CFG = Config(producers=2, records=1, discard=True)


pytestmark = pytest.mark.slow  # seconds each: the README's test command stays under 5 minutes; .ci/run runs them


def test_a_worker_killed_mid_run_gives_a_bounded_verdict_naming_it():
    v = run_distributed(Search.for_config(CFG), workers=2, fault=(1, 6))
    assert v.kind == "bounded" and v.exit_code == 3
    assert v.bound.startswith("worker 1 lost (pid ") and "SIGKILL" in v.bound
    assert "every state within depth 6 was found and checked" in v.bound
    assert v.stats.states < serial(CFG).stats.states
    assert v.distributed["lost"] and v.distributed["lost"][0].startswith("worker 1 lost")


def test_a_worker_killed_from_outside_gives_a_bounded_verdict(tmp_path):
    """SIGKILL one worker process of a running ringcheck (found by its name among the driver's children)."""
    p = subprocess.Popen([sys.executable, "-c", "from checker.cli import entry_point; entry_point()", "check",
                          "--producers", "2", "--records", "2", "--discard", "--workers", "2", "--json"],
                         start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    victim = None
    while victim is None:
        assert p.poll() is None and time.time() < deadline
        kids = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
        if len(kids) == 2 and os.path.exists(f"/proc/{kids[1]}/stat"):
            time.sleep(0.5)                              # let it get into the levels
            victim = int(kids[1])
        time.sleep(0.05)
    os.kill(victim, signal.SIGKILL)
    out, err = p.communicate(timeout=120)
    v = json.loads(out)
    assert p.returncode == 3, err.decode()
    assert v["verdict"] == "bounded" and v["bound"].startswith(f"worker 1 lost (pid {victim}, killed by SIGKILL)")


def test_on_worker_loss_resume_restarts_from_the_checkpoint(tmp_path):
    v = run_distributed(Search.for_config(CFG), workers=2, fault=(0, 9), checkpoint=tmp_path / "ck",
                        on_worker_loss="resume")
    assert summary(v) == summary(serial(CFG))
    assert any("resumed from the checkpoint after: worker 0 lost" in n for n in v.notes)


@pytest.mark.slow
def test_sigterm_to_the_driver_stops_the_workers_and_reports_interrupted():
    p = subprocess.Popen([sys.executable, "-c", "from checker.cli import entry_point; entry_point()", "check",
                          "--producers", "2", "--records", "2", "--discard", "--workers", "2", "--json"],
                         start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while len(open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()) < 2:
        assert p.poll() is None and time.time() < deadline
        time.sleep(0.05)
    kids = [int(k) for k in open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()]
    time.sleep(1.5)
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 130
    v = json.loads(out)
    assert v["verdict"] == "interrupted" and v["engine"] == "compiled" and v["stats"]["states"] > 1
    time.sleep(0.5)
    assert not any(os.path.exists(f"/proc/{k}") and open(f"/proc/{k}/stat").read().split()[2] != "Z" for k in kids)

"""Must show 3: a run SIGKILLed after a checkpoint and resumed ends with the uninterrupted run's counts;
checkpoints are refused for another configuration and never written over a directory that is not one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from checker.cli import cli_entry
from checker.distributed import checkpoint as ckpt
from checker.distributed.driver import PAUSE_AFTER_LEVEL, run_distributed
from checker.search import Search
from model import Config
from tests.checker.distributed.conftest import serial, summary

CONFIG = ["--producers", "2", "--records", "1", "--discard"]
CFG = Config(producers=2, records=1, discard=True)


pytestmark = pytest.mark.slow  # seconds each: the README's test command stays under 5 minutes; .ci/run runs them


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def test_killed_after_a_checkpoint_and_resumed_gives_the_uninterrupted_counts(tmp_path, capsys):
    d = tmp_path / "ck"
    env = dict(os.environ, **{PAUSE_AFTER_LEVEL: "12"})
    p = subprocess.Popen([sys.executable, "-c", "from checker.cli import entry_point; entry_point()", "check",
                          *CONFIG, "--workers", "2", "--checkpoint", str(d)],
                         env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not _stopped(p.pid):
        assert p.poll() is None, p.stderr.read().decode()
        assert time.time() < deadline
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)                     # the driver and both workers, at once
    p.wait()
    assert json.loads((d / ckpt.MARKER).read_text())["level"] == 12
    assert cli_entry(["check", *CONFIG, "--resume", str(d), "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    want = serial(CFG)
    assert (v["verdict"], v["stats"]["states"], v["stats"]["transitions"], v["stats"]["depth"],
            v["stats"]["terminal"]) == (want.kind, want.stats.states, want.stats.transitions, want.stats.depth,
                                        want.stats.terminal)


def test_a_level_written_after_the_last_complete_one_is_ignored_on_resume(tmp_path):
    d = tmp_path / "ck"
    from checker.search import Limits

    bounded = run_distributed(Search.for_config(CFG, limits=Limits(max_depth=8)), workers=2, checkpoint=d)
    assert bounded.kind == "bounded"
    meta = json.loads((d / ckpt.MARKER).read_text())
    (d / "level-000009").mkdir()                          # a crash after the rename, before the JSON
    (d / "level-000009" / "shard-0.npz").write_bytes(b"torn")
    (d / ".level-000010.tmp").mkdir()                     # a crash while writing
    meta_before = dict(meta)
    v = run_distributed(Search.for_config(CFG), resume=d)
    assert summary(v) == summary(serial(CFG))
    assert meta_before["level"] == 8


def test_a_violation_found_after_a_resume_has_the_serial_trace(tmp_path):
    from checker.search import Limits
    from tests.checker.test_manifest import STANDARD

    cfg = Config(**STANDARD["cve-2024-41009/v5.13"])
    d = tmp_path / "ck"
    assert run_distributed(Search.for_config(cfg, limits=Limits(max_depth=5)), workers=2, checkpoint=d).kind == "bounded"
    assert summary(run_distributed(Search.for_config(cfg), resume=d)) == summary(serial(cfg))


def test_resume_refuses_another_configuration_and_another_worker_count(tmp_path, capsys):
    d = tmp_path / "ck"
    from checker.search import Limits

    run_distributed(Search.for_config(CFG, limits=Limits(max_depth=3)), workers=2, checkpoint=d)
    assert cli_entry(["check", "--producers", "2", "--records", "2", "--resume", str(d)]) == 2
    err = capsys.readouterr().err.strip()
    assert "different model or configuration" in err and len(err.splitlines()) == 1
    assert cli_entry(["check", *CONFIG, "--workers", "3", "--resume", str(d)]) == 2
    assert "--workers 2" in capsys.readouterr().err
    assert cli_entry(["check", *CONFIG, "--symmetry", "--resume", str(d)]) == 2
    assert "different model" in capsys.readouterr().err


def test_the_digest_covers_the_compiled_core_sources(monkeypatch, tmp_path):
    before = ckpt.run_digest(CFG.to_dict(), 0, ["in_bounds"], False, True)
    core = tmp_path / "compiled"
    core.mkdir()
    real = ckpt.Path(ckpt.__file__).resolve().parent.parent / "compiled"
    for name in ckpt.CORE_SOURCES:
        (core / name).write_bytes((real / name).read_bytes() + (b"# changed\n" if name == "steps.py" else b""))
    assert ckpt.run_digest(CFG.to_dict(), 0, ["in_bounds"], False, True, core=core) != before
    assert ckpt.run_digest(CFG.to_dict(), 0, ["in_bounds"], False, True, core=real) == before


def test_checkpoint_never_overwrites_a_directory_that_is_not_one(tmp_path, capsys):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "notes.txt").write_text("keep me")
    assert cli_entry(["check", *CONFIG, "--workers", "1", "--checkpoint", str(d)]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a ringcheck checkpoint" in err and len(err.splitlines()) == 1
    assert [p.name for p in d.iterdir()] == ["notes.txt"]
    assert cli_entry(["check", *CONFIG, "--resume", str(d)]) == 2
    assert "not a ringcheck checkpoint" in capsys.readouterr().err


def test_an_existing_checkpoint_is_not_started_over_without_asking(tmp_path, capsys):
    d = tmp_path / "ck"
    from checker.search import Limits

    run_distributed(Search.for_config(CFG, limits=Limits(max_depth=2)), workers=1, checkpoint=d)
    assert cli_entry(["check", *CONFIG, "--workers", "1", "--checkpoint", str(d)]) == 2
    assert "--resume" in capsys.readouterr().err


@pytest.mark.slow
def test_killed_at_random_moments_and_resumed_gives_the_uninterrupted_counts(tmp_path, capsys):
    """Kill at arbitrary moments (mid-level and mid-write included), resume, kill again, then finish."""
    import random

    rng = random.Random(19)
    d = tmp_path / "ck"
    args = ["check", *CONFIG, "--sizes", "8,16,24", "--workers", "2"]
    cfg = Config(producers=2, records=1, discard=True, sizes=(8, 16, 24))
    levels = []
    for _ in range(4):
        resume = (d / ckpt.MARKER).exists()
        p = subprocess.Popen([sys.executable, "-c", "from checker.cli import entry_point; entry_point()", *args,
                              *(["--resume", str(d)] if resume else ["--checkpoint", str(d)])],
                             start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not (d / ckpt.MARKER).exists() and p.poll() is None:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        if (d / ckpt.MARKER).exists():
            levels.append(json.loads((d / ckpt.MARKER).read_text())["level"])
        elif d.exists():
            d.rmdir()                                    # killed before its first checkpoint: start again
    assert levels, "no run lived long enough to write a checkpoint"
    assert cli_entry([*args, "--resume", str(d), "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    want = serial(cfg)
    assert (v["stats"]["states"], v["stats"]["transitions"], v["stats"]["terminal"]) == (
        want.stats.states, want.stats.transitions, want.stats.terminal)


def test_a_resume_under_a_tighter_depth_bound_stops_at_once(tmp_path):
    from checker.search import Limits

    d = tmp_path / "ck"
    first = run_distributed(Search.for_config(CFG, limits=Limits(max_depth=8)), workers=2, checkpoint=d)
    again = run_distributed(Search.for_config(CFG, limits=Limits(max_depth=4)), resume=d)
    assert (again.kind, again.bound) == ("bounded", "max_depth=4")
    assert again.stats.states == first.stats.states

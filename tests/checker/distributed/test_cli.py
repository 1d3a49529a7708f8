"""The distributed options of ``ringcheck check``: output, refusals in one line, Ray missing."""

from __future__ import annotations

import json
import sys

import pytest

from checker.cli import cli_entry

SMALL = ["--producers", "2", "--records", "1"]


def test_json_has_the_statistics_per_worker_and_in_total(capsys):
    assert cli_entry(["check", *SMALL, "--workers", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["engine"] == "compiled" and d["distributed"]["transport"] == "processes"
    per, total = d["distributed"]["per_worker"], d["distributed"]["total"]
    assert [w["worker"] for w in per] == [0, 1]
    for key in ("states", "bytes", "messages_sent", "bytes_sent"):
        assert total[key] == sum(w[key] for w in per)
    assert total["states"] == d["stats"]["states"] and d["stats"]["bytes_per_state"] > 0


def test_text_prints_a_line_per_worker_and_the_total(capsys):
    assert cli_entry(["check", *SMALL, "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "workers:  2 (processes)" in out
    assert out.count("  worker ") == 3 and "worker total:" in out


def test_ray_without_ray_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)        # import ray now raises ImportError
    assert cli_entry(["check", *SMALL, "--ray", "auto"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "pip install 'ringcheck[distributed]'" in err


@pytest.mark.parametrize("extra, words", [
    (["--strategy", "dfs"], "breadth-first"),
    (["--liveness"], "safety properties"),
    (["--engine", "python"], "compiled core"),
    (["--coverage"], "--coverage"),
    (["--threads", "2"], "--threads"),
    (["--on-worker-loss", "resume"], "needs --checkpoint"),
    (["--memory", "tso"], "memory='tso'"),
])
def test_what_the_distributed_search_cannot_do_is_refused_in_one_line(extra, words, capsys):
    assert cli_entry(["check", *SMALL, "--workers", "2", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err


def test_worker_memory_bound_ends_as_holds_up_to_bound(capsys):
    assert cli_entry(["check", "--producers", "2", "--records", "2", "--discard", "--workers", "2",
                      "--worker-memory", "150M", "--json"]) == 3
    d = json.loads(capsys.readouterr().out)
    assert d["verdict"] == "bounded" and d["bound"].startswith("max_memory=150MB per worker")

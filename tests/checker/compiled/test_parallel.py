"""The parallel compiled BFS gives the serial one's counts, verdicts and traces."""

from __future__ import annotations

import json
import os

import pytest

from checker.cli import cli_entry
from checker.compiled.engine import run_compiled
from checker.compiled.parallel import BLOCK, BLOCK_CANDIDATES, PIECE, block_states
from checker.search import Limits, Search
from model import Config
from tests.checker.test_manifest import STANDARD


def _summary(v):
    return (v.kind, v.property, v.stats.states, v.stats.transitions, v.stats.depth, v.stats.terminal,
            [s.action for s in v.trace.steps] if v.trace else None)


@pytest.mark.parametrize("name", ["cve-2024-41009/v5.13", "cve-2024-41009/v6.10", "cve-2021-3489/v5.8"])
def test_two_workers_equal_one(name):
    serial = run_compiled(Search.for_config(Config(**STANDARD[name])), "bfs", workers=1)
    parallel = run_compiled(Search.for_config(Config(**STANDARD[name])), "bfs", workers=2)
    assert _summary(parallel) == _summary(serial)


def test_two_workers_with_symmetry_equal_one():
    cfg = Config(consumer="level", producers=3, records=1, discard=True)
    serial = run_compiled(Search.for_config(cfg, symmetry=True), "bfs", workers=1)
    parallel = run_compiled(Search.for_config(cfg, symmetry=True), "bfs", workers=2)
    assert _summary(parallel) == _summary(serial)


def test_three_workers_share_the_shards_unevenly_and_equal_one(monkeypatch):
    # Three workers take the table's 8 shards in groups of 3, 3 and 2 (s % 3); a duplicate found
    # inside a block must be found in whichever group its shard falls in.
    monkeypatch.setattr("checker.compiled.engine.os.cpu_count", lambda: 8)
    cfg = Config(consumer="level", producers=2, records=2, discard=True)
    serial = run_compiled(Search.for_config(cfg), "bfs", workers=1)
    parallel = run_compiled(Search.for_config(cfg), "bfs", workers=3)
    assert _summary(parallel) == _summary(serial)
    assert serial.stats.states > serial.stats.depth * BLOCK   # levels of several blocks on average


@pytest.mark.parametrize("cap", [1, 10, 16, 17, 300, 1025, 1 << 20])
def test_a_block_holds_at_most_its_candidate_rows(cap):
    # The adversarial consumer gives hundreds of successors per state; its blocks are shorter.
    n = block_states(cap)
    assert 1 <= n <= BLOCK
    assert n * cap <= BLOCK_CANDIDATES or n == PIECE // 8
    assert n == BLOCK or (n + 1) * cap > BLOCK_CANDIDATES or n == PIECE // 8


def test_cli_threads(capsys):
    assert cli_entry(["check", "--producers", "2", "--records", "1", "--threads", "2", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"engine": "compiled"' in out and '"distributed"' not in out
    assert json.loads(out)["threads"] == min(2, os.cpu_count() or 1)


def test_cli_threads_auto_uses_the_cpus_it_may_run_on(capsys, monkeypatch):
    monkeypatch.setattr("checker.cli_options.usable_cpus", lambda: 2)
    monkeypatch.setattr("checker.compiled.engine.os.cpu_count", lambda: 2)
    assert cli_entry(["check", "--producers", "2", "--records", "1", "--threads", "auto"]) == 0
    assert "(engine compiled, 2 threads)" in capsys.readouterr().out
    assert cli_entry(["check", "--producers", "2", "--records", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["threads"] == 1


@pytest.mark.parametrize("value, message", [("0", "0 is not in the range 1 to 64"), ("65", "65 is not in the range"),
                                            ("two", "'two' is not a number of threads")])
def test_cli_threads_refuses_other_values_in_one_line(capsys, value, message):
    assert cli_entry(["check", "--threads", value]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.slow
def test_honest_level_s64_two_workers_equal_the_manifest():
    from tests.checker.test_manifest import expected
    v = run_compiled(Search.for_config(Config(**STANDARD["honest/level/S64"])), "bfs", workers=2)
    want = expected()["honest/level/S64"]
    assert (v.kind, v.stats.states, v.stats.transitions, v.stats.depth) == (
        want["verdict"], want["states"], want["transitions"], want["depth"])


def test_a_state_limit_stops_two_workers_where_it_stops_one():
    """Once failed: the block was cut short when the whole block's successors might pass the capacity
    (1,380 states instead of the serial 5,003)."""
    cfg = Config(**STANDARD["honest/level/S32"])
    one = run_compiled(Search.for_config(cfg, limits=Limits(max_states=5000)), "bfs", 1)
    two = run_compiled(Search.for_config(cfg, limits=Limits(max_states=5000)), "bfs", 2)
    assert (two.bound, two.stats.states, two.stats.transitions) == (one.bound, one.stats.states, one.stats.transitions)

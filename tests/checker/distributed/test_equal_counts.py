"""Must show 1 (local part): the serial compiled engine, one worker and two workers give equal
counts, verdicts and shortest traces on the manifest configurations."""

from __future__ import annotations

import pytest

from checker.distributed.driver import run_distributed
from checker.search import Search, Limits
from model import Config
from tests.checker.distributed.conftest import serial, summary
from tests.checker.test_manifest import STANDARD, expected

SMALL = [name for name in STANDARD if name.startswith("cve-")]
HONEST = [name for name in STANDARD if name.startswith("honest/")]


@pytest.mark.parametrize("name", SMALL)
def test_one_and_two_workers_equal_the_serial_engine_and_the_manifest(name):
    cfg = Config(**STANDARD[name])
    want = summary(serial(cfg))
    for workers in (1, 2):
        v = run_distributed(Search.for_config(cfg), workers=workers)
        assert summary(v) == want, f"{workers} workers"
        assert v.engine == "compiled" and v.distributed["workers"] == workers
    m = expected()[name]
    assert (v.kind, v.property, v.stats.states, v.stats.transitions, v.stats.depth) == (
        m["verdict"], m["property"], m["states"], m["transitions"], m["depth"])


def test_three_workers_with_symmetry_equal_the_serial_engine():
    cfg = Config(consumer="level", producers=3, records=1, discard=True)
    assert summary(run_distributed(Search.for_config(cfg, symmetry=True), workers=3)) == \
        summary(serial(cfg, symmetry=True))


def test_a_depth_bound_stops_where_the_serial_engine_does():
    cfg = Config(**STANDARD["cve-2021-3489/v6.10"])
    a = run_distributed(Search.for_config(cfg, limits=Limits(max_depth=6)), workers=2)
    b = serial(cfg, limits=Limits(max_depth=6))
    assert (a.kind, a.bound) == ("bounded", "max_depth=6")
    assert (a.stats.states, a.stats.transitions, a.stats.depth) == (b.stats.states, b.stats.transitions, b.stats.depth)


def test_statistics_per_worker_add_up():
    v = run_distributed(Search.for_config(Config(**STANDARD["cve-2024-41009/v6.10"])), workers=2)
    per = v.distributed["per_worker"]
    assert sum(w["states"] for w in per) == v.stats.states == v.distributed["total"]["states"]
    assert all(w["states"] > 0 and w["messages_sent"] > 0 and w["bytes_sent"] > 0 for w in per)
    assert sum(w["bytes_sent"] for w in per) == sum(w["bytes_received"] for w in per)
    assert v.stats.bytes_per_state == pytest.approx(v.distributed["total"]["bytes"] / v.stats.states)


@pytest.mark.slow
@pytest.mark.parametrize("name", HONEST)
def test_honest_configurations_two_workers_equal_the_manifest(name):
    v = run_distributed(Search.for_config(Config(**STANDARD[name])), workers=2)
    m = expected()[name]
    assert (v.kind, v.stats.states, v.stats.transitions, v.stats.depth) == (
        m["verdict"], m["states"], m["transitions"], m["depth"])

"""Memory: bytes per stored state in the statistics; a memory bound ends in "holds up to bound max_memory=..."."""

from __future__ import annotations

import dataclasses

from checker.compiled.engine import _rss_bytes, run_compiled
from checker.compiled.layout import build_layout
from checker.search import Limits, Search
from model import Config

MB = 1 << 20
HONEST = Config(ring_size=32, producers=2, records=2, discard=True)


@dataclasses.dataclass
class WithMemory(Limits):
    """Limits with ``max_memory`` (MiB), as the limits branch adds it."""

    max_memory: float | None = None


def test_a_memory_bound_stops_the_search_honestly():
    limit_mb = _rss_bytes() / MB + 20
    v = run_compiled(Search.for_config(HONEST, limits=WithMemory(max_memory=limit_mb)), "bfs")
    assert v.kind == "bounded" and v.bound == f"max_memory={limit_mb:.0f}MB"
    assert 0 < v.stats.states < 1148816 and v.stats.transitions > 0
    assert v.headline().startswith("holds up to bound max_memory=")
    words = build_layout(HONEST).nwords           # the packed state, a parent link and an action code,
    assert 8 * words + 8 < v.stats.bytes_per_state < 8 * words + 8 + 24   # and the table's share


def test_bytes_per_state_is_in_the_statistics():
    cfg = Config(variant="v6.10", consumer="adversarial", ring_size=32, records=2, hold=2, sizes=(8, 16))
    v = run_compiled(Search.for_config(cfg), "bfs")
    assert v.stats.bytes_per_state > 8 * build_layout(cfg).nwords + 8
    assert v.stats.to_dict()["bytes_per_state"] == round(v.stats.bytes_per_state, 1)

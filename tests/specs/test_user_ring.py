"""Issue 15, must-show 4 (explicit part): the user ring buffer's properties.

* every kernel safety property holds, complete, against the adversarial
  user producer on small configurations (one drain and two racing);
* libbpf's producer: every property, delivery included, holds complete;
* deleting any one of the drain's per-sample checks (``PEEK_CHECKS``) either
  makes a named property fail with a trace that replays in the mutant model,
  or (``fits_dynptr``, which only rings over 16 MiB need) changes nothing on
  the rings the search takes: its trace comes from z3 at S = 2**25;
* deleting the busy word's cmpxchg lets two drains run at once.
"""

from __future__ import annotations

import pytest

import model.userring.drain as drain_module
from checker.bfs import bfs
from checker.run import check
from checker.search import Search
from checker.trace import Trace
from model import Config
from model.userring import UserRingModel
from model.userring.drain import CHECK_NAMES, without
from specs import all_properties
from specs.user_ring import USER_PROPERTY_ORDER

SAFETY = ("user_sample_bounds", "user_validated_advance", "user_exclusive_drain")

HOSTILE = Config(map="user", ring_size=16, user_producer="adversarial", hostile_writes=2, sizes=(8,))
HOSTILE_RACE = HOSTILE.with_(drains=2)
HONEST = Config(map="user", ring_size=32, records=2, hold=2, sizes=(0, 8), discard=True)
HONEST_RACE = HONEST.with_(drains=2, wakeup_flags=True)


def _run(cfg: Config, checks=None):
    m = UserRingModel(cfg) if checks is None else UserRingModel(cfg, checks=checks)
    return bfs(Search(m, all_properties(cfg)))


def test_the_user_ring_properties_apply_to_map_user_only():
    assert [p.name for p in all_properties(HONEST)] == list(USER_PROPERTY_ORDER)
    assert not set(USER_PROPERTY_ORDER) & {p.name for p in all_properties(Config())}


@pytest.mark.parametrize("cfg", [HOSTILE, HOSTILE_RACE], ids=["one-drain", "two-drains"])
def test_kernel_safety_holds_complete_against_the_adversarial_producer(cfg):
    v = check(cfg, engine="python")
    assert v.kind == "holds" and v.bound is None
    assert set(SAFETY) <= set(v.properties)
    assert v.stats.states > 5000          # the adversary was really explored


@pytest.mark.parametrize("cfg", [HONEST, HONEST_RACE], ids=["one-drain", "two-drains"])
def test_every_property_holds_complete_with_libbpfs_producer(cfg):
    v = check(cfg, engine="python")
    assert v.kind == "holds" and v.bound is None and v.properties == list(USER_PROPERTY_ORDER)


LOSES = {
    "producer_pos_aligned": (HOSTILE, "user_aligned_prod"),
    "data_available": (HOSTILE, "user_sample_bounds"),
    "fits_advertised": (HOSTILE, "user_sample_bounds"),
    "fits_ring": (HOSTILE, "user_sample_bounds"),
    "discard_skipped": (HONEST, "user_discard_skipped"),
    "busy_stops": (HONEST, "user_committed_only"),
}
"""Per-sample check deleted -> (configuration, the property the kernel then loses)."""

BEYOND_EXPLICIT_RINGS = {"fits_dynptr": "user_dynptr_fits"}
"""Checks whose loss only a ring over 1 MiB shows: ``fits_ring`` bounds a sample by S, below a dynptr's
limit (2**24 - 1) on every ring the explicit search takes; z3 finds the trace at S = 2**25 and the
explicit model replays it there (tests/checker/smt/user/test_user_prove.py)."""


def test_every_check_is_accounted_for():
    assert set(LOSES) | set(BEYOND_EXPLICIT_RINGS) == set(CHECK_NAMES)
    assert not set(LOSES) & set(BEYOND_EXPLICIT_RINGS)


@pytest.mark.parametrize("name", sorted(LOSES))
def test_deleting_a_check_loses_a_property_with_a_trace(name):
    cfg, prop = LOSES[name]
    v = _run(cfg, without(name))
    assert v.kind == "violated" and v.property == prop
    mutant = UserRingModel(cfg, checks=without(name))
    s = mutant.initial_states()[0]
    for st in v.trace.steps:                                   # the trace is a path of the mutant model
        s = mutant.apply(s, st.action)
        assert s == st.state
    assert all_properties(cfg)[USER_PROPERTY_ORDER.index(prop)].check(cfg, s, mutant.is_terminal(s))
    with pytest.raises(Exception, match="trace"):              # and not one of the real kernel's
        Trace(cfg, v.trace.initial, v.trace.steps).replay()


def test_without_the_alignment_check_memory_safety_still_holds():
    """What the alignment check adds is the helper's -EINVAL contract, not memory safety: with it deleted,
    every property but ``user_aligned_prod`` still holds, complete (``fits_advertised`` compares a multiple
    of 8 with producer_pos - consumer_pos, so only whole samples below a misaligned producer_pos pass)."""
    props = [p for p in all_properties(HOSTILE) if p.name != "user_aligned_prod"]
    v = bfs(Search(UserRingModel(HOSTILE, checks=without("producer_pos_aligned")), props))
    assert v.kind == "holds" and v.bound is None and set(SAFETY) <= set(v.properties)


@pytest.mark.parametrize("name", sorted(BEYOND_EXPLICIT_RINGS))
def test_a_check_only_large_rings_need_changes_nothing_on_the_rings_the_search_takes(name):
    for cfg in (HOSTILE, HONEST):
        v = _run(cfg, without(name))
        assert v.kind == "holds" and v.bound is None


def test_without_the_busy_word_two_drains_run_at_once(monkeypatch):
    def no_cmpxchg(cfg, s, d, flags=0, mem=None):
        from model.userring.state import D_LOAD_PROD, Drain, set_drain
        return s._replace(drains=set_drain(s, d, Drain(D_LOAD_PROD, flags)))

    monkeypatch.setattr(drain_module, "drain_begin", no_cmpxchg)
    v = _run(HONEST.with_(drains=2))
    assert v.kind == "violated" and v.property == "user_exclusive_drain"


def test_the_drain_stops_for_good_once_producer_pos_wraps_past_2_to_the_64():
    """The drain's data test is a plain unsigned ``cons < prod``: started 16 bytes below 2**64, the first
    sample's producer_pos wraps to 16 while consumer_pos is still near 2**64, and no drain call ever hands
    it over (a curiosity: it takes 2**64 bytes of traffic). Started at 0, the same run holds."""
    cfg = Config(map="user", records=3, sizes=(8,))
    v = check(cfg, start=(1 << 64) - 16, engine="python")
    assert v.kind == "violated" and v.property == "user_exactly_once"
    assert v.trace.final.consumer_pos == (1 << 64) - 16 and v.trace.final.producer_pos == 16
    v.trace.replay()
    assert check(cfg, engine="python").kind == "holds"

"""Overwrite mode's properties: where they apply, that their SMT encodings say what the predicates say,
that they catch a broken overwrite loop, and the verdicts of the two kinds of consumer."""

import random

import pytest
import z3

from checker.run import check
from checker.smt.codec import encode_state
from model.config import Config
from model.constants import record_length, u64
from model.ringbuf import RingBufModel
from specs import OVERWRITE_ORDER, PROPERTY_ORDER, all_properties, get_property
from specs.smt import Ring

SAFETY = ("in_bounds", "no_overlap", "header_integrity", "aligned", "busy_not_overwritten",
          "overwrite_on_boundary", "pending_capacity")


def cfg(**kw) -> Config:
    base = dict(variant="v6.19-overwrite", consumer="overwrite-safe", ring_size=32, producers=1, records=2,
                sizes=(8, 16))
    return Config(**(base | kw))


def reachable(c: Config) -> list:
    m = RingBufModel(c)
    seen = set(m.initial_states())
    todo = list(seen)
    while todo:
        s = todo.pop()
        for _, nxt in m.successors(s):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return [(s, m.is_terminal(s)) for s in seen]


def test_the_properties_say_where_they_apply():
    names = [p.name for p in all_properties(cfg())]
    assert names[-len(OVERWRITE_ORDER):] == list(OVERWRITE_ORDER)
    assert not {"capacity", "exactly_once", "no_lost_wakeup"} & set(names)
    assert [p.name for p in all_properties(Config(variant="v6.10"))] == list(PROPERTY_ORDER)
    assert [p.name for p in all_properties()] == list(PROPERTY_ORDER)


@pytest.mark.parametrize("consumer, records", [("level", 3), ("overwrite-safe", 2), ("adversarial", 2)])
def test_smt_encodings_agree_with_the_predicates_on_reachable_states(consumer, records):
    """40 states that violate one of them and 40 others (seeded); ringcheck crosscheck does every state."""
    c = cfg(consumer=consumer, records=records)
    ring = Ring.of(c)
    props = [p for p in all_properties(c) if p.name in OVERWRITE_ORDER or p.name == "no_overlap"]
    states = reachable(c)
    bad = [(s, t) for s, t in states if any(p.check(c, s, t) is not None for p in props)][:40]
    picked = bad + random.Random(0).sample(states, min(40, len(states)))
    seen_fail = set()
    for s, terminal in picked:
        sym = encode_state(c, s, max(6, len(s.delivered)))
        for p in props:
            py = p.check(c, s, terminal) is None
            smt = z3.is_true(z3.simplify(p.smt(c, ring, sym, z3.BoolVal(terminal))))
            assert py == smt, (p.name, s)
            if not py:
                seen_fail.add(p.name)
    if consumer == "level":
        assert "lossy_exactly_once" in seen_fail      # both outcomes were compared


def test_the_safe_consumer_keeps_every_property():
    v = check(cfg(producers=2, records=1, ring_size=64, discard=True), engine="python")
    assert v.headline() == "holds (complete)", v.headline()
    assert set(SAFETY) | set(OVERWRITE_ORDER) <= set(v.properties)


@pytest.mark.slow
def test_the_safe_consumer_keeps_every_property_with_three_records():
    v = check(cfg(records=3, discard=True), engine="python")
    assert v.headline() == "holds (complete)", v.headline()


def test_libbpf_today_delivers_bytes_that_are_no_record():
    v = check(cfg(consumer="level", records=3), engine="python")
    assert v.property == "committed_only" and v.trace is not None
    assert v.trace.steps[-1].action.step == "consume.deliver"


@pytest.mark.parametrize("consumer, kw", [("level", dict(records=3)),
                                          ("adversarial", dict(ring_size=16, sizes=(0, 8), records=3))])
def test_kernel_safety_holds_whatever_the_consumer(consumer, kw):
    v = check(cfg(consumer=consumer, **kw), list(SAFETY), engine="python")
    assert v.headline() == "holds (complete)", v.headline()


def test_lossy_exactly_once_excuses_only_overwritten_records():
    c = cfg(consumer="level", records=3)
    p = get_property("lossy_exactly_once")
    s0 = RingBufModel(c).initial_states()[0]
    from model.state import Record, SUBMITTED
    rec = Record(SUBMITTED, 0, 8, 0)
    passed = s0._replace(records=(rec,) + s0.records[1:], consumer_pos=u64(record_length(8)), producer_pos=16)
    assert p.check(c, passed) is not None
    assert p.check(c, passed._replace(overwrite_pos=16)) is None

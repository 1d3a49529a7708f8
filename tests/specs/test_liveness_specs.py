"""The liveness properties: registered by name, marked as liveness, their obligations and fairness."""

from __future__ import annotations

import pytest

from model import Config, RingBufModel
from model.actions import Action
from model.operations import Operations
from specs import (LIVENESS_ORDER, PROPERTIES, PROPERTY_ORDER, LivenessOnly, all_properties, get_property,
                   is_liveness, liveness_properties)
from specs.liveness import actors_of, fair_units, has_flushes, unit_matches

HONEST = Config(hold=2)


def test_the_four_are_registered_beside_the_safety_properties():
    assert LIVENESS_ORDER == ["eventually_delivered", "no_starvation", "space_returns", "consumer_progress"]
    for name in LIVENESS_ORDER:
        p = PROPERTIES[name]
        assert is_liveness(p) and p.smt is None and p.catches
        assert "Fairness" in p.doc and "explicit engine" in p.doc
        assert p.pending_smt is not None and p.pending_smt.__name__ == name + "_smt"
        assert get_property(name, liveness=True) is p
    assert not any(is_liveness(p) for p in all_properties())
    assert [p.name for p in liveness_properties()] == LIVENESS_ORDER
    assert not set(LIVENESS_ORDER) & set(PROPERTY_ORDER)


def test_engines_of_state_predicates_are_refused_them():
    for name in LIVENESS_ORDER:
        with pytest.raises(LivenessOnly) as e:
            get_property(name)
        assert "liveness" in str(e.value) and "\n" not in str(e.value)
        with pytest.raises(TypeError):
            PROPERTIES[name].check(HONEST, Operations(HONEST).initial())


def test_fairness_units_per_property():
    cfg = Config(producers=2)
    assert actors_of(cfg) == ["p0", "p1", "c", "irq"]
    assert fair_units(cfg, get_property("eventually_delivered", liveness=True).fair) == ["p0", "p1", "c", "irq"]
    assert fair_units(cfg, get_property("no_starvation", liveness=True).fair) == ["p0", "p1"]
    assert fair_units(cfg, get_property("consumer_progress", liveness=True).fair) == ["p0", "p1", "c"]
    assert fair_units(cfg.with_(consumer="adversarial"), ("producers", "consumer", "irq")) == ["p0", "p1"]


def test_a_flush_step_becomes_a_fair_unit_of_its_own():
    assert not has_flushes(Config()), "no store buffers under sequential consistency"
    units = fair_units(Config(), ("producers", "consumer"), flushes=True)
    assert units == ["p0", "p0.flush", "c", "c.flush"]
    assert unit_matches("c.flush", Action("c", "flush")) and not unit_matches("c.flush", Action("c", "poll.wait"))
    assert unit_matches("c", Action("c", "flush")) and not unit_matches("p0", Action("p1", "write"))


def test_obligations_on_states():
    ops = Operations(HONEST)
    p = {n: get_property(n, liveness=True) for n in LIVENESS_ORDER}
    s = ops.initial()
    assert all(p[n].pending(HONEST, s, False) is None for n in ("eventually_delivered", "no_starvation",
                                                                 "space_returns"))
    assert p["consumer_progress"].pending(HONEST, s, False) == "the consumer is awake"
    s, rec = ops.reserve(s, 0, 8)
    s = ops.commit(s, 0, rec)
    assert p["eventually_delivered"].pending(HONEST, s, None) == "submitted record 0 is not delivered"
    s, got = ops.consume(s)
    assert got == [0] and p["eventually_delivered"].pending(HONEST, s, None) is None
    assert p["space_returns"].pending(HONEST, s, True) and not p["space_returns"].pending(HONEST, s, False)


def test_space_monitor_is_owed_after_a_claim_fails_for_lack_of_space_until_consumer_pos_moves():
    m = RingBufModel(HONEST)
    p = get_property("space_returns", liveness=True)
    ops = Operations(HONEST)
    ops.steps = []
    s = ops.initial()
    s, r0 = ops.reserve(s, 0, 16)
    s = ops.write(s, 0)
    s, r1 = ops.reserve(s, 0, 16)
    assert r0 == 0 and r1 is None
    owed = p.monitor_init(HONEST, ops.initial())
    prev = ops.initial()
    for a, t in ops.steps:
        assert m.apply(prev, a) == t
        owed = p.monitor_step(HONEST, prev, a, t, owed)
        prev = t
    assert owed is True and ops.steps[-1][0].step == "reserve.claim"
    s = ops.commit(s, 0, r0)
    before = s
    s2, _ = ops.consume(s)
    moved = s2.consumer_pos != before.consumer_pos
    assert moved and p.monitor_step(HONEST, before, Action("c", "consume.store_cons"), s2, True) is False


def test_vacuous_where_nothing_is_owed():
    adv = Config(consumer="adversarial")
    for name in ("eventually_delivered", "space_returns", "consumer_progress"):
        assert get_property(name, liveness=True).not_judged(adv)
    assert get_property("no_starvation", liveness=True).not_judged(adv) is None
    assert get_property("eventually_delivered", liveness=True).not_judged(Config(wakeup_flags=True))

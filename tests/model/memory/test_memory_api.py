"""The memory interface as the ring layer uses it: choices, rmw, fences, panels, symmetry helpers."""

import json

import pytest

from model.memory import make
from model.steps import ACQUIRE, PLAIN, RELEASE, XCHG

INIT = {"consumer_pos": 0, "producer_pos": 0, ("slot", 0): 0, "spinlock": 0}
NAMES = ("sc", "tso", "ra", "sra")


def take_lock(old):
    return None if old else 1


@pytest.mark.parametrize("name", NAMES)
def test_load_choices_are_numbered_newest_first(name):
    model = make(name)
    m = model.initial(INIT, 2)
    for v in (8, 16):
        m = model.store(m, 0, "producer_pos", v, RELEASE)[0].mem
    reads = model.load(m, 1, "producer_pos", ACQUIRE)
    assert [r.choice for r in reads] == list(range(len(reads)))
    assert reads[0].value == {"sc": 16, "tso": 0, "ra": 16, "sra": 16}[name]
    assert [r.value for r in reads] == model.readable(m, 1, "producer_pos")
    assert [r.stale for r in reads] == [name == "tso"] + [True] * (len(reads) - 1)
    if name in ("ra", "sra"):
        assert [r.value for r in reads] == [16, 8, 0]
    assert model.load(m, 0, "producer_pos", PLAIN)[0].value == 16


@pytest.mark.parametrize("name", NAMES)
def test_a_spinlock_found_taken_blocks_unless_failure_is_kept(name):
    model = make(name)
    m = model.initial(INIT, 2)
    got = model.rmw(m, 0, "spinlock", take_lock, ACQUIRE)
    assert [r.value for r in got] == [0]
    held = got[0].mem
    assert model.value(held, "spinlock") == 1
    assert model.rmw(held, 1, "spinlock", take_lock, ACQUIRE) == []
    failed = model.rmw(held, 1, "spinlock", take_lock, ACQUIRE, keep_failed=True)
    assert [r.value for r in failed] == [1]
    released = model.store(held, 0, "spinlock", 0, RELEASE)[0].mem
    for step in model.internal_steps(released):
        released = step.mem
    assert [r.value for r in model.rmw(released, 1, "spinlock", take_lock, ACQUIRE)] == [0]


def test_tso_locked_instructions_and_fences_wait_for_an_empty_buffer():
    tso = make("tso")
    m = tso.store(tso.initial(INIT, 2), 0, "consumer_pos", 8, RELEASE)[0].mem
    assert tso.rmw(m, 0, ("slot", 0), lambda old: old ^ 1, XCHG) == []
    assert tso.fence(m, 0) == [] and tso.fence(m, 1) == [m]
    assert not tso.quiescent(m)
    [flush] = tso.internal_steps(m)
    assert (flush.actor, flush.label, flush.loc, flush.value) == (0, "flush", "consumer_pos", 8)
    assert tso.quiescent(flush.mem)
    assert [r.value for r in tso.rmw(flush.mem, 0, ("slot", 0), lambda old: old ^ 1, XCHG)] == [0]


def test_ra_xchg_is_a_full_fence():
    """After an xchg, an acquire load cannot read a value older than what another fenced actor stored."""
    ra = make("ra")
    m = ra.initial(INIT, 2)
    m = ra.store(m, 1, "consumer_pos", 8, RELEASE)[0].mem
    m = ra.fence(m, 1)[0]
    m = ra.rmw(m, 0, ("slot", 0), lambda old: old | 1, XCHG)[0].mem
    assert ra.readable(m, 0, "consumer_pos") == [8]


@pytest.mark.parametrize("name", NAMES)
def test_panels_are_json(name):
    model = make(name)
    m = model.initial(INIT, 2)
    m = model.store(m, 0, ("slot", 0), 5, PLAIN)[0].mem
    json.dumps(model.shared_panel(m))
    for actor in (0, 1):
        json.dumps(model.panel(m, actor))
    if name == "tso":
        assert model.panel(m, 0) == {"buffer": [["('slot', 0)", 5]]}
    if name in ("ra", "sra"):
        assert [msg["value"] for msg in model.shared_panel(m)["messages"]["('slot', 0)"]] == [0, 5]
        assert model.panel(m, 0)["view"]["('slot', 0)"] == 1


@pytest.mark.parametrize("name", NAMES)
def test_permuting_actors_equals_the_other_actor_doing_it(name):
    model = make(name)
    m = model.initial(INIT, 3)
    by0 = model.store(model.load(m, 0, "producer_pos", ACQUIRE)[0].mem, 0, "consumer_pos", 8, RELEASE)[0].mem
    by2 = model.store(model.load(m, 2, "producer_pos", ACQUIRE)[0].mem, 2, "consumer_pos", 8, RELEASE)[0].mem
    assert model.permute_actors(by0, (2, 1, 0)) == by2


@pytest.mark.parametrize("name", NAMES)
def test_mapping_values_equals_storing_the_mapped_values(name):
    model = make(name)
    m = model.initial(INIT, 2)
    plain = model.store(m, 0, ("slot", 0), 3, PLAIN)[0].mem
    mapped = model.store(m, 0, ("slot", 0), 30, PLAIN)[0].mem
    assert model.map_values(plain, lambda v: v * 10) == mapped


@pytest.mark.parametrize("name", NAMES)
def test_misuse_is_refused(name):
    model = make(name)
    m = model.initial(INIT, 2)
    with pytest.raises(ValueError):
        model.load(m, 0, "producer_pos", XCHG)
    with pytest.raises(ValueError):
        model.store(m, 0, "producer_pos", 1, XCHG)
    with pytest.raises(KeyError):
        model.load(m, 0, "no_such_location", PLAIN)


def test_make_refuses_unknown_names_and_empty_bounds():
    for bad in (lambda: make("pso"), lambda: make("tso", buffer=0), lambda: make("ra", history=0)):
        with pytest.raises(ValueError):
            bad()


@pytest.mark.parametrize("name", NAMES)
def test_actor_keys_order_actors_and_tell_private_parts_apart(name):
    model = make(name)
    m = model.initial(INIT, 2)
    assert model.actor_key(m, 0) == model.actor_key(m, 1)
    m = model.store(m, 0, "consumer_pos", 8, RELEASE)[0].mem
    keys = [model.actor_key(m, a) for a in (0, 1)]
    assert sorted(keys) in (keys, keys[::-1])
    assert (keys[0] != keys[1]) == (name != "sc")

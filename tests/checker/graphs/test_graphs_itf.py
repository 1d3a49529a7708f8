"""ITF export: the Apalache/Quint trace format, and decoding it back into the same trace."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.graphs.itf import ITF_VARS, ItfMap, decode_value, encode_value, itf_text, load_itf
from checker.trace import TraceError
from model.config import Config
from tests.checker.graphs.conftest import WALK_CONFIGS, random_walk


def test_cve_41009_decodes_to_the_same_states_and_replays(cve_41009):
    back = load_itf(itf_text(cve_41009))
    assert back.states == cve_41009.states
    assert [s.action for s in back.steps] == [s.action for s in cve_41009.steps]
    assert back.config == cve_41009.config
    assert (back.property, back.reason) == (cve_41009.property, cve_41009.reason)
    back.replay()


def test_itf_shape(cve_41009):
    d = json.loads(itf_text(cve_41009))
    assert d["vars"] == list(ITF_VARS)
    assert [s["#meta"] for s in d["states"]] == [{"index": i} for i in range(len(cve_41009) + 1)]
    for s in d["states"]:
        assert set(s) == set(ITF_VARS) | {"#meta"}
    last = d["states"][-1]
    assert last["producer_pos"] == {"#bigint": "40"}
    assert last["action"] == "p0.reserve.claim"
    assert "#map" in last["mem"] and "#map" in last["records"] and "#set" in last["busy"]
    assert sorted(int(x["#bigint"]) for x in last["busy"]["#set"]) == [0, 1]


def _plain_numbers(v, path="") -> list[str]:
    if isinstance(v, bool) or isinstance(v, str):
        return []
    if isinstance(v, (int, float)):
        return [path]
    if isinstance(v, list):
        return [p for i, x in enumerate(v) for p in _plain_numbers(x, f"{path}[{i}]")]
    if isinstance(v, dict):
        return [p for k, x in v.items() for p in _plain_numbers(x, f"{path}.{k}")]
    return []


def test_every_integer_in_the_states_is_a_bigint(cve_41009):
    d = json.loads(itf_text(cve_41009))
    states = [{k: v for k, v in s.items() if k != "#meta"} for s in d["states"]]
    assert _plain_numbers(states) == []


def test_64_bit_positions_survive():
    from checker.graphs.itf import state_vars, state_from_vars
    from model.config import Config
    from model.ringbuf import RingBufModel
    cfg = Config()
    s = RingBufModel(cfg, start=(1 << 64) - 16).initial_states()[0]
    enc = json.loads(json.dumps(encode_value(state_vars(cfg, s, "init"))))
    assert enc["consumer_pos"] == {"#bigint": str((1 << 64) - 16)}
    assert state_from_vars(decode_value(enc)) == s


itf_values = st.recursive(
    st.integers(-(1 << 70), 1 << 70) | st.booleans() | st.text(max_size=5),
    lambda inner: (st.lists(inner, max_size=4)
                   | st.tuples(inner, inner)
                   | st.frozensets(st.integers(-5, 5) | st.text(max_size=3), max_size=4)
                   | st.dictionaries(st.text("abc", min_size=1, max_size=3), inner, max_size=3)
                   | st.dictionaries(st.integers(-5, 5), inner, max_size=3).map(ItfMap)),
    max_leaves=12)


@given(itf_values)
def test_generic_values_round_trip(v):
    assert decode_value(json.loads(json.dumps(encode_value(v)))) == v


@settings(max_examples=20, deadline=None)
@given(cfg=st.sampled_from(WALK_CONFIGS), choices=st.lists(st.integers(0, 10_000), max_size=30))
def test_any_trace_round_trips_and_replays(cfg, choices):
    t = random_walk(cfg, choices)
    back = load_itf(itf_text(t))
    assert back.states == t.states
    assert [s.action for s in back.steps] == [s.action for s in t.steps]
    back.replay()


@pytest.mark.parametrize("text", ["not json", "{}", '{"#meta": {}, "states": []}',
                                  '{"#meta": {"config": {}}, "vars": [], "states": [{"#meta": {"index": 0}}]}'])
def test_malformed_itf_is_a_one_line_error(text):
    with pytest.raises(TraceError) as e:
        load_itf(text)
    assert "\n" not in str(e.value)


def test_plain_json_numbers_are_refused():
    with pytest.raises(ValueError):
        decode_value({"x": 3})


# ---------------------------------------------------------------- weak memory (issue 13)


def test_weak_itf_has_the_memory_variables_in_every_state(stale_tso, stale_ra):
    from checker.graphs.itf import WEAK_VARS
    for t in (stale_tso, stale_ra):
        d = json.loads(itf_text(t))
        want = list(ITF_VARS) + list(WEAK_VARS[t.config.memory])
        assert d["vars"] == want
        for s in d["states"]:
            assert set(s) == set(want) | {"#meta"}
        states = [{k: v for k, v in s.items() if k != "#meta"} for s in d["states"]]
        assert _plain_numbers(states) == [], "ITF writes every integer as #bigint"
        assert d["#meta"]["config"]["memory"] == t.config.memory


def test_weak_itf_marks_the_stale_read_and_the_flushes(stale_tso):
    d = json.loads(itf_text(stale_tso))
    stale = [i for i, s in enumerate(d["states"]) if s["stale_read"]]
    flushes = [i for i, s in enumerate(d["states"]) if s["flush"]]
    assert flushes == [i for i, st in enumerate(stale_tso.steps, 1) if st.action.step == "flush"]
    reads = [r for r in decode_value(d["states"][stale[0]]["step_reads"]) if r["stale"]]
    assert len(stale) == 1 and reads and reads[0]["value"] != reads[0]["newest"]
    buffers = decode_value(d["states"][stale[0]]["buffers"])
    assert any(buffers[a] for a in buffers), "the newer value is still in a store buffer"
    assert not any(decode_value(d["states"][-1]["buffers"]).values()), "the flushes drained every buffer"


def test_weak_itf_decodes_to_the_same_states_and_replays(stale_tso, stale_ra):
    for t in (stale_tso, stale_ra):
        back = load_itf(itf_text(t))
        assert back.states == t.states and back.config == t.config
        back.replay()


def test_weak_itf_whose_ring_variables_disagree_with_its_actions_is_refused(stale_ra):
    d = json.loads(itf_text(stale_ra))
    d["states"][-1]["producer_pos"] = {"#bigint": "8"}
    with pytest.raises(TraceError, match="not the state the model reaches"):
        load_itf(json.dumps(d))


WEAK_WALKS = [Config(memory="tso", consumer="edge", records=1, sizes=(8,)),
              Config(memory="ra", history=2, consumer="level", records=2, sizes=(8,)),
              Config(memory="tso", buffer=1, producers=2, records=1, sizes=(8,), consumer="adversarial")]


@settings(max_examples=12, deadline=None)
@given(cfg=st.sampled_from(WEAK_WALKS), choices=st.lists(st.integers(0, 10_000), max_size=25))
def test_weak_random_walks_round_trip_and_mark_what_the_model_says(cfg, choices):
    t = random_walk(cfg, choices)
    back = load_itf(itf_text(t))
    assert back.states == t.states
    d = json.loads(itf_text(t))
    m = t.model()
    for i, st in enumerate(t.steps, 1):
        effects = m.effects(t.states[i - 1], st.action) or []
        assert decode_value(d["states"][i]["stale_read"]) == any(e.stale for e in effects)
        assert bool(d["states"][i]["flush"]) == (st.action.step == "flush")

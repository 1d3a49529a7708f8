"""The scenario language: hand-written traces replayed in the model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import suite
from checker.graphs.scenario import (ScenarioError, config_header, parse_header, run_scenario,
                                     scenario_config, trace_scenario)
from model.config import Config
from tests.checker.graphs.conftest import WALK_CONFIGS, random_walk

CVE_SCENARIO = """
config: variant=v5.13 consumer=adversarial ring_size=32 records=2 hold=2 sizes=8,16
p0 reserve 8; p0 write          # a first record, still busy
p0.reserve.check(size=16)       # the second reservation starts...
user consumer_pos = 16          # ...user space moves consumer_pos past the busy record
p0 reserve                      # and the reservation completes over it
"""


def test_the_cve_41009_scenario_is_exactly_the_bfs_trace(cve_41009):
    cfg, start = scenario_config(CVE_SCENARIO, {}, {})
    assert cfg == suite.CVE_2024_41009 and start == 0
    t = run_scenario(CVE_SCENARIO, cfg)
    assert [s.action for s in t.steps] == [s.action for s in cve_41009.steps]
    assert t.states == cve_41009.states


def test_an_impossible_step_is_one_line_naming_the_statement():
    cfg = Config(variant="v6.10", ring_size=32, hold=2)
    with pytest.raises(ScenarioError) as e:
        run_scenario("p0 reserve 16\np0 write\np0 reserve 16\np0 write", cfg)
    msg = str(e.value)
    assert "\n" not in msg
    assert "statement 4 `p0 write`" in msg


def test_a_raw_action_that_is_not_enabled_names_what_is():
    cfg = Config(variant="v5.13", consumer="adversarial", hold=2)
    with pytest.raises(ScenarioError) as e:
        run_scenario("p0 reserve 8; p0.commit.xchg(rec=0,discard=0,flags=0)", cfg)
    assert "statement 2" in str(e.value) and "enabled: p0.write(rec=0)" in str(e.value)


@pytest.mark.parametrize("text, needle", [
    ("p7 reserve 8", "no producer p7"),
    ("p0 reserve many", "not an integer"),
    ("p0 submit", "holds no reservation"),
    ("c consume", "adversarial"),
    ("dance", "not a statement"),
    ("", "no statements"),
])
def test_bad_statements(text, needle):
    with pytest.raises(ScenarioError) as e:
        run_scenario(text, Config(consumer="adversarial"))
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_honest_round_trip_with_consumer_and_commits():
    cfg = Config(variant="v6.10", ring_size=64, hold=2, discard=True)
    t = run_scenario("p0 reserve 16; p0 write; p0 reserve 8; p0 write; p0 discard r1; p0 submit r0;"
                     " c consume; c poll; irq work", cfg)
    assert t.final.delivered == ((0, True),)
    assert t.final.consumer_pos == t.final.producer_pos == 24 + 16
    assert [str(s.action) for s in t.steps[-2:]] == ["c.poll.wait", "irq.work"]


def test_header_and_explicit_options():
    kw, start = parse_header("config: variant=v5.8 sizes=8,40 nmi=1 start=0x20\np0 reserve 8")
    assert kw == {"variant": "v5.8", "sizes": (8, 40), "nmi": True} and start == 32
    cfg, _ = scenario_config("config: variant=v5.8\n", {"ring_size": 64}, {"variant": "v6.10"})
    assert (cfg.variant, cfg.ring_size) == ("v6.10", 64)
    with pytest.raises(ScenarioError):
        parse_header("config: colour=blue")


@settings(max_examples=25, deadline=None)
@given(cfg=st.sampled_from(WALK_CONFIGS), choices=st.lists(st.integers(0, 10_000), max_size=30))
def test_trace_scenario_replays_to_the_same_trace(cfg, choices):
    t = random_walk(cfg, choices)
    text = trace_scenario(t)
    assert text.startswith(config_header(cfg))
    c, start = scenario_config(text, {}, {})
    assert c == cfg
    assert run_scenario(text, c, start).states == t.states if t.steps else True


def test_cve_trace_scenario_uses_the_short_forms(cve_41009):
    text = trace_scenario(cve_41009)
    assert "p0 reserve 8\np0 write\np0.reserve.check(size=16)\nuser consumer_pos = 16\np0 reserve\n" in text


WORDS = ["p0", "p1", "c", "user", "irq", "reserve", "write", "submit", "discard", "step", "consume", "poll",
         "work", "consumer_pos", "=", "8", "16", "-3", "nmi", "r0", "r1", "no_wakeup", "p0.write(rec=0)",
         "p0.reserve.check(size=x)", "c.poll.wait", "(", ")", "#"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5), min_size=1, max_size=8))
def test_any_text_replays_or_fails_with_one_line(statements):
    text = "; ".join(" ".join(s) for s in statements)
    cfg = Config(variant="v5.13", ring_size=32, hold=2, discard=True, wakeup_flags=True, nmi=True)
    try:
        t = run_scenario(text, cfg)
    except ScenarioError as e:
        assert "\n" not in str(e)
    else:
        t.replay()


WEAK_WALK_CONFIGS = [
    Config(memory="tso", consumer="edge", records=1, sizes=(8,)),
    Config(memory="tso", buffer=1, producers=2, records=1, sizes=(8,), fences=("c.poll.wait",)),
    Config(memory="ra", history=2, consumer="level", records=2, sizes=(8,),
           orders=("p0.reserve.claim:producer_pos=plain",)),
]


@settings(max_examples=15, deadline=None)
@given(cfg=st.sampled_from(WEAK_WALK_CONFIGS), choices=st.lists(st.integers(0, 10_000), max_size=25))
def test_weak_trace_scenario_names_the_memory_model_and_replays(cfg, choices):
    t = random_walk(cfg, choices)
    text = trace_scenario(t)
    header = text.split("\n")[0]
    assert f"memory={cfg.memory}" in header
    assert all(o in header for o in cfg.orders) and all(f in header for f in cfg.fences)
    c, start = scenario_config(text, {}, {})
    assert c == cfg
    if t.steps:
        assert run_scenario(text, c, start).states == t.states


def test_a_step_that_waits_for_an_empty_buffer_flushes_it_first():
    cfg = Config(memory="tso", consumer="edge", records=2, sizes=(8,), fences=("c.consume.load_prod",))
    t = run_scenario("p0 reserve 8; p0 write; p0 submit r0; c consume", cfg)
    actions = [str(st.action) for st in t.steps]
    xchg = actions.index("p0.commit.xchg(rec=0,discard=0,flags=0)")
    assert actions[xchg - 1] == "p0.flush", "the commit's xchg waited for p0's buffer to drain"
    store = actions.index("c.consume.store_cons")
    assert actions[store + 1:store + 3] == ["c.flush", "c.consume.load_prod"], "the fence waited for c's"
    m = t.model()
    assert all(m.weak.mm.panel(t.states[i].memory, m.actor_names.index("p0"))["buffer"] == []
               for i in (xchg,)), "the buffer is empty when the xchg runs"
    t.replay()
    assert run_scenario(trace_scenario(t), cfg).states == t.states

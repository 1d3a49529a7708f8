"""The liveness engine: held to an independent networkx oracle, and the must-show cases of issue 18."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import model.producer
from checker.liveness import LassoError, LivenessVerdict, check_liveness, parse_fair, validate_lasso
from checker.run import check
from checker.search import Limits, Search, SearchError
from checker.trace import Trace
from model import Config, RingBufModel
from model.constants import BUSY_BIT
from model.state import read_len
from specs import LIVENESS_ORDER, get_property
from specs.liveness import actors_of, fair_units, unit_matches

WRAP = 0xffffffffffffffe0
SMALL = Config()                                    # v6.10 S=32 P=1 E=2 hold 1 sizes 8,16
HELD = Config(hold=2)                               # a producer may hold a BUSY record while reserving again
TWO = Config(producers=2, records=1, sizes=(8,))    # two producers, the lock contended


# ---------------------------------------------------------------- the oracle


def oracle(cfg: Config, name: str, fair: list[str] | None = None, start: int = 0) -> int | None:
    """Shortest stem to a weakly fair pending component, by networkx, straight from the definition."""
    p = get_property(name, liveness=True)
    if p.not_judged(cfg):
        return None
    units = fair_units(cfg, p.fair) if fair is None else parse_fair(cfg, fair)
    m = RingBufModel(cfg, start)
    s0 = m.initial_states()[0]
    node0 = (s0, p.monitor_init(cfg, s0) if p.monitor_init else None)
    g = nx.MultiDiGraph()
    g.add_node(node0)
    todo, seen = [node0], {node0}
    enabled = {}
    while todo:
        s, mon = node = todo.pop()
        succ = m.successors(s)
        enabled[node] = {u for u in units for a, _ in succ if unit_matches(u, a)}
        for a, t in succ:
            nxt = (t, p.monitor_step(cfg, s, a, t, mon) if p.monitor_step else None)
            g.add_edge(node, nxt, action=a)
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    pending = g.subgraph([n for n in g if p.pending(cfg, n[0], n[1]) is not None])
    dist = nx.single_source_shortest_path_length(g, node0)
    best = None
    for comp in nx.strongly_connected_components(pending):
        inner = [d["action"] for u, v, d in pending.subgraph(comp).edges(data=True)]
        fair_ok = all(any(u not in enabled[n] for n in comp) or any(unit_matches(u, a) for a in inner)
                      for u in units)
        if fair_ok:
            d = min(dist[n] for n in comp)
            best = d if best is None else min(best, d)
    return best


def engine(cfg: Config, name: str, fair: list[str] | None = None, start: int = 0) -> LivenessVerdict:
    return check(cfg, [name], start=start, fair=fair)


def commit_keeps_busy(monkeypatch) -> None:
    """Plant the bug of must-show 3: the commit's xchg leaves BUSY set (the program thinks it submitted)."""
    real = model.producer.commit_xchg

    def broken(cfg, s, p, rec, discard=False, flags=0):
        nxt = real(cfg, s, p, rec, discard, flags)
        idx = (s.records[rec].pos & cfg.mask) >> 3
        slots = list(nxt.slots)
        slots[idx] = s.slots[idx]
        return nxt._replace(slots=tuple(slots))

    monkeypatch.setattr(model.producer, "commit_xchg", broken)


CASES = [(SMALL, 0), (SMALL, WRAP), (SMALL.with_(consumer="edge"), WRAP), (HELD, 0), (TWO, 0),
         (SMALL.with_(consumer="adversarial", adversary_reach=16), 0), (SMALL.with_(variant="v5.8"), WRAP),
         (Config(records=3), WRAP)]


@pytest.mark.parametrize("cfg,start", CASES)
@pytest.mark.parametrize("name", LIVENESS_ORDER)
def test_engine_agrees_with_the_oracle(cfg, start, name):
    v = engine(cfg, name, start=start)
    want = oracle(cfg, name, start=start)
    assert (v.kind == "violated") == (want is not None), v.headline()
    if want is not None:
        assert v.trace.loop == want, "the stem is a shortest one"
    else:
        assert v.kind == "holds"


@settings(max_examples=12, deadline=None)
@given(cfg=st.sampled_from([SMALL, HELD, TWO, SMALL.with_(consumer="edge"), HELD.with_(consumer="edge")]),
       start=st.sampled_from([0, WRAP]), name=st.sampled_from(LIVENESS_ORDER),
       fair=st.lists(st.sampled_from(["p0", "p1", "c", "irq"]), unique=True))
def test_engine_agrees_with_the_oracle_under_any_fairness(cfg, start, name, fair):
    fair = [u for u in fair if u in actors_of(cfg)] or ["none"]
    v = engine(cfg, name, fair, start)
    want = oracle(cfg, name, fair, start)
    assert (v.kind == "violated") == (want is not None)
    if want is not None:
        assert v.trace.loop == want


# ---------------------------------------------------------------- must-show 1 (small; the big ones are slow)


@pytest.mark.parametrize("consumer", ["level", "edge"])
@pytest.mark.parametrize("cfg", [HELD.with_(discard=True), TWO, Config(producers=2, records=2, ring_size=16,
                                                                        sizes=(8,))])
def test_v610_honest_consumers_every_liveness_property_holds(cfg, consumer):
    v = check(cfg.with_(consumer=consumer), list(LIVENESS_ORDER))
    assert v.kind == "holds" and v.headline().startswith("holds (complete)")
    assert set(v.fairness) == set(LIVENESS_ORDER)


STANDARD = {
    "honest/level/S32": dict(consumer="level", ring_size=32, producers=2, records=2, sizes=(8, 16), discard=True),
    "honest/edge/S32": dict(consumer="edge", ring_size=32, producers=2, records=2, sizes=(8, 16), discard=True),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(STANDARD))
def test_standard_configurations_every_liveness_property_holds(name):
    v = check(Config(**STANDARD[name]), list(LIVENESS_ORDER))
    assert v.kind == "holds", v.headline()
    manifest = json.loads((Path(__file__).parent / "manifest.json").read_text())[name]
    assert f": {manifest['states']} distinct model states" in v.notes[0], "the same graph BFS explores"


@pytest.mark.parametrize("cfg", [HELD.with_(discard=True), TWO.with_(consumer="edge")])
def test_the_exploration_is_the_one_bfs_does(cfg):
    live, safe = check(cfg, ["eventually_delivered"]), check(cfg)
    assert (live.stats.states, live.stats.transitions, live.stats.depth, live.stats.terminal) == \
        (safe.stats.states, safe.stats.transitions, safe.stats.depth, safe.stats.terminal)


# ---------------------------------------------------------------- must-show 2: the spin at the 64-bit wrap


def test_level_consumer_spins_at_the_64_bit_wrap():
    v = engine(SMALL, "consumer_progress", start=WRAP)
    assert v.kind == "violated" and v.property == "consumer_progress"
    stem, cycle = v.lasso
    assert [str(s.action) for s in cycle] == ["c.poll.wait", "c.consume.load_cons", "c.consume.load_prod"]
    final = v.trace.final
    assert final.producer_pos < final.consumer_pos, "producer_pos wrapped past 2**64, consumer_pos did not"
    assert all(s.state.consumer_pos == final.consumer_pos and s.state.delivered == final.delivered for s in cycle)
    assert engine(SMALL, "consumer_progress").kind == "holds", "at start 0 it does not spin"
    assert engine(SMALL.with_(consumer="edge"), "consumer_progress", start=WRAP).kind == "holds", \
        "the edge consumer goes to sleep instead (and loses the record: eventually_delivered)"


# ---------------------------------------------------------------- must-show 3: a planted bug


@pytest.mark.parametrize("consumer", ["level", "edge"])
def test_a_commit_that_never_clears_busy_is_caught(monkeypatch, consumer):
    commit_keeps_busy(monkeypatch)
    cfg = SMALL.with_(consumer=consumer)
    v = engine(cfg, "eventually_delivered")
    assert v.kind == "violated" and "submitted record 0 is not delivered" in v.reason
    assert v.trace.loop == oracle(cfg, "eventually_delivered"), "the shortest stem"
    stem, cycle = v.lasso
    header = v.trace.final.slots[0]
    assert read_len(header) & BUSY_BIT, "the header is still BUSY"
    if consumer == "level":
        assert {s.action.actor for s in cycle} == {"c"} and "c.consume.read_header" in {str(s.action) for s in cycle}
    else:
        assert cycle == [] and RingBufModel(cfg).is_terminal(v.trace.final), "asleep for good: a stutter"


def test_at_the_wrap_the_ring_also_stays_full():
    v = engine(Config(records=3), "space_returns", start=WRAP)
    assert v.kind == "violated" and v.lasso[1], "a consumer spinning at the wrap never frees space"


def test_without_the_bug_it_holds():
    assert engine(SMALL, "eventually_delivered").kind == "holds"
    assert engine(SMALL.with_(consumer="edge"), "eventually_delivered").kind == "holds"


# ---------------------------------------------------------------- must-show 4: every fairness assumption is needed


NEEDED = [
    ("eventually_delivered", SMALL, "c"), ("eventually_delivered", SMALL, "irq"),
    ("eventually_delivered", SMALL, "p0"),
    ("no_starvation", TWO, "p0"), ("no_starvation", TWO, "p1"),
    ("space_returns", HELD, "c"), ("space_returns", HELD, "irq"), ("space_returns", HELD, "p0"),
    ("consumer_progress", SMALL, "c"), ("consumer_progress", SMALL, "p0"),
]


@pytest.mark.parametrize("name,cfg,dropped", NEEDED)
def test_each_fairness_assumption_is_needed(name, cfg, dropped):
    p = get_property(name, liveness=True)
    units = fair_units(cfg, p.fair)
    assert engine(cfg, name, units).kind == "holds", "with all of them it holds"
    v = engine(cfg, name, [u for u in units if u != dropped] or ["none"])
    assert v.kind == "violated", f"{name} must fail without {dropped}"
    assert v.fairness[name] == [u for u in units if u != dropped]
    loop_states = v.trace.states[v.trace.loop:]
    assert any(dropped in {a.actor for a in RingBufModel(cfg).actions(s)} for s in loop_states), \
        f"the lasso exploits {dropped}: it is enabled in the cycle and never made to move"


def test_dropping_the_consumers_fairness_breaks_eventually_delivered():
    v = engine(SMALL, "eventually_delivered", ["p0", "irq"])
    assert v.kind == "violated"
    final = v.trace.final
    assert "c" in {a.actor for a in RingBufModel(SMALL).actions(final)}, "the consumer could move but never does"


# ---------------------------------------------------------------- limits, refusals, replay


def test_limits_give_holds_up_to_a_bound_never_complete():
    v = check(SMALL, list(LIVENESS_ORDER), limits=Limits(max_states=50))
    assert v.kind == "bounded" and v.bound == "max_states=50" and v.exit_code == 3
    v = check(SMALL, list(LIVENESS_ORDER), limits=Limits(max_depth=5))
    assert v.kind == "bounded" and v.bound == "max_depth=5"


def test_a_lasso_inside_a_truncated_exploration_is_still_reported():
    full = engine(SMALL, "consumer_progress", start=WRAP)
    v = check(SMALL, ["consumer_progress"], start=WRAP, limits=Limits(max_states=full.stats.states - 1))
    assert v.kind in ("violated", "bounded")
    if v.kind == "violated":
        v.trace.replay()


def test_refusals_are_one_line():
    for kw, word in [(dict(symmetry=True), "symmetry"), (dict(strategy="dfs"), "strategy"),
                     (dict(strategy="random"), "strategy"), (dict(fair=["q7"]), "fair")]:
        with pytest.raises(SearchError) as e:
            check(TWO, ["eventually_delivered"], **kw)
        assert str(e.value).startswith(word) and "\n" not in str(e.value)
    with pytest.raises(SearchError):
        check(SMALL, ["eventually_delivered", "no_overlap"])
    with pytest.raises(SearchError):
        check(SMALL, ["no_overlap"], fair=["c"])


def test_a_lasso_that_does_not_replay_is_an_internal_error():
    v = engine(SMALL, "consumer_progress", start=WRAP)
    m = RingBufModel(SMALL, WRAP)
    p = get_property("consumer_progress", liveness=True)
    units = v.fairness["consumer_progress"]
    validate_lasso(m, v.trace, p, units)
    t = v.trace
    broken = [Trace(t.config, t.initial, t.steps[:-1], t.property, t.reason, t.start, t.loop),     # does not close
              Trace(t.config, t.initial, t.steps[:t.loop], t.property, t.reason, t.start, t.loop)]  # stutters, c enabled
    for bad in broken:
        with pytest.raises(LassoError):
            validate_lasso(m, bad, p, units)
    still = Trace(SMALL, m.initial_states()[0], [], "eventually_delivered", "", WRAP, 0)
    with pytest.raises(LassoError):
        validate_lasso(m, still, get_property("eventually_delivered", liveness=True), [])


def test_the_engine_can_be_driven_directly():
    search = Search(RingBufModel(SMALL, WRAP), [get_property("consumer_progress", liveness=True)])
    v = check_liveness(search, search.properties)
    assert v.kind == "violated" and v.strategy == "scc"
    d = v.to_dict()
    assert d["loop"] == v.trace.loop and d["fairness"] == {"consumer_progress": ["p0", "c"]}
    assert d["trace"][d["loop"]]["state"] == d["trace"][-1]["state"]


def test_a_consumer_that_never_stores_consumer_pos_breaks_space_returns(monkeypatch):
    import model.consumer
    from model.state import C_STORE, evolve

    name, real = model.consumer._STEP_AT[C_STORE]
    monkeypatch.setitem(model.consumer._STEP_AT, C_STORE,
                        (name, lambda cfg, s: evolve(real(cfg, s), consumer_pos=s.consumer_pos)))
    cfg = Config(consumer="edge", records=3)
    v = check(cfg, ["space_returns"], limits=Limits(max_states=100_000))
    assert v.kind == "violated" and "lack of space" in v.reason
    monkeypatch.undo()
    assert check(cfg, ["space_returns"]).kind == "holds"


def test_a_lock_that_is_never_released_breaks_no_starvation(monkeypatch):
    real = model.producer.reserve_claim
    monkeypatch.setattr(model.producer, "reserve_claim", lambda cfg, s, p: real(cfg, s, p)._replace(lock=p))
    v = engine(TWO, "no_starvation")
    assert v.kind == "violated" and "at reserve.lock" in v.reason
    assert v.trace.final.lock >= 0 and v.lasso[1] == [], "the waiter is disabled for good: a fair stutter"

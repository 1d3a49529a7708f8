"""The k-bounded lasso search: its SMT twins agree with the predicates, its lassos with the explicit engine."""

from __future__ import annotations

import pytest
import z3

from checker.liveness_bmc import _took, unit_enabled
from checker.run import check
from checker.search import Limits, SearchError
from checker.smt.codec import encode_state
from checker.smt.transition import STEP_TERMS, SymAction, action_kinds
from model import Config, RingBufModel
from specs import LIVENESS_ORDER, get_property
from specs import smt as Z
from specs.liveness import actors_of
from tests.checker.test_liveness import WRAP, commit_keeps_busy

TINY = Config(ring_size=16, records=1, sizes=(0,))


def truth(term) -> bool:
    return z3.is_true(z3.simplify(term))


def reachable_edges(cfg, start=0, limit=400):
    m = RingBufModel(cfg, start)
    seen, todo, edges = set(), list(m.initial_states()), []
    while todo and len(seen) < limit:
        s = todo.pop(0)
        if s in seen:
            continue
        seen.add(s)
        for a, t in m.successors(s):
            edges.append((s, a, t))
            todo.append(t)
    return m, seen, edges


@pytest.mark.parametrize("cfg,start,limit", [
    (Config(hold=2), 0, 60),
    pytest.param(Config(hold=2), WRAP, 400, marks=pytest.mark.slow),
    pytest.param(Config(producers=2, records=1), 0, 400, marks=pytest.mark.slow),
    pytest.param(Config(consumer="edge", nmi=True, producers=2, records=1), 0, 400, marks=pytest.mark.slow)])
def test_smt_twins_agree_with_the_predicates_on_reachable_states(cfg, start, limit):
    m, states, edges = reachable_edges(cfg, start, limit)
    ring = Z.Ring.of(cfg)
    kinds = action_kinds(cfg)
    for s in states:
        e = encode_state(cfg, s, 4)
        enabled = {a.actor for a in m.actions(s)}
        for actor in actors_of(cfg):
            assert truth(unit_enabled(cfg, e, actor)) == (actor in enabled), (actor, s)
        for name in LIVENESS_ORDER:
            p = get_property(name, liveness=True)
            for owed in (False, True):
                want = p.pending(cfg, s, owed) is not None
                assert truth(p.pending_smt(cfg, ring, e, z3.BoolVal(owed))) == want, (name, owed, s)
    p = get_property("space_returns", liveness=True)
    for s, a, t in edges:
        sym = SymAction.fresh("x")
        idx = [i for i, k in enumerate(kinds) if (k.actor, k.step) == (a.actor, a.step)][0]
        took = lambda actor, step: z3.substitute(_took(kinds, sym, f"{actor}.{step}"), (sym.kind, Z.bv(idx)))
        for owed in (False, True):
            want = p.monitor_step(cfg, s, a, t, owed)
            got = p.monitor_smt(cfg, ring, encode_state(cfg, s, 4), took, encode_state(cfg, t, 4), z3.BoolVal(owed))
            assert truth(got) == want, (a, owed)


def test_a_lasso_is_found_and_replayed():
    explicit = check(TINY, ["eventually_delivered"], fair=["none"])
    assert explicit.kind == "violated"
    n = len(explicit.trace)
    v = check(TINY, ["eventually_delivered"], fair=["none"], strategy="bmc", limits=Limits(max_depth=n))
    assert v.kind == "violated" and v.strategy == "bmc" and len(v.trace) <= n
    v.trace.replay()
    assert v.trace.states[v.trace.loop] == v.trace.final


@pytest.mark.slow
def test_no_shorter_lasso_is_bounded_not_complete():
    v = check(TINY, ["eventually_delivered"], fair=["none"], strategy="bmc", limits=Limits(max_depth=8))
    assert v.kind == "violated"
    short = check(TINY, ["eventually_delivered"], fair=["none"], strategy="bmc", limits=Limits(max_depth=len(v.trace) - 1))
    assert short.kind == "bounded" and short.bound == f"depth={len(v.trace) - 1}", "never complete"


def test_the_lasso_search_needs_a_depth_and_refuses_other_limits():
    for limits in (Limits(), Limits(max_depth=3, max_states=10), Limits(max_depth=3, timeout=5)):
        with pytest.raises(SearchError):
            check(TINY, ["eventually_delivered"], strategy="bmc", limits=limits)


@pytest.mark.slow
@pytest.mark.parametrize("name,fair", [("eventually_delivered", ["p0", "irq"]), ("consumer_progress", ["c"]),
                                       ("eventually_delivered", None), ("no_starvation", None)])
def test_bmc_agrees_with_the_explicit_engine(name, fair):
    explicit = check(TINY, [name], fair=fair)
    depth = len(explicit.trace) if explicit.trace else 8
    v = check(TINY, [name], fair=fair, strategy="bmc", limits=Limits(max_depth=depth))
    assert (v.kind == "violated") == (explicit.kind == "violated")
    if v.trace:
        assert len(v.trace) <= len(explicit.trace)


def smt_commit_keeps_busy(monkeypatch) -> None:
    """The same planted bug in the SMT twin of the step (``STEP_TERMS`` is there for this)."""
    real = STEP_TERMS["commit.xchg"]

    def broken(cfg, ring, s, p, rec, discard, flags):
        nxt = real(cfg, ring, s, p, rec, discard, flags)
        idx = Z.slot_index(ring, Z.pick([r.pos for r in s.records], rec))
        return nxt._replace(slots=nxt.slots.store(idx, s.slots[idx]))

    monkeypatch.setitem(STEP_TERMS, "commit.xchg", broken)


@pytest.mark.slow
def test_bmc_finds_the_planted_busy_bug(monkeypatch):
    commit_keeps_busy(monkeypatch)
    smt_commit_keeps_busy(monkeypatch)
    explicit = check(TINY, ["eventually_delivered"])
    v = check(TINY, ["eventually_delivered"], strategy="bmc", limits=Limits(max_depth=len(explicit.trace)))
    assert v.kind == "violated" and len(v.trace) <= len(explicit.trace)

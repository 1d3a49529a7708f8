"""Properties of the memory models over generated programs: canonical form, agreement, inclusion.

* canonical: two independent operations (different actors, different
  locations) lead to the same set of memories in either order, and equal
  memories hash alike and survive pickling;
* one thread alone cannot tell the models apart;
* every SC outcome is a TSO and an SRA outcome, every SRA outcome an RA
  outcome, every TSO outcome an RA outcome (the weaker model allows more).
"""

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from model.memory import make
from model.memory.litmus import Fence, Load, Program, Store, Xchg, explore
from model.steps import ACQUIRE, PLAIN, RELEASE, XCHG

LOCS = ("x", "y")
MODEL_NAMES = ("sc", "tso", "ra", "sra")
FAST = settings(max_examples=60, deadline=None)


def instruction():
    loc = st.sampled_from(LOCS)
    value = st.integers(1, 2)
    return st.one_of(
        st.builds(Load, st.just("?"), loc, st.sampled_from((PLAIN, ACQUIRE))),
        st.builds(Store, loc, value, st.sampled_from((PLAIN, RELEASE))),
        st.builds(Xchg, st.just("?"), loc, value, st.sampled_from((XCHG, ACQUIRE, RELEASE, PLAIN))),
        st.just(Fence()),
    )


def program(threads: int, length: int):
    """A random litmus program; every load/xchg gets its own register."""
    def name(thread_lists):
        counter = iter(range(100))
        named = tuple(tuple(ins._replace(reg=f"r{next(counter)}") if isinstance(ins, (Load, Xchg))
                            else ins for ins in thread) for thread in thread_lists)
        return Program("generated", {"x": 0, "y": 0}, named)
    return st.lists(st.lists(instruction(), min_size=1, max_size=length),
                    min_size=threads, max_size=threads).map(name)


# ------------------------------------------------------------ canonical form


def _apply(model, m, op):
    """Every memory after one operation ``op = (kind, actor, loc, value, order)``."""
    kind, actor, loc, value, order = op
    if kind == "load":
        return [r.mem for r in model.load(m, actor, loc, order)]
    if kind == "store":
        return [w.mem for w in model.store(m, actor, loc, value, order)]
    if kind == "rmw":
        return [r.mem for r in model.rmw(m, actor, loc, lambda _old: value, order)]
    if kind == "fence":
        return model.fence(m, actor)
    return [s.mem for s in model.internal_steps(m) if s.actor == actor]


def operation(actors=3):
    return st.tuples(st.sampled_from(("load", "store", "rmw", "fence", "flush")),
                     st.integers(0, actors - 1), st.sampled_from(LOCS), st.integers(1, 3),
                     st.sampled_from((PLAIN, ACQUIRE, RELEASE)))


def _reach(model, ops):
    mems = {model.initial({"x": 0, "y": 0}, 3)}
    for op in ops:
        nxt = {n for m in mems for n in _apply(model, m, op)}
        mems = nxt or mems
    return mems


@FAST
@given(st.sampled_from(MODEL_NAMES), st.lists(operation(), max_size=6), operation(), operation())
def test_independent_operations_commute_to_equal_memories(name, prefix, a, b):
    model = make(name, buffer=2, history=3)
    a_kind, a_actor, a_loc = a[:3]
    b_kind, b_actor, b_loc = b[:3]
    if a_actor == b_actor or a_loc == b_loc or "fence" in (a_kind, b_kind) or "flush" in (a_kind, b_kind):
        return
    for m in _reach(model, prefix):
        ab = {n2 for n1 in _apply(model, m, a) for n2 in _apply(model, n1, b)}
        ba = {n2 for n1 in _apply(model, m, b) for n2 in _apply(model, n1, a)}
        assert ab == ba


@FAST
@given(st.sampled_from(MODEL_NAMES), st.lists(operation(), max_size=8))
def test_equal_memories_hash_alike_and_pickle(name, ops):
    model = make(name)
    for m in _reach(model, ops):
        back = pickle.loads(pickle.dumps(m))
        assert back == m and hash(back) == hash(m)


def test_ra_forgets_a_value_nobody_can_read():
    """x=1 then x=2, read by all, is the same memory as x=2 alone, read by all."""
    ra = make("ra")

    def path(values):
        m = ra.initial({"x": 0, "y": 0}, 2)
        for v in values:
            m = ra.store(m, 0, "x", v, PLAIN)[0].mem
        return ra.load(m, 1, "x", PLAIN)[0].mem

    assert path([1, 2]) == path([2])
    assert len(path([1, 2]).history[0]) == 1


def test_tso_flushing_early_or_late_gives_the_same_memory():
    tso = make("tso")
    m0 = tso.initial({"x": 0, "y": 0}, 2)
    late = tso.store(tso.store(m0, 0, "x", 1, PLAIN)[0].mem, 0, "x", 2, PLAIN)[0].mem
    late = tso.internal_steps(tso.internal_steps(late)[0].mem)[0].mem
    early = tso.internal_steps(tso.store(m0, 0, "x", 1, PLAIN)[0].mem)[0].mem
    early = tso.internal_steps(tso.store(early, 0, "x", 2, PLAIN)[0].mem)[0].mem
    assert early == late and tso.quiescent(late)


# ------------------------------------------------------------ agreement and inclusion


@FAST
@given(program(threads=1, length=6))
def test_one_thread_alone_cannot_tell_the_models_apart(prog):
    results = [explore(prog, make(name, buffer=1, history=1)) for name in MODEL_NAMES]
    assert all(len(r.outcomes) == 1 for r in results)
    assert len({r.outcomes for r in results}) == 1


@FAST
@given(program(threads=2, length=3))
def test_weaker_models_allow_at_least_the_outcomes_of_stronger_ones(prog):
    found = {name: explore(prog, make(name, buffer=4, history=6)) for name in MODEL_NAMES}
    assert not any(r.bounded for r in found.values())
    assert found["sc"].outcomes <= found["tso"].outcomes
    assert found["sc"].outcomes <= found["sra"].outcomes <= found["ra"].outcomes
    assert found["tso"].outcomes <= found["ra"].outcomes


@FAST
@given(st.sampled_from(("ra", "sra")), st.integers(1, 3), st.lists(operation(), max_size=10))
def test_ra_memories_are_in_canonical_form(name, history, ops):
    """Some actor is at each location's oldest message, views point at kept messages, rel <= cur <= acq."""
    model = make(name, history=history)
    for m in _reach(model, ops):
        for x, msgs in enumerate(m.history):
            assert 1 <= len(msgs) <= history and not msgs[0].glued
            assert min(a.cur[x] for a in m.actors) == 0
            views = [v for a in m.actors for v in a] + [m.sc] + [msg.view for ms in m.history for msg in ms]
            assert all(v[x] < len(msgs) for v in views)
        for a in m.actors:
            assert all(r <= c <= q for r, c, q in zip(a.rel, a.cur, a.acq))


@FAST
@given(st.integers(1, 3), st.lists(operation(), max_size=10))
def test_tso_buffers_never_exceed_the_bound(buffer, ops):
    model = make("tso", buffer=buffer)
    for m in _reach(model, ops):
        assert all(len(b) <= buffer for b in m.buffers)

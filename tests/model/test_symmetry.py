"""The producer-symmetry reduction: same verdicts, fewer states, real traces."""

import pytest
from hypothesis import given, settings, strategies as st

from checker.run import check
from checker.search import SearchError
from model import Config, RingBufModel
from model.symmetry import canonicalize, rename

CONFIGS = [
    Config(variant="v6.10", consumer="level", ring_size=32, producers=2, records=1, sizes=(8, 16), discard=True),
    Config(variant="v5.13", consumer="adversarial", ring_size=32, producers=2, records=1, sizes=(8, 16)),
    Config(variant="v5.8", consumer="adversarial", ring_size=32, producers=2, records=1, sizes=(8, 40)),
    Config(variant="v6.10", consumer="edge", ring_size=32, producers=3, records=1, sizes=(8,), nmi=True),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.describe())
def test_same_verdict_fewer_states_real_trace(cfg):
    full, reduced = check(cfg), check(cfg, symmetry=True)
    assert (full.kind, full.property) == (reduced.kind, reduced.property)
    assert reduced.stats.states < full.stats.states
    if reduced.trace is not None:
        reduced.trace.replay()                    # a real path of the unreduced model
        assert len(reduced.trace) == len(full.trace)   # still shortest


def test_symmetry_needs_bfs():
    with pytest.raises(SearchError, match="bfs"):
        check(CONFIGS[0], strategy="dfs", symmetry=True)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), steps=st.integers(0, 30), perm=st.permutations([0, 1, 2]))
def test_canonical_form_is_the_same_for_every_renaming(seed, steps, perm):
    import random
    cfg = Config(variant="v6.10", consumer="level", ring_size=64, producers=3, records=1, sizes=(8, 16), discard=True)
    m = RingBufModel(cfg)
    rng = random.Random(seed)
    s = m.initial_states()[0]
    for _ in range(steps):
        s = rng.choice(m.successors(s))[1]
    renamed = rename(cfg, s, tuple(perm))
    assert canonicalize(cfg, renamed)[0] == canonicalize(cfg, s)[0]
    from specs import all_properties
    for p in all_properties():
        assert (p.check(cfg, s, False) is None) == (p.check(cfg, renamed, False) is None)


WEAK_CONFIGS = [
    Config(variant="v6.10", consumer="level", ring_size=32, producers=2, records=1, sizes=(8, 16), memory="tso"),
    Config(variant="v6.10", consumer="level", ring_size=32, producers=2, records=1, sizes=(8, 16), memory="ra"),
]


@pytest.mark.parametrize("cfg", WEAK_CONFIGS, ids=lambda c: c.describe())
def test_weak_memory_same_verdict_fewer_canonical_states(cfg):
    full, reduced = check(cfg), check(cfg, symmetry=True)
    assert (full.kind, full.property) == (reduced.kind, reduced.property)
    assert reduced.stats.states < full.stats.states
    if reduced.trace is not None:
        reduced.trace.replay()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), steps=st.integers(0, 30), memory=st.sampled_from(["tso", "ra"]))
def test_weak_canonical_form_is_the_same_for_both_renamings(seed, steps, memory):
    import random
    cfg = Config(variant="v6.10", consumer="level", ring_size=32, producers=2, records=1, sizes=(8, 16),
                 memory=memory)
    m = RingBufModel(cfg)
    rng = random.Random(seed)
    s = m.initial_states()[0]
    for _ in range(steps):
        succ = m.successors(s)
        if not succ:
            break
        s = rng.choice(succ)[1]
    canonical = canonicalize(cfg, s)[0]
    assert canonicalize(cfg, canonical)[0] == canonical
    assert canonicalize(cfg, rename(cfg, s, (1, 0)))[0] == canonical


def test_weak_memory_lost_wakeup_under_symmetry_replays():
    cfg = Config(variant="v6.10", consumer="edge", ring_size=64, producers=2, records=1, sizes=(8, 16),
                 memory="tso")
    full = check(cfg, ["no_lost_wakeup"])
    reduced = check(cfg, ["no_lost_wakeup"], symmetry=True)
    assert (full.kind, full.property) == (reduced.kind, reduced.property) == ("violated", "no_lost_wakeup")
    assert reduced.stats.states < full.stats.states
    reduced.trace.replay()
    assert len(reduced.trace) == len(full.trace)


@pytest.mark.parametrize("memory", ["tso", "ra"])
def test_weak_reduced_space_holds_only_representatives(memory):
    cfg = Config(variant="v6.10", consumer="level", ring_size=32, producers=2, records=1, sizes=(8,),
                 memory=memory)
    m = RingBufModel(cfg)
    seen = {canonicalize(cfg, s)[0] for s in m.initial_states()}
    frontier = list(seen)
    while frontier:
        s = frontier.pop()
        assert canonicalize(cfg, s)[0] == s
        for _, t in m.successors(s):
            t = canonicalize(cfg, t)[0]
            if t not in seen:
                seen.add(t)
                frontier.append(t)
    assert len(seen) > 100

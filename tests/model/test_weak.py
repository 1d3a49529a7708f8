"""The ring buffer under weak memory (issue 13): the lost wakeup, fences, ordering overrides.

The configuration is v6.10 with one producer on a 64-byte ring (two records
in flight, so a record can be committed at a position the consumer has not
reached yet) and the kernel's and libbpf's orderings as model/steps.py
records them. "holds (complete)" needs bounds the runs never hit: --buffer 8
(a producer's claim and payload make at most six stores before its xchg) and
--history 6.
"""

from __future__ import annotations

import pytest

from checker.run import check
from checker.search import Limits
from model import Config
from model.state import C_SLEEP

LOST = Config(variant="v6.10", consumer="edge", ring_size=64, producers=1, records=2, sizes=(8, 16))
BIG_BOUNDS = dict(buffer=8, history=6)
FENCE_AFTER_STORE = ("c.consume.load_prod", "c.consume.read_header")
"""A full fence between the consumer's consumer_pos store and its next load (the aya fix):
after ``consume.store_cons`` the consumer's next step is one of these two."""


def _lost_wakeup(memory: str):
    v = check(LOST.with_(memory=memory), ["no_lost_wakeup"])
    assert v.kind == "violated" and v.property == "no_lost_wakeup", v.headline()
    v.trace.replay()
    return v


def _last(trace, name):
    return max(i for i, st in enumerate(trace.steps) if st.action.name == name)


@pytest.mark.parametrize("memory", ["tso", "ra"])
def test_lost_wakeup_is_found_and_its_bfs_trace_is_the_shortest(memory):
    v = _lost_wakeup(memory)
    shorter = check(LOST.with_(memory=memory), ["no_lost_wakeup"], limits=Limits(max_depth=len(v.trace) - 1))
    assert shorter.kind == "bounded"


def test_lost_wakeup_shape_under_tso():
    """The consumer's consumer_pos store is still in its buffer when the producer's commit.wakeup
    reads the old consumer_pos and queues no wakeup; the consumer sleeps for good."""
    v = _lost_wakeup("tso")
    t, m = v.trace, v.trace.model()
    states = t.states
    w = _last(t, "p0.commit.wakeup")
    before, after = states[w], states[w + 1]
    mm, consumer = m.weak.mm, m.config.producers
    buffered = mm.panel(before.memory, consumer)["buffer"]
    assert any(loc == "consumer_pos" for loc, _ in buffered)
    own = mm.readable(before.memory, consumer, "consumer_pos")[0]
    (read,) = [e for e in m.effects(before, t.steps[w].action) if e.loc == "consumer_pos"]
    assert read.value == mm.value(before.memory, "consumer_pos") != own
    committed = t.final.records[before.producers[0].cur]
    assert read.value != committed.pos and not after.irq_pending
    assert t.final.consumer.pc == C_SLEEP and t.final.producer_pos != t.final.consumer_pos
    assert any(st.action.name == "c.flush" for st in t.steps[w:])


def test_lost_wakeup_shape_under_ra():
    """Store buffering without buffers: the producer's wakeup decision reads a consumer_pos that is
    not its record's, the consumer's producer_pos load after its own consumer_pos store reads a
    stale message, and it sleeps for good with the record unconsumed."""
    v = _lost_wakeup("ra")
    t, m = v.trace, v.trace.model()
    states = t.states
    w = _last(t, "p0.commit.wakeup")
    (read,) = [e for e in m.effects(states[w], t.steps[w].action) if e.loc == "consumer_pos"]
    assert read.value != t.final.records[states[w].producers[0].cur].pos
    store = _last(t, "c.consume.store_cons")
    stale = [e for i in range(store + 1, len(t.steps)) if t.steps[i].action.actor == "c"
             for e in (m.effects(states[i], t.steps[i].action) or [])
             if e.loc == "producer_pos" and e.stale]
    assert stale
    assert t.final.consumer.pc == C_SLEEP and t.final.producer_pos != t.final.consumer_pos


@pytest.mark.parametrize("memory", ["tso", "ra"])
def test_a_fence_after_the_consumers_store_closes_the_lost_wakeup(memory):
    v = check(LOST.with_(memory=memory, fences=FENCE_AFTER_STORE, **BIG_BOUNDS))
    assert v.kind == "holds", v.headline()


@pytest.mark.parametrize("memory", ["tso", "ra"])
def test_level_consumer_without_a_fence_before_its_sleep_check_loses_the_wakeup_too(memory):
    """FINDING (issue 13 expected the level consumer to hold): epoll's re-check reads producer_pos
    with nothing ordering it after the consumer's own consumer_pos store, so it can read the old
    value while the producer's wakeup decision reads the old consumer_pos: store buffering again."""
    v = check(LOST.with_(consumer="level", memory=memory), ["no_lost_wakeup"])
    assert v.kind == "violated" and v.property == "no_lost_wakeup"
    t, m = v.trace, v.trace.model()
    last_poll = _last(t, "c.poll.wait")
    reads = m.effects(t.states[last_poll], t.steps[last_poll].action)
    assert any(e.loc == "producer_pos" and e.stale for e in reads)


@pytest.mark.parametrize("memory", ["tso", "ra"])
def test_level_consumer_with_a_fence_before_its_sleep_check_holds(memory):
    v = check(LOST.with_(consumer="level", memory=memory, fences=("c.poll.wait",), **BIG_BOUNDS))
    assert v.kind == "holds", v.headline()


def test_default_bounds_are_reported_not_called_complete():
    v = check(LOST.with_(memory="tso", fences=FENCE_AFTER_STORE))
    assert v.kind == "bounded" and v.bound == "buffer=2"
    assert v.headline() == "holds up to bound buffer=2"
    v = check(LOST.with_(memory="ra", fences=FENCE_AFTER_STORE))
    assert v.kind == "bounded" and v.bound == "history=3"


def test_plain_producer_pos_publication_lets_the_consumer_read_a_header_not_there_yet():
    """--order p0.reserve.claim:producer_pos=plain under ra: the consumer sees the new producer_pos
    without the header written before it and delivers bytes that are no record; with the kernel's
    store-release everything holds (the fence keeps the level consumer's wakeup, see above)."""
    base = LOST.with_(consumer="level", memory="ra", fences=("c.poll.wait",), **BIG_BOUNDS)
    bad = check(base.with_(orders=("p0.reserve.claim:producer_pos=plain",)))
    assert bad.kind == "violated" and bad.property == "committed_only"
    assert "not a record header" in bad.reason
    t, m = bad.trace, bad.trace.model()
    h = _last(t, "c.consume.read_header")
    (hdr,) = m.effects(t.states[h], t.steps[h].action)
    assert hdr.stale and hdr.value == 0
    assert "order=p0.reserve.claim:producer_pos=plain" in bad.config.describe()
    assert check(base).kind == "holds"


def test_overrides_under_sc_change_nothing():
    cfg = Config(variant="v6.10", consumer="edge", ring_size=32, records=2, sizes=(8,))
    plain = check(cfg)
    over = check(cfg.with_(orders=("reserve.claim:producer_pos=plain",), fences=("c.poll.wait",)))
    assert (plain.kind, plain.stats.states, plain.stats.transitions) == \
           (over.kind, over.stats.states, over.stats.transitions)


@pytest.mark.parametrize("strategy", ["dfs", "random"])
def test_other_engines_find_the_lost_wakeup_and_their_traces_replay(strategy):
    v = check(LOST.with_(memory="tso"), ["no_lost_wakeup"], strategy=strategy,
              limits=Limits(timeout=60) if strategy == "random" else None)
    assert v.kind == "violated" and v.property == "no_lost_wakeup"
    v.trace.replay()


def test_terminal_states_have_empty_store_buffers():
    from model import RingBufModel

    m = RingBufModel(LOST.with_(memory="tso", fences=FENCE_AFTER_STORE, **BIG_BOUNDS))
    seen, todo, terminal = set(), list(m.initial_states()), 0
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        if m.is_terminal(s):
            terminal += 1
            assert m.weak.mm.quiescent(s.memory) and not m.successors(s)
        todo.extend(t for _, t in m.successors(s))
    assert terminal > 0


def test_api_level_operations_refuse_weak_memory():
    from model.operations import OperationError, Operations

    with pytest.raises(OperationError, match="sequentially consistent"):
        Operations(LOST.with_(memory="tso"))


def test_a_busy_header_still_in_its_owners_buffer_is_not_overwritten():
    """Properties read the newest value: right after the claim the header is only in p0's buffer."""
    from checker.trace import Trace
    from model import parse_action
    from model.state import header_word
    from specs import get_property

    cfg = LOST.with_(memory="tso", buffer=8)
    steps = ["p0.reserve.check(size=8)", "p0.reserve.load_cons", "p0.reserve.lock", "p0.reserve.claim"]
    t = Trace.from_actions(cfg, [parse_action(a) for a in steps])
    s, mm = t.final, t.model().weak.mm
    assert mm.value(s.memory, ("slot", 0)) == 0                       # memory has no header yet
    assert s.slots[0] == header_word(0, 8 | (1 << 31))                # the projection has p0's
    assert s.producer_pos == 16 and mm.value(s.memory, "producer_pos") == 0
    for name in ("header_integrity", "capacity", "no_overlap"):
        assert get_property(name).check(cfg, s) is None

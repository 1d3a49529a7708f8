"""Each property's SMT encoding says what its Python predicate says, on holding and violating states."""

import itertools

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.smt.codec import encode_state
from checker.trace import Trace
from model import Config, RingBufModel
from model.state import DISCARDED, Record
from specs import all_properties
from specs.smt import Ring


def smt_holds(prop, cfg, state, terminal):
    return z3.is_true(z3.simplify(prop.smt(cfg, Ring.of(cfg), encode_state(cfg, state, 6), terminal)))


def reachable(cfg, limit):
    m = RingBufModel(cfg)
    seen, todo = [], list(m.initial_states())
    while todo and len(seen) < limit:
        s = todo.pop(0)
        if s in seen:
            continue
        seen.append(s)
        todo.extend(n for _, n in m.successors(s))
    return m, seen


def test_every_property_has_an_smt_encoding():
    assert all(p.smt is not None and p.smt.__name__ == p.name + "_smt" for p in all_properties())


@pytest.mark.parametrize("cfg", [
    Config(variant="v5.8", consumer="adversarial", ring_size=32, sizes=(8, 40)),
    Config(variant="v5.13", consumer="adversarial", ring_size=32, hold=2, sizes=(8, 16)),
    Config(variant="v6.10", consumer="level", ring_size=32, hold=2, sizes=(8, 16), discard=True),
])
def test_predicate_and_encoding_agree_on_reachable_states(cfg):
    m, states = reachable(cfg, 120)
    for s, p in itertools.product(states, all_properties()):
        t = m.is_terminal(s)
        assert (p.check(cfg, s, t) is None) == smt_holds(p, cfg, s, t), (p.name, s)


def test_violating_states_are_violations_on_both_sides():
    cfg = Config(variant="v6.10", consumer="level", ring_size=32, hold=2, sizes=(8, 16), discard=True)
    _, states = reachable(cfg, 60)
    s = states[-1]
    planted = [
        s._replace(delivered=((0, True), (0, True))),              # exactly_once
        s._replace(delivered=((-1, False),)),                       # committed_only
        s._replace(records=(Record(DISCARDED, 0, 8, 0),) + s.records[1:], delivered=((0, True),)),
        s._replace(consumer_pos=4),                                 # aligned
        s._replace(producer_pos=s.consumer_pos + 64),              # capacity
    ]
    for st in planted:
        verdicts = [(p.check(cfg, st, False) is None, smt_holds(p, cfg, st, False)) for p in all_properties()]
        assert all(a == b for a, b in verdicts)
        assert not all(a for a, _ in verdicts)


def test_cve_trace_final_state_violates_no_overlap_on_both_sides():
    cfg = Config(variant="v5.13", consumer="adversarial", ring_size=32, hold=2, sizes=(16,))
    from model.actions import parse_action
    acts = ["p0.reserve.check(size=16)", "p0.reserve.load_cons", "p0.reserve.lock", "p0.reserve.claim",
            "p0.write(rec=0)", "user.store_cons(value=24)", "p0.reserve.check(size=16)",
            "p0.reserve.load_cons", "p0.reserve.lock", "p0.reserve.claim"]
    t = Trace.from_actions(cfg, [parse_action(a) for a in acts])
    from specs import get_property
    p = get_property("no_overlap")
    assert p.check(cfg, t.final, False) is not None
    assert not smt_holds(p, cfg, t.final, False)


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.integers(0, 3), min_size=8, max_size=8),
       writes=st.lists(st.tuples(st.sampled_from(["store", "fill", "ite"]), st.integers(0, 7), st.integers(0, 9),
                                 st.integers(0, 5)), max_size=6))
def test_the_written_indices_cover_every_nonzero_word(words, writes):
    """``Slots.written`` (the sparse decoder's index set) misses no index that reads nonzero."""
    from checker.smt.codec import Evaluator
    from specs.smt import Slots, bv

    slots = Slots.constant(words)
    for op, i, w, n in writes:
        if op == "store":
            slots = slots.store(bv(i), bv(w))
        elif op == "fill":
            slots = slots.fill(bv(i), bv(n), bv(8), bv(w))
        else:
            slots = slots.ite(z3.BoolVal(w % 2 == 0), Slots.constant([w] * 8).store(bv(i), bv(0)))
    ev = Evaluator()
    written = slots.written(ev.u)
    assert written is not None
    assert all(ev.u(slots[bv(j)]) == 0 for j in range(8) if j not in written)
    assert Slots.array("a").store(bv(0), bv(1)).written(ev.u) is None

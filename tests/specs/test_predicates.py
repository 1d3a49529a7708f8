"""Each property predicate holds on good states and fails on a hand-built bad one."""

import pytest

from model import Config
from model.constants import BUSY_BIT
from model.operations import Operations
from model.state import C_SLEEP, DISCARDED, SUBMITTED, Record, header_word, payload_word
from specs import PROPERTY_ORDER, all_properties, get_property, UnknownProperty
from specs.memory_safety import ranges_overlap

ADV = Config(variant="v5.13", ring_size=32, records=2, hold=2, sizes=(8, 16), consumer="adversarial")
HONEST = Config(variant="v6.10", ring_size=64, records=3, hold=2, sizes=(8,), consumer="level",
                discard=True)


def check(name, cfg, s, terminal=False):
    return get_property(name).check(cfg, s, terminal)


def test_every_protocol_property_is_registered_with_docs():
    props = all_properties()
    assert [p.name for p in props] == list(PROPERTY_ORDER)
    for p in props:
        assert p.doc and p.catches
    assert {p.name for p in props if p.terminal} == {"discard_skipped", "exactly_once", "no_lost_wakeup"}


def test_unknown_property_is_a_one_line_error():
    with pytest.raises(UnknownProperty) as e:
        get_property("no_overlaps")
    assert "no_overlap" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("cfg", [ADV, HONEST])
def test_initial_state_satisfies_everything(cfg):
    s = Operations(cfg).initial()
    for p in all_properties():
        assert p.check(cfg, s, False) is None


def test_in_bounds_fails_for_record_longer_than_ring():
    cfg = ADV.with_(variant="v5.8", sizes=(40,))
    o = Operations(cfg)
    s = o.set_consumer_pos(o.initial(), 24)
    s, rec = o.reserve(s, 0, 40)
    assert "48 bytes" in check("in_bounds", cfg, s)


def test_no_overlap_and_header_integrity_fail_in_cve_2024_41009():
    o = Operations(ADV)
    s = o.set_consumer_pos(o.initial(), 24)
    s, a = o.reserve(s, 0, 16)
    s = o.write(s, 0)
    assert check("no_overlap", ADV, s) is None
    s, b = o.reserve(s, 0, 16)
    assert check("no_overlap", ADV, s) is not None
    assert check("header_integrity", ADV, s) is None     # not yet: b has not written
    s = o.write(s, 0)
    assert "record 0" in check("header_integrity", ADV, s)


def test_ranges_overlap_wraps_modulo_the_ring():
    assert ranges_overlap(24, 16, 0, 8, 32)          # [24,40) wraps onto [0,8)
    assert not ranges_overlap(24, 8, 0, 8, 32)
    assert not ranges_overlap(0, 16, 16, 16, 32)
    assert ranges_overlap(0, 40, 16, 8, 32)          # longer than the ring covers everything


def test_capacity_honest_and_pending():
    o = Operations(HONEST)
    s, a = o.reserve(o.initial(), 0, 8)
    assert check("capacity", HONEST, s) is None
    assert check("capacity", HONEST, s._replace(producer_pos=80, consumer_pos=0)) is not None
    assert "outside" in check("capacity", HONEST, s._replace(pending_pos=8))


def test_aligned():
    s = Operations(HONEST).initial()
    assert "consumer_pos" in check("aligned", HONEST, s._replace(consumer_pos=4))


def delivered_state(entries, statuses):
    s = Operations(HONEST).initial()
    recs = list(s.records)
    for i, status in enumerate(statuses):
        recs[i] = Record(status, 16 * i, 8, i)
    return s._replace(records=tuple(recs), delivered=tuple(entries))


def test_ordered_delivery():
    assert check("ordered_delivery", HONEST, delivered_state([(0, True), (1, True)], [SUBMITTED] * 2)) is None
    assert check("ordered_delivery", HONEST, delivered_state([(1, True), (0, True)], [SUBMITTED] * 2))


def test_committed_only():
    assert check("committed_only", HONEST, delivered_state([(0, False)], [SUBMITTED]))
    assert check("committed_only", HONEST, delivered_state([(-1, False)], []))


def test_discard_skipped():
    assert check("discard_skipped", HONEST, delivered_state([(0, True)], [DISCARDED]))
    s = delivered_state([], [DISCARDED])._replace(producer_pos=16)
    assert check("discard_skipped", HONEST, s, terminal=False) is None
    assert check("discard_skipped", HONEST, s, terminal=True)


def test_exactly_once():
    assert "twice" in check("exactly_once", HONEST, delivered_state([(0, True), (0, True)], [SUBMITTED]))
    s = delivered_state([], [SUBMITTED])
    assert check("exactly_once", HONEST, s, terminal=False) is None
    assert "never delivered" in check("exactly_once", HONEST, s, terminal=True)


def test_no_lost_wakeup_judged_only_in_terminal_states_with_default_flags():
    s = Operations(HONEST).initial()._replace(producer_pos=16)
    s = s._replace(consumer=s.consumer._replace(pc=C_SLEEP))
    assert check("no_lost_wakeup", HONEST, s, terminal=False) is None
    assert "16 bytes" in check("no_lost_wakeup", HONEST, s, terminal=True)
    assert check("no_lost_wakeup", HONEST.with_(wakeup_flags=True), s, terminal=True) is None


def test_committed_only_intact_payload_required():
    o = Operations(HONEST)
    s, a = o.reserve(o.initial(), 0, 8)
    s = o.write(s, 0)
    s = o.commit(s, 0, a)
    torn = s._replace(slots=(s.slots[0], payload_word(5)) + s.slots[2:])
    _, got = o.consume(torn)
    s2, _ = o.consume(torn)
    assert check("committed_only", HONEST, s2) is not None
    s3, _ = o.consume(s)
    assert check("committed_only", HONEST, s3) is None
    assert s.slots[0] == header_word(0, 8) and not s.slots[0] & BUSY_BIT << 10


from hypothesis import given, settings, strategies as st  # noqa: E402

from model import RingBufModel  # noqa: E402
from model.state import Consumer, Producer  # noqa: E402
from specs.property import same_inputs  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), steps=st.integers(0, 40),
       lock=st.integers(-1, 1), irq=st.booleans(), edge=st.booleans(), pc=st.integers(0, 6))
def test_predicates_read_only_the_declared_inputs(seed, steps, lock, irq, edge, pc):
    """The engines skip re-checking when PROPERTY_INPUTS are unchanged; that is sound only if this holds."""
    import random
    for cfg in (ADV, HONEST):
        m = RingBufModel(cfg)
        rng = random.Random(seed)
        s = m.initial_states()[0]
        for _ in range(steps):
            succ = m.successors(s)
            if not succ:
                break
            s = rng.choice(succ)[1]
        other = s._replace(lock=lock, irq_pending=irq, edge_ready=edge,
                           producers=tuple(Producer(pc=pc % 7, attempts=1) for _ in s.producers),
                           consumer=Consumer(pc=pc))
        assert same_inputs(s, other)
        for p in all_properties():
            for terminal in (False, True):
                assert p.check(cfg, s, terminal) == p.check(cfg, other, terminal)

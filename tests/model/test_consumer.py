"""Consumer steps (libbpf ring_buffer__poll) and epoll wakeups, by hand-computed cases."""

from model import Config, RingBufModel
from model.consumer import consume_load_cons, consume_load_prod, consume_read_header, irq_work, poll_wait
from model.operations import Operations
from model.state import C_DELIVER, C_LOAD_CONS, C_SLEEP, C_STORE, C_WAIT


def honest(**kw):
    base = dict(variant="v6.10", ring_size=64, records=4, hold=2, sizes=(8,), consumer="level")
    base.update(kw)
    return Operations(Config(**base))


def test_consume_delivers_in_order_and_skips_discarded():
    o = honest()
    s = o.initial()
    s, a = o.reserve(s, 0, 8)
    s = o.commit(s, 0, a)
    s, b = o.reserve(s, 0, 8)
    s = o.commit(s, 0, b, discard=True)
    s, c = o.reserve(s, 0, 8)
    s = o.commit(s, 0, c)
    s, got = o.consume(s)
    assert got == [a, c]
    assert s.consumer_pos == s.producer_pos == 48
    assert all(ok for _, ok in s.delivered)


def test_consume_stops_at_busy_record_even_if_later_ones_are_committed():
    o = honest()
    s = o.initial()
    s, a = o.reserve(s, 0, 8)
    s = o.write(s, 0)
    s, b = o.reserve(s, 0, 8)
    s = o.commit(s, 0, b)
    s, got = o.consume(s)
    assert got == [] and s.consumer_pos == 0
    s = o.commit(s, 0, a)
    s, got = o.consume(s)
    assert got == [a, b] and s.consumer_pos == 32


def test_read_header_moves_local_cons_before_delivery():
    o = honest()
    s, a = o.reserve(o.initial(), 0, 12)
    s = o.commit(s, 0, a)
    cfg = o.config
    s = consume_load_prod(cfg, consume_load_cons(cfg, s))
    s = consume_read_header(cfg, s)
    assert s.consumer.pc == C_DELIVER and s.consumer.cons == 24 and s.consumer_pos == 0


def test_discarded_header_goes_straight_to_store():
    o = honest()
    s, a = o.reserve(o.initial(), 0, 8)
    s = o.commit(s, 0, a, discard=True)
    cfg = o.config
    s = consume_read_header(cfg, consume_load_prod(cfg, consume_load_cons(cfg, s)))
    assert s.consumer.pc == C_STORE


def test_level_epoll_returns_while_data_is_there_else_sleeps():
    o = honest()
    cfg = o.config
    s = o.initial()._replace(consumer=o.initial().consumer._replace(pc=C_WAIT))
    assert poll_wait(cfg, s).consumer.pc == C_SLEEP
    s2, a = o.reserve(s, 0, 8)                    # busy record: data "available" for poll
    assert poll_wait(cfg, s2).consumer.pc == C_LOAD_CONS


def test_edge_epoll_returns_only_after_a_wakeup():
    o = honest(consumer="edge")
    cfg = o.config
    s = o.initial()._replace(consumer=o.initial().consumer._replace(pc=C_WAIT))
    s, a = o.reserve(s, 0, 8)
    assert poll_wait(cfg, s).consumer.pc == C_SLEEP
    woken = irq_work(cfg, s._replace(irq_pending=True))    # wakeup while awake: remembered
    assert woken.edge_ready and poll_wait(cfg, woken).consumer.pc == C_LOAD_CONS


def test_irq_work_wakes_a_sleeper():
    for consumer, pc in (("level", C_WAIT), ("edge", C_LOAD_CONS)):
        o = honest(consumer=consumer)
        s = o.initial()._replace(consumer=o.initial().consumer._replace(pc=C_SLEEP), irq_pending=True)
        t = irq_work(o.config, s)
        assert t.consumer.pc == pc and not t.irq_pending


def test_model_interface_apply_matches_successors():
    m = RingBufModel(Config(producers=2, consumer="level", discard=True))
    s = m.initial_states()[0]
    for _ in range(6):
        succ = m.successors(s)
        for a, t in succ:
            assert m.apply(s, a) == t
        s = succ[-1][1]

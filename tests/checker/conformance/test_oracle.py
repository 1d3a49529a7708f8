"""The oracle: enabled operations per configuration, expected outcomes, protocol-step expansion."""

from __future__ import annotations

import pytest

from checker.conformance import ops
from checker.conformance.oracle import Oracle
from model.config import Config
from model.operations import OperationError

HONEST = Config(variant="v6.10", consumer="level", ring_size=32, producers=2, records=1, hold=1,
                sizes=(8, 16), discard=True, wakeup_flags=True)
ADVERSARIAL = Config(variant="v6.10", consumer="adversarial", ring_size=32, sizes=(8,))


def test_initial_operations_are_reserves_and_consume() -> None:
    o = Oracle(HONEST)
    got = [str(op) for op in o.enabled(o.initial())]
    assert got == ["reserve(p0, size=8)", "reserve(p0, size=16)", "reserve(p1, size=8)",
                   "reserve(p1, size=16)", "consume()"]


def test_a_fresh_reservation_must_be_written_and_commits_offer_every_choice() -> None:
    o = Oracle(HONEST)
    s, exp = o.apply(o.initial(), ops.reserve(0, 8, 0))
    assert exp.result == 0 and exp.observation.producer_pos == 16
    assert exp.observation.headers == ((0, 8 | 1 << 31),)
    assert [op.kind for op in o.enabled(s)][0] == "write"
    assert o.check_allowed(s, ops.reserve(0, 8, 1)) is not None
    s, _ = o.apply(s, ops.write(0, 0))
    commits = [op for op in o.enabled(s) if op.kind == "commit"]
    assert len(commits) == 6  # discard or not, times flags 0 / NO_WAKEUP / FORCE_WAKEUP
    s, _ = o.apply(s, ops.commit(0, 0))
    s, exp = o.apply(s, ops.consume())
    assert exp.result == (0,) and exp.observation.consumer_pos == 16


def test_the_adversary_stores_every_value_within_reach() -> None:
    o = Oracle(ADVERSARIAL)
    values = [op.value for op in o.enabled(o.initial()) if op.kind == "set_consumer_pos"]
    assert len(values) == 16 and 64 in values and (-64) % 2**64 in values and 0 not in values


def test_impossible_calls_are_refused() -> None:
    o = Oracle(HONEST)
    s = o.initial()
    with pytest.raises(OperationError, match="does not hold"):
        o.apply(s, ops.commit(0, 0))
    with pytest.raises(OperationError, match="does not exist"):
        o.apply(s, ops.reserve(5, 8, 0))
    with pytest.raises(OperationError, match="no libbpf consumer"):
        Oracle(ADVERSARIAL).apply(Oracle(ADVERSARIAL).initial(), ops.consume())


def test_steps_expand_an_operation_into_the_models_protocol_steps() -> None:
    o = Oracle(HONEST)
    s = o.initial()
    seq = [ops.reserve(1, 16, 1), ops.write(1, 1), ops.commit(1, 1, True, 2), ops.consume()]
    for op in seq:
        steps = o.steps(s, op)
        s, _ = o.apply(s, op)
        assert steps[-1].state == s
    assert [str(st.action) for st in o.steps(o.initial(), seq[0])] == [
        "p1.reserve.check(size=16)", "p1.reserve.load_cons", "p1.reserve.lock", "p1.reserve.claim"]


def test_payload_pattern_names_its_record_and_reads_as_len_zero() -> None:
    a, b = ops.payload_bytes(0, 16), ops.payload_bytes(1, 16)
    assert a != b and len(a) == 16
    assert a[0:4] == a[8:12] == b"\0\0\0\0" and a[4] == 1 and b[4] == 2

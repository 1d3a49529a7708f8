"""Random operation sequences against the reference, checked by a small oracle.

With an honest consumer every variant must behave like a simple queue:
reserve succeeds exactly when `new_prod - consumer_pos <= mask`, samples
arrive in reservation order, discarded ones are skipped, and the consumer
stops at the first record still busy. With a hostile consumer_pos the
reference must still never fail, and v6.10 must keep its pending bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.conformance.adapter import BUSY_BIT, U64_MASK, VARIANTS, Handle
from checker.conformance.reference import (
    ReferenceRingBuffer,
    header_pg_off,
    record_length,
)

RING_SIZES = [16, 64, 256]

reserve_op = st.tuples(st.just("reserve"), st.integers(0, 3), st.integers(0, 80))
commit_op = st.tuples(st.just("commit"), st.integers(0, 1 << 16), st.booleans())
consume_op = st.tuples(st.just("consume"))
honest_ops = st.lists(st.one_of(reserve_op, commit_op, consume_op), max_size=60)

near_producer = st.tuples(st.just("cons_near"), st.integers(-300, 300))
anywhere = st.tuples(st.just("cons_any"), st.integers(0, U64_MASK))
lie_then_reserve = st.tuples(st.just("lie_then_reserve"), st.integers(0, 600), st.integers(0, 64))
hostile_ops = st.lists(
    st.one_of(reserve_op, commit_op, consume_op, near_producer, anywhere, lie_then_reserve),
    max_size=60,
)


@dataclass
class Record:
    handle: Handle
    payload: bytes
    state: str = "busy"


def payload_for(serial: int, size: int) -> bytes:
    return bytes((serial * 37 + i) & 0xFF for i in range(size))


def pick_busy(records: list[Record], choice: int) -> Record | None:
    busy = [record for record in records if record.state == "busy"]
    return busy[choice % len(busy)] if busy else None


@settings(max_examples=150, deadline=None)
@given(
    variant=st.sampled_from(VARIANTS),
    ring_size=st.sampled_from(RING_SIZES),
    operations=honest_ops,
)
def test_honest_sequences_behave_like_a_queue(
    variant: str, ring_size: int, operations: list[tuple]
) -> None:
    records: list[Record] = []
    next_to_consume = 0
    with ReferenceRingBuffer(ring_size, variant) as ring:
        for operation in operations:
            before = ring.observe()
            if operation[0] == "reserve":
                _, producer, size = operation
                handle = ring.reserve(producer, size)
                fits = before.producer_pos + record_length(size) - before.consumer_pos < ring_size
                assert (handle is not None) == fits
                if handle is not None:
                    assert handle.position == before.producer_pos
                    assert ring.header(handle.position) == (
                        size | BUSY_BIT,
                        header_pg_off(handle.position % ring_size),
                    )
                    payload = payload_for(len(records), size)
                    ring.write(handle, payload)
                    records.append(Record(handle, payload))
            elif operation[0] == "commit":
                record = pick_busy(records, operation[1])
                if record is not None:
                    ring.commit(record.handle, discard=operation[2])
                    record.state = "discarded" if operation[2] else "submitted"
            else:
                expected = []
                while next_to_consume < len(records) and records[next_to_consume].state != "busy":
                    if records[next_to_consume].state == "submitted":
                        expected.append(records[next_to_consume].payload)
                    next_to_consume += 1
                assert ring.consume() == expected
                waiting_at = (
                    records[next_to_consume].handle.position
                    if next_to_consume < len(records)
                    else ring.observe().producer_pos
                )
                assert ring.observe().consumer_pos == waiting_at
            after = ring.observe()
            assert after.producer_pos % 8 == 0 and after.consumer_pos % 8 == 0
            assert 0 <= after.producer_pos - after.consumer_pos <= ring_size
            assert len(after.data) == ring_size


def apply_hostile(ring: ReferenceRingBuffer, records: list[Record], operation: tuple) -> None:
    kind = operation[0]
    if kind == "lie_then_reserve":
        _, size, slack = operation
        ring.set_consumer_pos(ring.observe().producer_pos + record_length(size) - slack)
        kind, operation = "reserve", ("reserve", 0, size)
    if kind == "reserve":
        handle = ring.reserve(operation[1], operation[2])
        if handle is not None:
            payload = payload_for(len(records), handle.size)
            ring.write(handle, payload)
            records.append(Record(handle, payload))
    elif kind == "commit":
        record = pick_busy(records, operation[1])
        if record is not None:
            ring.commit(record.handle, discard=operation[2])
            record.state = "committed"
    elif kind == "consume":
        ring.consume()
    elif kind == "cons_near":
        ring.set_consumer_pos((ring.observe().producer_pos + operation[1]) & U64_MASK)
    else:
        ring.set_consumer_pos(operation[1])


@settings(max_examples=150, deadline=None)
@given(
    variant=st.sampled_from(VARIANTS),
    ring_size=st.sampled_from(RING_SIZES),
    operations=hostile_ops,
)
def test_hostile_consumer_never_breaks_the_reference(
    variant: str, ring_size: int, operations: list[tuple]
) -> None:
    records: list[Record] = []
    with ReferenceRingBuffer(ring_size, variant) as ring:
        for operation in operations:
            apply_hostile(ring, records, operation)
            observation = ring.observe()
            assert observation.producer_pos % 8 == 0
            assert len(observation.data) == ring_size
            if variant != "v5.8":
                assert all(record_length(r.handle.size) <= ring_size for r in records)
            if variant == "v6.10":
                pend, prod = ring.pending_pos, observation.producer_pos
                assert pend % 8 == 0 and prod - pend <= ring_size
                for record in records:
                    if record.state == "busy":
                        assert pend <= record.handle.position < prod
                        assert ring.header(record.handle.position)[0] == (
                            record.handle.size | BUSY_BIT
                        )

"""libbpf's own consumer freed and created again on a used live ring delivers what the model says.

The model has no consumer state of its own: a reopen (ring_buffer__free,
then ring_buffer__new on the same map) leaves the ring as it was, so the
next consume delivers exactly the records committed and not yet consumed.
libbpf agrees because it keeps no cursor of its own: each consume pass
starts from consumer_pos read from the mapped consumer page, where the
previous consumer stored it.
"""

from __future__ import annotations

import pytest

from checker.kernel.bpf import kernel_available
from checker.kernel.libbpf import LibbpfConsumer, libbpf_available
from checker.kernel.predict import predict
from checker.kernel.program import run_script
from checker.kernel.ringmap import RingMap
from checker.kernel.scenario import KERNEL_RING_SIZE, Consume, Run
from checker.kernel.script import Discard, Reserve, Submit, Write

AVAILABLE, REASON = kernel_available()
LIBBPF, LIBBPF_REASON = libbpf_available()
pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(not AVAILABLE, reason=REASON),
    pytest.mark.skipif(not LIBBPF, reason=LIBBPF_REASON),
]

BIG = 0x1000 - 8
"""A payload whose record takes a quarter of the 0x4000-byte ring: four of them are one lap."""


def _records(*fills: int) -> Run:
    ops: list = []
    for slot, byte in enumerate(fills):
        ops += [Reserve(slot % 4, BIG), Write(slot % 4, byte), Submit(slot % 4)]
    return Run(tuple(ops))


SCENARIO = [
    _records(0x41, 0x42, 0x43), Consume(),
    _records(0x44, 0x45, 0x46), Consume(),  # the ring has wrapped: memory holds the first lap's records
    _records(0x47, 0x48), Run((Reserve(0, 64), Write(0, 0x49), Discard(0))), _records(0x4A),
    Consume(),  # the first consume after the reopen
    _records(0x4B), Consume(),
]
REOPEN_BEFORE = 7
"""Index of the consume that a new libbpf consumer makes, after the first one was freed."""


def test_a_reopened_libbpf_consumer_delivers_exactly_what_the_model_says_on_a_used_ring():
    prediction = predict(SCENARIO, "v6.10")
    expected = {e.where[1]: e.value for e in prediction.expects if e.where[0] == "samples"}
    positions = {e.where[1]: e.value for e in prediction.expects if e.where[0] == "consumer_pos"}
    delivered: dict[int, list] = {}
    with RingMap(KERNEL_RING_SIZE) as ring:
        consumer = LibbpfConsumer(ring.fd)
        try:
            for index, item in enumerate(SCENARIO):
                if index == REOPEN_BEFORE:
                    stored = ring.consumer_pos
                    consumer.close()  # ring_buffer__free
                    assert ring.consumer_pos == stored == positions[REOPEN_BEFORE - 2] > KERNEL_RING_SIZE
                    consumer = LibbpfConsumer(ring.fd)  # ring_buffer__new on the same map
                if isinstance(item, Run):
                    run_script(ring, item.ops)
                else:
                    delivered[index] = consumer.consume()
                    assert ring.consumer_pos == positions[index] == ring.producer_pos
        finally:
            consumer.close()
    assert delivered == expected
    after_reopen = [data[0] for _size, data in delivered[REOPEN_BEFORE]]
    assert after_reopen == [0x47, 0x48, 0x4A], "the records committed and not consumed, the discarded one skipped"
    every = [data[0] for batch in delivered.values() for _size, data in batch]
    assert sorted(every) == sorted(set(every)) and len(every) == 10, "each committed record delivered once"

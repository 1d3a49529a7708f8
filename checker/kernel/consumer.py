"""libbpf's consumer algorithm (docs/protocol.md#4) in Python over the mapped pages.

This is the honest consumer the model assumes, run against the live ring:
read consumer_pos and producer_pos, walk the headers from consumer_pos, stop
at a BUSY record, skip DISCARD records, deliver the others, and publish
consumer_pos after every record.  Re-read producer_pos while records keep
arriving.  Comparing its output with ``checker.kernel.libbpf`` shows that the
re-implementation matches the library.
"""

from __future__ import annotations

from typing import Callable

from checker.kernel.bpf import BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ
from checker.kernel.ringmap import RingMap, record_length

Sample = tuple[int, bytes]
SIZE_MASK = ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT) & 0xFFFFFFFF


def consume(ring: RingMap, on_sample: Callable[[int, bytes], None] | None = None) -> list[Sample]:
    """Consume every committed record available now; return the delivered (size, bytes) samples.

    ``on_sample`` (optional) is called for each delivered sample before
    consumer_pos moves past it, as libbpf calls its callback.
    """
    delivered: list[Sample] = []
    cons = ring.consumer_pos
    while True:
        got_new = False
        prod = ring.producer_pos
        while cons < prod:
            len_word, _pg_off = ring.header(cons)
            if len_word & BPF_RINGBUF_BUSY_BIT:
                return delivered
            got_new = True
            size = len_word & SIZE_MASK
            sample_pos = cons + BPF_RINGBUF_HDR_SZ
            cons += record_length(size)
            if not len_word & BPF_RINGBUF_DISCARD_BIT:
                sample = (size, ring.data(sample_pos, size))
                if on_sample is not None:
                    on_sample(*sample)
                delivered.append(sample)
            ring.consumer_pos = cons
        if not got_new:
            return delivered

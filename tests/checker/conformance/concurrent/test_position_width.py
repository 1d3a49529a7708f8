"""A port that keeps positions in 32 bits, checked against the (64-bit) kernel from a start near 2^32."""

from __future__ import annotations

from dataclasses import replace

from checker.conformance.concurrent.explore import CONFORMS, FAILS, Setup, explore
from checker.conformance.concurrent.protocol import ACQUIRE, CONSUMER_POS, PRODUCER_POS, RELEASE
from checker.conformance.concurrent.reference import LEN_WORD, ConcurrentReference
from checker.conformance.concurrent.scenario import SCENARIOS
from checker.conformance.ops import consume
from checker.conformance.reference import LENGTH_MASK, record_length

U32 = (1 << 32) - 1


class Consumer32(ConcurrentReference):
    """The libbpf consumer with its positions in uint32_t (a port that chose a narrower type)."""

    def consume(self, mem):
        samples = []
        cons = (yield mem.load(CONSUMER_POS, ACQUIRE)) & U32
        prod = (yield mem.load(PRODUCER_POS, ACQUIRE)) & U32
        while cons < prod:
            word = (yield mem.load(mem.word(cons), ACQUIRE)) & LEN_WORD
            if word & (1 << 31):
                break
            size = word & LENGTH_MASK
            samples.append((yield from self._read_sample(mem, cons, size)))
            cons = (cons + record_length(size)) & U32
            yield mem.store(CONSUMER_POS, cons, RELEASE)
        return samples


def scenario(start: int):
    return replace(SCENARIOS["produce-consume"], start=start,
                   threads=(SCENARIOS["produce-consume"].threads[0], ("c", (consume(),))))


def test_the_32_bit_consumer_conforms_far_from_the_boundary() -> None:
    r = explore(Setup(Consumer32, scenario(64), "v6.10", "sc"))
    assert r.kind == CONFORMS, r.headline()


def test_the_32_bit_consumer_stops_delivering_at_2_to_the_32() -> None:
    r = explore(Setup(Consumer32, scenario((1 << 32) - 16), "v6.10", "sc"))
    assert r.kind == FAILS and r.failure is not None
    v = r.failure.violation
    assert v.prop == "linearizable" and v.detail["call"] == "consume()"
    assert v.detail["why"] == "the model returns [r0], the implementation returned []"

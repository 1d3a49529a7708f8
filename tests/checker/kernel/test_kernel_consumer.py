"""The Python consumer against libbpf's own ring_buffer__consume on the same scripts."""

from __future__ import annotations

import random

import pytest

from checker.kernel.bpf import kernel_available
from checker.kernel.consumer import consume
from checker.kernel.libbpf import LibbpfConsumer, libbpf_available
from checker.kernel.program import run_script
from checker.kernel.ringmap import RingMap
from checker.kernel.script import Discard, Output, Reserve, Submit, Write

AVAILABLE, REASON = kernel_available()
LIBBPF, LIBBPF_REASON = libbpf_available()
pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(not AVAILABLE, reason=REASON),
    pytest.mark.skipif(not LIBBPF, reason=LIBBPF_REASON),
]

FIXED_SCRIPTS = [
    [Reserve(0, 5), Write(0, 1), Submit(0)],
    [Reserve(0, 5), Reserve(1, 3), Write(0, 1), Write(1, 2), Output(4, 9), Submit(1), Discard(0)],
    [Reserve(0, 0), Submit(0), Output(0, 3), Reserve(1, 200), Write(1, 4), Discard(1)],
    [Reserve(0, 16), Reserve(1, 16), Write(1, 5), Submit(1)],
    [Output(256, 6), Output(255, 7), Output(1, 8, 3)],
]


def random_script(rng: random.Random, length: int = 10) -> list:
    """A valid script: reserves, writes, commits in random order, outputs."""
    script, held, byte = [], [], 0
    for _ in range(length):
        byte = (byte + 1) % 256
        choice = rng.random()
        free = [slot for slot in range(4) if slot not in held]
        if choice < 0.4 and free:
            slot = rng.choice(free)
            script.append(Reserve(slot, rng.choice([0, 1, 7, 8, 100, 1000, 0x2000])))
            script.append(Write(slot, byte))
            held.append(slot)
        elif choice < 0.8 and held:
            slot = held.pop(rng.randrange(len(held)))
            script.append(rng.choice([Submit, Discard])(slot))
        else:
            script.append(Output(rng.choice([0, 3, 64, 256]), byte))
    return script


def consume_both(scripts: list[list]) -> tuple[list, list]:
    """Run the scripts on two rings; consume one with Python and one with libbpf after each."""
    python_samples, libbpf_samples = [], []
    with RingMap() as python_ring, RingMap() as libbpf_ring, LibbpfConsumer(libbpf_ring.fd) as libbpf:
        for script in scripts:
            run_script(python_ring, script)
            run_script(libbpf_ring, script)
            python_samples.append(consume(python_ring))
            libbpf_samples.append(libbpf.consume())
            assert python_ring.consumer_pos == libbpf_ring.consumer_pos == libbpf_ring.producer_pos
    return python_samples, libbpf_samples


def test_fixed_scripts_deliver_the_same_samples():
    python_samples, libbpf_samples = consume_both(FIXED_SCRIPTS)
    assert python_samples == libbpf_samples
    assert python_samples[1] == [(3, b"\x02" * 3), (4, b"\x09" * 4)]


def test_random_scripts_deliver_the_same_samples_across_wraparounds():
    rng = random.Random(20240725)
    scripts = [random_script(rng) for _ in range(40)]
    python_samples, libbpf_samples = consume_both(scripts)
    assert python_samples == libbpf_samples
    assert sum(len(batch) for batch in python_samples) > 40


def test_consumer_callback_sees_samples_before_consumer_pos_moves(ring):
    run_script(ring, [Output(4, 1), Output(4, 2)])
    seen = []
    consume(ring, lambda size, data: seen.append((size, data, ring.consumer_pos)))
    assert seen == [(4, b"\x01" * 4, 0), (4, b"\x02" * 4, 16)]

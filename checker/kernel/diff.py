"""Differential check: run a scenario on the live kernel and compare with the model's prediction.

``checker.kernel.predict`` says what the model of a variant expects (every
reserve position or NULL, output code, query value, which commits ran, the
positions, every header len word and the bytes of every record nobody has
overwritten after each run, the samples each consume delivers); this module runs the same scenario on a fresh kernel ring, reads
the same places, and reports the first place where the two differ as a
``Disagreement``: the expectation, what the kernel showed, and the model's
steps up to that point as a ``checker.trace.Trace``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Callable

from checker.kernel.consumer import consume
from checker.kernel.libbpf import LibbpfConsumer
from checker.kernel.predict import Expect, Prediction, predict
from checker.kernel.program import run_script
from checker.kernel.ringmap import RingMap
from checker.kernel.scenario import KERNEL_RING_SIZE, Consume, Run, Scenario, SetConsumerPos, scenario_str
from checker.kernel.script import Output, Query, Reserve, ScriptResult
from checker.trace import Trace
from model.config import Config

CONSUMERS = ("python", "libbpf")
"""Who plays the consumer on the kernel side: checker.kernel.consumer, or libbpf through ctypes."""

KernelSample = tuple[int, bytes]
_LEN_WORD = struct.Struct("<I")


@dataclass
class KernelObservation:
    """What the kernel showed, per scenario item."""

    results: dict[int, ScriptResult] = field(default_factory=dict)
    producer_pos: dict[int, int] = field(default_factory=dict)
    consumer_pos: dict[int, int] = field(default_factory=dict)
    data: dict[int, bytes] = field(default_factory=dict)
    """A copy of the data area after each run (headers are read from it)."""
    samples: dict[int, list[KernelSample]] = field(default_factory=dict)

    def value_at(self, where: tuple) -> object:
        """The kernel's value at an ``Expect.where`` locator, in the form the model predicts."""
        kind, item = where[0], where[1]
        if kind == "op":
            result = self.results[item][where[2]]
            if isinstance(result.op, (Reserve, Output, Query)):
                return result.value
            return result.ok
        if kind == "producer_pos":
            return self.producer_pos[item]
        if kind == "consumer_pos":
            return self.consumer_pos[item]
        if kind == "header":
            return _LEN_WORD.unpack_from(self.data[item], where[2])[0]
        if kind == "payload":
            data, start, size = self.data[item], where[2], where[3]
            return (data + data)[start:start + size]
        if kind == "samples":
            return self.samples[item]
        raise ValueError(f"unknown locator {where!r}")


def run_on_kernel(scenario: Scenario, ring: RingMap, consume_now: Callable[[], list[KernelSample]]) -> KernelObservation:
    """Run every item of ``scenario`` on ``ring``; ``consume_now`` drains it for a Consume item."""
    seen = KernelObservation()
    for index, item in enumerate(scenario):
        if isinstance(item, Run):
            seen.results[index] = run_script(ring, item.ops)
            seen.data[index] = ring.data(0, ring.size)
        elif isinstance(item, SetConsumerPos):
            ring.consumer_pos = item.target(ring.producer_pos)
        elif isinstance(item, Consume):
            seen.samples[index] = consume_now()
        seen.producer_pos[index] = ring.producer_pos
        seen.consumer_pos[index] = ring.consumer_pos
    return seen


def samples_match(expected: list, observed: list) -> bool:
    """Same number of samples, same sizes, same bytes (unless the model left the bytes open: None)."""
    if len(expected) != len(observed):
        return False
    return all(e_size == o_size and (e_data is None or e_data == o_data)
               for (e_size, e_data), (o_size, o_data) in zip(expected, observed))


def values_match(expect: Expect, observed: object) -> bool:
    if expect.where[0] == "samples":
        return samples_match(expect.value, observed)  # type: ignore[arg-type]
    return expect.value == observed


def show_value(value: object) -> str:
    """A predicted or observed value for people: hex numbers, NULL, sample summaries."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:#x}" if value >= 0 else str(value)
    if isinstance(value, bytes):
        return _show_sample(len(value), value)
    if isinstance(value, list):
        return "[" + ", ".join(_show_sample(size, data) for size, data in value) + "]"
    return repr(value)


def _show_sample(size: int, data: bytes | None) -> str:
    if data is None:
        return f"{size:#x} bytes (contents not predicted)"
    if not data:
        return "0 bytes"
    if data == bytes([data[0]]) * len(data):
        return f"{size:#x} bytes of {data[0]:#04x}"
    return f"{size:#x} bytes starting {data[:8].hex()}"


@dataclass
class Disagreement:
    """The first place where kernel and model differ."""

    scenario: tuple
    variant: str
    expect: Expect
    observed: object
    trace: Trace

    def headline(self) -> str:
        return (f"{self.expect.label}: model {self.variant} expects {show_value(self.expect.value)}, "
                f"kernel gave {show_value(self.observed)}")

    def format(self) -> str:
        """Scenario, the model's steps up to the disagreement (memory changes summarised), the verdict line."""
        lines = ["scenario:", *("  " + line for line in scenario_str(self.scenario).splitlines()),
                 f"model steps ({len(self.trace)}):", format_trace(self.trace), f"disagreement: {self.headline()}"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "scenario": [str(item) for item in self.scenario],
            "variant": self.variant,
            "where": self.expect.label,
            "expected": show_value(self.expect.value),
            "observed": show_value(self.observed),
            "model_steps": [str(step.action) for step in self.trace.steps],
        }


def format_trace(trace: Trace, max_memory_lines: int = 4) -> str:
    """Trace steps with what changed; long runs of payload words are summarised."""
    lines = [f"  config: {trace.config.describe()}"]
    for i, step in enumerate(trace.steps, 1):
        lines.append(f"  {i:3}  {step.action}")
        memory = []
        for var, before, after in trace.changes(i):
            if var.startswith("mem["):
                memory.append(f"{var}: {before} -> {after}")
            else:
                lines.append(f"         {var}: {before} -> {after}")
        for change in memory[:max_memory_lines]:
            lines.append(f"         {change}")
        if len(memory) > max_memory_lines:
            lines.append(f"         ... and {len(memory) - max_memory_lines} more memory words")
    return "\n".join(lines)


@dataclass
class DiffResult:
    """One scenario checked: how many predictions were compared, and the first disagreement if any."""

    compared: int
    disagreement: Disagreement | None = None

    @property
    def agrees(self) -> bool:
        return self.disagreement is None


def _consumer(kind: str, ring: RingMap) -> tuple[Callable[[], list[KernelSample]], Callable[[], None]]:
    """The consume function for ``kind`` and how to release it."""
    if kind == "python":
        return (lambda: consume(ring)), (lambda: None)
    if kind == "libbpf":
        library_consumer = LibbpfConsumer(ring.fd)
        return library_consumer.consume, library_consumer.close
    raise ValueError(f"consumer {kind!r} is not one of {', '.join(CONSUMERS)}")


def observe_kernel(scenario: Scenario, consumer: str = "python") -> KernelObservation:
    """Run ``scenario`` on a fresh kernel ring (needs bpf(); BpfUnavailable otherwise)."""
    with RingMap(KERNEL_RING_SIZE) as ring:
        consume_now, release = _consumer(consumer, ring)
        try:
            return run_on_kernel(scenario, ring, consume_now)
        finally:
            release()


def compare(scenario: Scenario, prediction: Prediction, seen: KernelObservation) -> tuple[int, Expect | None, object]:
    """Walk the predictions in order: (number compared, first failing Expect or None, what the kernel showed)."""
    for count, expect in enumerate(prediction.expects, 1):
        observed = seen.value_at(expect.where)
        if not values_match(expect, observed):
            return count, expect, observed
    return len(prediction.expects), None, None


def diff_scenario(scenario: Scenario, variant: str, consumer: str = "python", config: Config | None = None) -> DiffResult:
    """Predict ``scenario`` with the model of ``variant``, run it on the kernel, compare.

    ``config`` replaces the model configuration (a test plants a wrong model
    this way).  ValueError for a scenario that cannot be run.
    """
    scenario = tuple(scenario)
    prediction = predict(scenario, variant, config=config)
    seen = observe_kernel(scenario, consumer)
    compared, failed, observed = compare(scenario, prediction, seen)
    if failed is None:
        return DiffResult(compared)
    replayed = predict(scenario, variant, record=True, config=config)
    recorded, cut = replayed.trace, replayed.expects[compared - 1].step
    assert recorded is not None
    trace = Trace(recorded.config, recorded.initial, list(recorded.steps[:cut]),
                  "kernel-diff", f"{failed.label}: expected {show_value(failed.value)}, "
                                 f"kernel gave {show_value(observed)}")
    return DiffResult(compared, Disagreement(scenario, prediction.config.variant, failed, observed, trace))


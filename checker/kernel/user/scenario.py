"""Scenarios on one user ring buffer: what user space does, and the drains in between.

A scenario is a sequence of the steps below, run in order on a fresh user
ring (``USER_RING_SIZE`` bytes) on the kernel (``checker.kernel.user.run``)
and on the model (``checker.kernel.user.predict``).

The honest producer (``Reserve`` / ``Fill`` / ``Submit`` / ``Discard``) is
libbpf's: the n-th ``Reserve`` of the scenario is slot n, whether it was
granted or not, and the ops on a refused slot do nothing (on both sides).
The hostile producer writes ``producer_pos`` and data words: absolute
values, or relative to where the positions are at that moment, so that a
generated header lands where the next drain looks.  A ``Drain`` is one BPF
program run calling ``bpf_user_ringbuf_drain``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

USER_RING_SIZE = 0x1000  # one page, the smallest ring the kernel takes: the positions wrap quickly
U64_MASK = (1 << 64) - 1
U32_MASK = 0xFFFFFFFF
BASES = ("zero", "producer", "consumer")


@dataclass(frozen=True)
class Reserve:
    """user_ring_buffer__reserve(size); the n-th Reserve of a scenario is slot n."""

    size: int

    def __str__(self) -> str:
        return f"reserve({self.size:#x})"


@dataclass(frozen=True)
class Fill:
    """Write the first payload word of slot ``slot`` (a granted reservation of at least 1 byte)."""

    slot: int
    value: int

    def __str__(self) -> str:
        return f"fill(s{self.slot}, {self.value:#x})"


@dataclass(frozen=True)
class Submit:
    """user_ring_buffer__submit(slot)."""

    slot: int

    def __str__(self) -> str:
        return f"submit(s{self.slot})"


@dataclass(frozen=True)
class Discard:
    """user_ring_buffer__discard(slot)."""

    slot: int

    def __str__(self) -> str:
        return f"discard(s{self.slot})"


def _based(base: str, delta: int) -> str:
    if base == "zero":
        return f"{delta & U64_MASK:#x}"
    sign, size = ("-", (-delta) & U64_MASK) if delta < 0 else ("+", delta)
    return f"{base}_pos {sign} {size:#x}"


def resolve(base: str, delta: int, producer_pos: int, consumer_pos: int) -> int:
    """The u64 value ``base + delta`` when the ring's positions are as given."""
    origin = {"zero": 0, "producer": producer_pos, "consumer": consumer_pos}[base]
    return (origin + delta) & U64_MASK


@dataclass(frozen=True)
class SetProducerPos:
    """Hostile user space stores ``base + delta`` into producer_pos."""

    delta: int
    base: str = "zero"

    def __str__(self) -> str:
        return f"producer_pos := {_based(self.base, self.delta)}"


@dataclass(frozen=True)
class WriteWord:
    """Hostile user space stores ``value`` into the data word at ``base + delta`` (modulo the ring size).

    As a header, the low 32 bits are the len word (BUSY bit 31, DISCARD bit 30)
    and the high 32 bits pg_off.
    """

    delta: int
    value: int
    base: str = "zero"

    def __str__(self) -> str:
        low, high = self.value & U32_MASK, self.value >> 32
        flags = "".join(name for bit, name in ((1 << 31, "|BUSY"), (1 << 30, "|DISCARD")) if low & bit)
        return (f"word[{_based(self.base, self.delta)}] := {self.value:#x} "
                f"(len {low & 0x3FFFFFFF:#x}{flags}, pg_off {high:#x})")


@dataclass(frozen=True)
class Drain:
    """One bpf_user_ringbuf_drain(ring, callback, NULL, flags); the i-th callback returns ``returns[i]`` (else 0)."""

    flags: int = 0
    returns: tuple[int, ...] = ()

    def __str__(self) -> str:
        extra = f", callback returns {''.join(map(str, self.returns))}" if any(self.returns) else ""
        return f"drain(flags={self.flags & U64_MASK:#x}{extra})"


Step = Reserve | Fill | Submit | Discard | SetProducerPos | WriteWord | Drain
Scenario = Sequence[Step]


def scenario_str(scenario: Scenario) -> str:
    """The scenario on one line per step."""
    return "\n".join(f"{i}: {step}" for i, step in enumerate(scenario))


def slot_sizes(scenario: Scenario) -> list[int]:
    """The size asked by each Reserve, in slot order."""
    return [step.size for step in scenario if isinstance(step, Reserve)]


def check_scenario(scenario: Scenario) -> None:
    """Raise ValueError (one line) for a scenario that cannot be run.

    A slot is committed at most once and filled only before; a Fill needs a
    size of at least 1 (the first payload word of an empty sample is the next
    header); a WriteWord's delta is a multiple of 8.
    """
    sizes: list[int] = []
    committed: set[int] = set()
    for index, step in enumerate(scenario):
        if isinstance(step, Reserve):
            if not 0 <= step.size <= U32_MASK:
                raise ValueError(f"step {index} {step}: size must fit 32 bits")
            sizes.append(step.size)
        elif isinstance(step, (Fill, Submit, Discard)):
            if not 0 <= step.slot < len(sizes):
                raise ValueError(f"step {index} {step}: no reservation s{step.slot} before it")
            if step.slot in committed:
                raise ValueError(f"step {index} {step}: s{step.slot} is already committed")
            if isinstance(step, Fill):
                if sizes[step.slot] == 0:
                    raise ValueError(f"step {index} {step}: s{step.slot} has no payload word")
            else:
                committed.add(step.slot)
        elif isinstance(step, (SetProducerPos, WriteWord)):
            if step.base not in BASES:
                raise ValueError(f"step {index} {step!r}: base must be one of {', '.join(BASES)}")
            if isinstance(step, WriteWord) and step.delta % 8:
                raise ValueError(f"step {index} {step}: a data word is at a multiple of 8")
        elif isinstance(step, Drain):
            if len(step.returns) > 64 or any(r not in (0, 1) for r in step.returns):
                raise ValueError(f"step {index} {step}: callback returns are at most 64 values of 0 or 1")
        else:
            raise ValueError(f"step {index}: {step!r} is not a user ring scenario step")

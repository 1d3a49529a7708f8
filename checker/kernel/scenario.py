"""Scenarios: program runs on one ring with user-space actions between them.

A reservation cannot outlive one program run (``checker.kernel.script``), but
the protocol's interesting states need several runs on the same ring with the
consumer acting in between: the libbpf consumer draining the ring, or hostile
user space storing a chosen ``consumer_pos`` through the writable page.  A
``Scenario`` is that sequence.  It is what the differential check
(``checker.kernel.diff``) runs on the kernel and on the model, and what the
hypothesis strategies (``checker.kernel.strategies``) generate and shrink.

A scenario is either honest (it may ``Consume``) or adversarial (it may
``SetConsumerPos``), never both: after hostile user space has moved
``consumer_pos`` into the middle of a record, the consumer reads payload bytes
as headers, and the model abstracts payload bytes away, so nothing exact could
be predicted about that consumption.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from checker.kernel.script import U64_MASK, Discard, Op, Output, Query, Reserve, Submit, Write, check_script
from model.config import Config
from model.constants import MAX_RECORD_SZ

KERNEL_RING_SIZE = 0x4000  # ring of the differential check (the kernel accepts any power of two >= one page)
MAX_RECORD_ATTEMPTS = 16  # Config.records allows at most 16 attempts per producer


@dataclass(frozen=True)
class Run:
    """One BPF program run: the ops execute in order, leftover reservations are discarded at its end."""

    ops: tuple[Op, ...]

    def __str__(self) -> str:
        return f"run[{', '.join(op_str(op) for op in self.ops)}]"


@dataclass(frozen=True)
class SetConsumerPos:
    """Hostile user space stores into consumer_pos: ``value``, or producer_pos + ``value`` if ``relative``."""

    value: int
    relative: bool = False

    def target(self, producer_pos: int) -> int:
        """The consumer_pos stored when the ring's producer_pos is ``producer_pos``."""
        return (producer_pos + self.value if self.relative else self.value) & U64_MASK

    def __str__(self) -> str:
        if self.relative:
            sign = "-" if self.value >> 63 else "+"
            delta = (-self.value) & U64_MASK if sign == "-" else self.value
            return f"consumer_pos := producer_pos {sign} {delta:#x}"
        return f"consumer_pos := {self.value & U64_MASK:#x}"


@dataclass(frozen=True)
class Consume:
    """The consumer drains what is committed now (one ring_buffer__consume)."""

    def __str__(self) -> str:
        return "consume"


Item = Run | SetConsumerPos | Consume
Scenario = Sequence[Item]


def op_str(op: Op) -> str:
    """Short text for one op, sizes and flags in hex, e.g. ``Reserve(s0, 0x2ff8)``."""
    if isinstance(op, Reserve):
        flags = f", flags={op.flags & U64_MASK:#x}" if op.flags else ""
        return f"Reserve(s{op.slot}, {op.size & U64_MASK:#x}{flags})"
    if isinstance(op, Write):
        return f"Write(s{op.slot}, {op.byte:#04x})"
    if isinstance(op, (Submit, Discard)):
        flags = f", flags={op.flags & U64_MASK:#x}" if op.flags else ""
        return f"{type(op).__name__}(s{op.slot}{flags})"
    if isinstance(op, Output):
        flags = f", flags={op.flags & U64_MASK:#x}" if op.flags else ""
        return f"Output({op.size:#x}, {op.byte:#04x}{flags})"
    if isinstance(op, Query):
        return f"Query({op.selector & U64_MASK:#x})"
    return repr(op)


def scenario_str(scenario: Scenario) -> str:
    """The scenario on one line per item."""
    return "\n".join(f"{i}: {item}" for i, item in enumerate(scenario))


def fill_byte(rec: int) -> int:
    """The payload byte written into record ``rec``: distinct per record and never 0 (fresh memory)."""
    return 0x41 + rec % 0xBE


def record_attempts(scenario: Scenario) -> int:
    """Reserve and Output ops in the scenario: an upper bound on the model's record attempts."""
    return sum(isinstance(op, (Reserve, Output)) for item in scenario if isinstance(item, Run) for op in item.ops)


def max_held(scenario: Scenario) -> int:
    """The most reservations any run holds at once."""
    most = 0
    for item in scenario:
        if isinstance(item, Run):
            held: set[int] = set()
            for op in item.ops:
                if isinstance(op, Reserve):
                    held.add(op.slot)
                    most = max(most, len(held))
                elif isinstance(op, (Submit, Discard)):
                    held.discard(op.slot)
    return most


def is_adversarial(scenario: Scenario) -> bool:
    """True when user space writes consumer_pos somewhere in the scenario."""
    return any(isinstance(item, SetConsumerPos) for item in scenario)


def check_scenario(scenario: Scenario) -> None:
    """Raise ValueError (one line) for a scenario the differential check cannot run."""
    for index, item in enumerate(scenario):
        if isinstance(item, Run):
            try:
                check_script(item.ops)
            except (ValueError, TypeError) as bad:
                raise ValueError(f"item {index}: {bad}") from None
        elif not isinstance(item, (SetConsumerPos, Consume)):
            raise ValueError(f"item {index}: {item!r} is not a Run, SetConsumerPos or Consume")
    if is_adversarial(scenario) and any(isinstance(item, Consume) for item in scenario):
        raise ValueError("a scenario either consumes (honest) or writes consumer_pos (adversarial), not both")
    if record_attempts(scenario) > MAX_RECORD_ATTEMPTS:
        raise ValueError(f"a scenario may make at most {MAX_RECORD_ATTEMPTS} reserve/output calls "
                         f"(it makes {record_attempts(scenario)})")


def _config_sizes(scenario: Scenario) -> tuple[int, ...]:
    sizes = {op.size & U64_MASK for item in scenario if isinstance(item, Run)
             for op in item.ops if isinstance(op, (Reserve, Output))}
    return tuple(sorted(size for size in sizes if size <= 2 * MAX_RECORD_SZ)) or (8,)


def model_config(scenario: Scenario, variant: str, ring_size: int = KERNEL_RING_SIZE) -> Config:
    """The model configuration that predicts ``scenario`` on a kernel of ``variant``.

    One producer (one program runs at a time); ``records`` counts the
    scenario's reserve/output calls; ``hold`` is capped at 2 because Config
    allows no more, which is harmless: ``Operations.reserve`` does not
    enforce ``hold`` (only the explorer's choice of actions does), and
    ``tests/checker/kernel/test_kernel_diff_model.py`` checks that.  ``sizes``
    lists the sizes used, so traces describe the scenario.
    """
    return Config(
        variant=variant,
        ring_size=ring_size,
        producers=1,
        records=max(1, record_attempts(scenario)),
        hold=min(2, max(1, max_held(scenario))),
        sizes=_config_sizes(scenario),
        consumer="adversarial" if is_adversarial(scenario) else "level",
        discard=True,
        wakeup_flags=True,
    )

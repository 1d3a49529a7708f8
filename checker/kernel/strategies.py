"""Hypothesis strategies for scenarios of the differential check.

The scenarios go where the protocol is delicate: payload sizes from 0 to
larger than the ring (and the sizes reserve must refuse outright), invalid
reserve and output flags, up to four reservations held at once and committed
in any order (or left for the end-of-run discard), outputs and queries in
between, and between runs either the libbpf consumer draining the ring
(honest scenarios) or hostile user space storing consumer_pos, often relative
to producer_pos so that the CVE-2024-41009 set-up is within reach
(adversarial scenarios).  Half of the honest scenarios and a quarter of the
adversarial ones start with a prelude that moves both positions part-way
round the ring, so that records wrap past its end.

Every record that can be non-NULL is filled with ``fill_byte(record id)``
before it is committed, so a delivered sample names the record it came from.
Records longer than the ring are never written: a vulnerable kernel would
accept them, and writing one would corrupt kernel memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from checker.kernel.scenario import (KERNEL_RING_SIZE, MAX_RECORD_ATTEMPTS, Consume, Item, Run, SetConsumerPos,
                                     fill_byte)
from checker.kernel.script import MAX_OUTPUT_SIZE, U64_MASK, Discard, Op, Output, Query, Reserve, Submit, Write
from model.constants import MAX_RECORD_SZ

MAX_HELD = 4  # reservations held at once (the verifier explores 2**held NULL paths)
MAX_RUNS = 4
MAX_OPS_PER_RUN = 8

SPECIAL_SIZES = (0, 1, 7, 8, 9, 0xFF8, 0x1FF8, 0x2FF8, 0x3000, 0x3FF0, 0x3FF1, 0x3FF8, 0x4000, 0x4001, 0x4008,
                 0x10000, 1 << 20, MAX_RECORD_SZ, MAX_RECORD_SZ + 1, 0x7FFFFFFF, U64_MASK)
BAD_RESERVE_FLAGS = (1, 2, 3, 4, 1 << 40, U64_MASK)
OUTPUT_FLAGS = (1, 2, 3, 4, 7, 1 << 32, U64_MASK)
COMMIT_FLAGS = (1, 2, 3, 0xFFFF, U64_MASK)
QUERY_SELECTORS = (0, 1, 2, 3, 4, 5, U64_MASK)
RELATIVE_CONSUMER_POS = (0, 8, 16, 0x100, 0x1000, 0x2000, 0x3000, 0x3FF8, 0x4000, 0x4008, 0x8000, 4,
                         -8, -0x100, -0x1000, -0x3FF8, -0x4000, -0x4008, 1 << 63)
ABSOLUTE_CONSUMER_POS = (0, 3, 8, 0x1000, 0x3000, 1 << 63, U64_MASK - 7, U64_MASK)

reserve_sizes = st.one_of(st.integers(0, 64), st.sampled_from(SPECIAL_SIZES), st.integers(0, KERNEL_RING_SIZE + 0x100))
reserve_flags = st.one_of(st.just(0), st.just(0), st.just(0), st.sampled_from(BAD_RESERVE_FLAGS))
output_sizes = st.one_of(st.integers(0, 32), st.integers(0, MAX_OUTPUT_SIZE))
output_flags = st.one_of(st.just(0), st.just(0), st.sampled_from(OUTPUT_FLAGS))
commit_flags = st.one_of(st.just(0), st.just(0), st.sampled_from(COMMIT_FLAGS))
prelude_sizes = st.one_of(st.sampled_from((0x1FF8, 0x2FF8, 0x3FF0)), st.integers(0x1000, 0x3FF0))
consumer_positions = st.one_of(
    st.builds(SetConsumerPos, st.sampled_from(RELATIVE_CONSUMER_POS).map(lambda v: v & U64_MASK), st.just(True)),
    st.builds(SetConsumerPos, st.integers(-0x1000, 0x4800).map(lambda v: (8 * v) & U64_MASK), st.just(True)),
    st.builds(SetConsumerPos, st.sampled_from(ABSOLUTE_CONSUMER_POS), st.just(False)),
    st.builds(SetConsumerPos, st.integers(0, U64_MASK), st.just(False)),
)


@dataclass
class _Records:
    """Generation-time bookkeeping: model record ids are handed out in call order."""

    next_id: int = 0
    calls: int = 0

    def take(self) -> int:
        rec, self.next_id = self.next_id, self.next_id + 1
        return rec


def _writable(size: int) -> bool:
    return size <= KERNEL_RING_SIZE


@st.composite
def runs(draw: st.DrawFn, records: _Records) -> Run:
    """One program run; ``records`` carries record ids and the call budget across runs."""
    ops: list[Op] = []
    held: dict[int, tuple[int, int, bool]] = {}  # slot -> (record id, size, written)
    for _ in range(draw(st.integers(1, MAX_OPS_PER_RUN))):
        kinds = ["query"]
        if records.calls < MAX_RECORD_ATTEMPTS:
            kinds += ["output"] + (["reserve", "reserve"] if len(held) < MAX_HELD else [])
        if held:
            kinds += ["commit", "commit"]
            if any(_writable(size) and not written for _, size, written in held.values()):
                kinds.append("write")
        kind = draw(st.sampled_from(sorted(kinds)))
        if kind == "reserve":
            slot = draw(st.sampled_from([s for s in range(MAX_HELD) if s not in held]))
            size = draw(reserve_sizes)
            records.calls += 1
            held[slot] = (records.take(), size, False)
            ops.append(Reserve(slot, size, draw(reserve_flags)))
        elif kind == "write":
            slot = draw(st.sampled_from(sorted(s for s, (_, size, written) in held.items()
                                               if _writable(size) and not written)))
            rec, size, _ = held[slot]
            held[slot] = (rec, size, True)
            ops.append(Write(slot, fill_byte(rec)))
        elif kind == "commit":
            slot = draw(st.sampled_from(sorted(held)))
            rec, size, written = held.pop(slot)
            if _writable(size) and not written:
                ops.append(Write(slot, fill_byte(rec)))
            ops.append(draw(st.sampled_from([Submit, Submit, Discard]))(slot, draw(commit_flags)))
        elif kind == "output":
            flags = draw(output_flags)
            records.calls += 1
            rec = records.take() if not flags & ~3 else records.next_id
            ops.append(Output(draw(output_sizes), fill_byte(rec), flags))
        else:
            ops.append(Query(draw(st.sampled_from(QUERY_SELECTORS))))
    return Run(tuple(ops))


def _prelude(size: int, records: _Records, adversarial: bool) -> list[Item]:
    """Move both positions ``record_length(size)`` round the ring, so that later records wrap past its end."""
    records.calls += 1
    rec = records.take()
    caught_up = SetConsumerPos(0, relative=True) if adversarial else Consume()
    return [Run((Reserve(0, size), Write(0, fill_byte(rec)), Submit(0))), caught_up]


@st.composite
def scenarios(draw: st.DrawFn, adversarial: bool | None = None) -> tuple[Item, ...]:
    """A whole scenario: honest (consumes between runs) or adversarial (stores consumer_pos between runs)."""
    if adversarial is None:
        adversarial = draw(st.booleans())
    records = _Records()
    items: list[Item] = []
    if draw(st.integers(0, 3)) >= (3 if adversarial else 2):
        items += _prelude(draw(prelude_sizes), records, adversarial)
    for _ in range(draw(st.integers(1, MAX_RUNS))):
        if draw(st.booleans()):
            items.append(draw(consumer_positions) if adversarial else Consume())
        items.append(draw(runs(records)))
    if not adversarial and draw(st.integers(0, 3)):
        items.append(Consume())
    return tuple(items)

"""Scripts: sequences of ring buffer helper calls made by one BPF program run.

A reservation cannot outlive a program run, so an interleaving of several
reserves and commits on the live kernel is written as a ``Script``: a list of
the ops below, turned into one straight-line program by ``checker.kernel.program``.
Slots name the reservations a script holds at once; a slot may be reused after
its reservation is committed.  ``check_script`` rejects scripts that could not
be compiled (using a slot that holds nothing, reserving into a held slot), so
that mistakes surface as a Python error rather than as a verifier log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from checker.kernel.ringmap import record_length

MAX_SLOTS = 8  # reservations a script may hold at once (one stack word each)
MAX_OUTPUT_SIZE = 256  # bytes ringbuf_output can copy from the program stack
MAX_WRITE_SIZE = 0x10000  # largest reservation a Write may fill (one store per 8 bytes)
U64_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class Reserve:
    """slot := bpf_ringbuf_reserve(ring, size, flags); size and flags are taken as u64."""

    slot: int
    size: int
    flags: int = 0


@dataclass(frozen=True)
class Write:
    """Fill the whole payload of ``slot`` with ``byte`` (skipped if the slot is NULL)."""

    slot: int
    byte: int


@dataclass(frozen=True)
class Submit:
    """bpf_ringbuf_submit(slot, flags) (skipped if the slot is NULL)."""

    slot: int
    flags: int = 0


@dataclass(frozen=True)
class Discard:
    """bpf_ringbuf_discard(slot, flags) (skipped if the slot is NULL)."""

    slot: int
    flags: int = 0


@dataclass(frozen=True)
class Output:
    """bpf_ringbuf_output(ring, buffer of ``size`` bytes all equal to ``byte``, size, flags)."""

    size: int
    byte: int
    flags: int = 0


@dataclass(frozen=True)
class Query:
    """bpf_ringbuf_query(ring, selector): AVAIL_DATA 0, RING_SIZE 1, CONS_POS 2, PROD_POS 3."""

    selector: int


Op = Reserve | Write | Submit | Discard | Output | Query
Script = Sequence[Op]


@dataclass(frozen=True)
class OpResult:
    """What one op did in the run.

    ``ok``: Reserve returned non-NULL; Write/Submit/Discard ran (their slot was
    non-NULL); Output and Query always ran.
    ``value``: Reserve: position of the record header (None when NULL);
    Output: the signed return code; Query: the returned u64; otherwise None.
    """

    op: Op
    ok: bool
    value: int | None = None


@dataclass(frozen=True)
class ScriptResult:
    """The per-op results of a run, in script order.

    ``auto_discarded`` lists the slots the script left holding a reservation;
    the generated program discards them (flags 0) after the last op, because
    the verifier refuses a program that can end with a reservation held.
    """

    results: tuple[OpResult, ...]
    auto_discarded: tuple[int, ...] = ()

    def __getitem__(self, index: int) -> OpResult:
        return self.results[index]

    def __len__(self) -> int:
        return len(self.results)

    def positions(self) -> list[int | None]:
        """Header position of each Reserve in script order (None for NULL)."""
        return [r.value for r in self.results if isinstance(r.op, Reserve)]


def _check_slot(index: int, op: Op) -> None:
    if not 0 <= op.slot < MAX_SLOTS:
        raise ValueError(f"op {index} {op}: slot must be in 0..{MAX_SLOTS - 1}")


def _check_byte(index: int, op: Write | Output) -> None:
    if not 0 <= op.byte <= 0xFF:
        raise ValueError(f"op {index} {op}: byte must be in 0..255")


def check_script(script: Script) -> tuple[int, ...]:
    """Validate ``script``; return the slots still held at its end (to be auto-discarded).

    Raises ValueError naming the first offending op.
    """
    held: dict[int, int] = {}
    for index, op in enumerate(script):
        if isinstance(op, Reserve):
            _check_slot(index, op)
            if op.slot in held:
                raise ValueError(f"op {index} {op}: slot {op.slot} already holds a reservation")
            held[op.slot] = op.size & U64_MASK
        elif isinstance(op, (Write, Submit, Discard)):
            _check_slot(index, op)
            if op.slot not in held:
                raise ValueError(f"op {index} {op}: slot {op.slot} holds no reservation")
            if isinstance(op, Write):
                _check_byte(index, op)
                if held[op.slot] > MAX_WRITE_SIZE:
                    raise ValueError(f"op {index} {op}: cannot fill more than {MAX_WRITE_SIZE:#x} bytes")
            else:
                del held[op.slot]
        elif isinstance(op, Output):
            _check_byte(index, op)
            if not 0 <= op.size <= MAX_OUTPUT_SIZE:
                raise ValueError(f"op {index} {op}: output size must be in 0..{MAX_OUTPUT_SIZE}")
        elif not isinstance(op, Query):
            raise TypeError(f"op {index}: {op!r} is not a script op")
    return tuple(sorted(held))


def reservation_position(size: int, producer_pos_after: int) -> int:
    """Header position of a reservation, from PROD_POS queried right after it."""
    return (producer_pos_after - record_length(size & U64_MASK)) & U64_MASK

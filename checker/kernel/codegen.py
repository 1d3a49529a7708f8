"""Translate a ``Script`` into the instructions of one BPF program.

Program shape (SOCKET_FILTER, run once with BPF_PROG_TEST_RUN):

- prologue: look up the results ARRAY value (key 0) and keep its address in
  r9, which survives helper calls;
- one block per op.  A reservation pointer is spilled to the stack word of
  its slot (r10 - 8 * (slot + 1)) and reloaded and NULL-checked by every op
  that uses it, so ops on a NULL slot jump over themselves.  The verifier
  tracks the spilled pointer, so each path through the NULL branches commits
  every non-NULL reservation exactly once;
- epilogue: discard the slots the script left holding, return 1.

Results: two u64 words per op at r9 + 16 * index: an ``ok`` flag and a value.
A reservation's position is not read from its pointer (that would leak a
kernel address); instead ``bpf_ringbuf_query(PROD_POS)`` runs right after each
reserve and the position is that value minus the record length.  This is
exact as long as no other CPU reserves on the same ring meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.kernel import insn as I
from checker.kernel.bpf import (
    BPF_FUNC_map_lookup_elem,
    BPF_FUNC_ringbuf_discard,
    BPF_FUNC_ringbuf_output,
    BPF_FUNC_ringbuf_query,
    BPF_FUNC_ringbuf_reserve,
    BPF_FUNC_ringbuf_submit,
    BPF_RB_PROD_POS,
)
from checker.kernel.script import (
    MAX_OUTPUT_SIZE,
    MAX_SLOTS,
    U64_MASK,
    Discard,
    Output,
    Query,
    Reserve,
    Script,
    Submit,
    Write,
    check_script,
)

RESULT_WORDS = 2  # per op: ok flag, value
RESULT_SLOTS_EXTRA = MAX_SLOTS  # result records after the ops, for the auto-discards
_RESULTS = I.R9  # holds the results value pointer for the whole program
_OUTPUT_BUFFER = -(8 * MAX_SLOTS + MAX_OUTPUT_SIZE)  # stack offset of the Output source bytes
_LOOKUP_KEY = _OUTPUT_BUFFER - 8  # stack offset of the results map key (u32 0)
_FILL_CHUNK = 0x4000  # bytes stored per cursor position (store offsets are 16-bit)


def _slot_offset(slot: int) -> int:
    return -8 * (slot + 1)


def _result_offset(index: int, word: int) -> int:
    return 8 * (RESULT_WORDS * index + word)


def _repeated(byte: int) -> int:
    return byte * 0x0101010101010101


def _fill(base: int, start: int, size: int, byte: int) -> list[I.Item]:
    """Store ``size`` copies of ``byte`` at base + start with the widest stores that fit.

    Store offsets are signed 16-bit, so a long fill walks a cursor (r3, a copy
    of ``base``) forward one chunk at a time.
    """
    items: list[I.Item] = [*I.ld_imm64(I.R2, _repeated(byte)), I.mov_reg(I.R3, base)]
    done = 0
    while done < size:
        chunk = min(size - done, _FILL_CHUNK)
        if done:
            items.append(I.add_imm(I.R3, _FILL_CHUNK))
        offset = 0
        for width in (8, 4, 2, 1):
            while chunk - offset >= width:
                items.append(I.stx(width, I.R3, start + offset, I.R2))
                offset += width
        done += chunk
    return items


def _mark_ok(index: int) -> I.Insn:
    return I.st(8, _RESULTS, _result_offset(index, 0), 1)


def _store_value(index: int) -> I.Insn:
    return I.stx(8, _RESULTS, _result_offset(index, 1), I.R0)


def _reload_slot(slot: int, skip: I.Label) -> list[I.Item]:
    """r1 = the slot's reservation; jump to ``skip`` if it is NULL."""
    return [I.ldx(8, I.R1, I.R10, _slot_offset(slot)), I.jump_if_zero(I.R1, skip)]


def _query(ring_fd: int, selector: int) -> list[I.Item]:
    return [*I.ld_map_fd(I.R1, ring_fd), *I.load_const(I.R2, selector), I.call(BPF_FUNC_ringbuf_query)]


def _reserve(index: int, op: Reserve, ring_fd: int) -> list[I.Item]:
    null = I.Label(f"op{index}_reserve_null")
    return [
        *I.ld_map_fd(I.R1, ring_fd),
        *I.load_const(I.R2, op.size & U64_MASK),
        *I.load_const(I.R3, op.flags & U64_MASK),
        I.call(BPF_FUNC_ringbuf_reserve),
        I.stx(8, I.R10, _slot_offset(op.slot), I.R0),
        I.jump_if_zero(I.R0, null),
        _mark_ok(index),
        null,
        *_query(ring_fd, BPF_RB_PROD_POS),
        _store_value(index),
    ]


def _write(index: int, op: Write, size: int) -> list[I.Item]:
    skip = I.Label(f"op{index}_write_skip")
    return [*_reload_slot(op.slot, skip), *_fill(I.R1, 0, size, op.byte), _mark_ok(index), skip]


def _commit(index: int, slot: int, flags: int, helper: int, name: str) -> list[I.Item]:
    skip = I.Label(f"op{index}_{name}_skip")
    return [
        *_reload_slot(slot, skip),
        *I.load_const(I.R2, flags & U64_MASK),
        I.call(helper),
        _mark_ok(index),
        skip,
    ]


def _output(index: int, op: Output, ring_fd: int) -> list[I.Item]:
    return [
        *_fill(I.R10, _OUTPUT_BUFFER, op.size, op.byte),
        *I.ld_map_fd(I.R1, ring_fd),
        I.mov_reg(I.R2, I.R10),
        I.add_imm(I.R2, _OUTPUT_BUFFER),
        I.mov_imm(I.R3, op.size),
        *I.load_const(I.R4, op.flags & U64_MASK),
        I.call(BPF_FUNC_ringbuf_output),
        _mark_ok(index),
        _store_value(index),
    ]


def _prologue(results_fd: int) -> list[I.Item]:
    found = I.Label("have_results")
    return [
        I.st(4, I.R10, _LOOKUP_KEY, 0),
        *I.ld_map_fd(I.R1, results_fd),
        I.mov_reg(I.R2, I.R10),
        I.add_imm(I.R2, _LOOKUP_KEY),
        I.call(BPF_FUNC_map_lookup_elem),
        I.jump_if_imm(I.BPF_JNE, I.R0, 0, found),
        I.exit_insn(),
        found,
        I.mov_reg(_RESULTS, I.R0),
    ]


@dataclass(frozen=True)
class GeneratedProgram:
    """The instructions (with labels, for ``insn.listing``) and the slots auto-discarded."""

    items: tuple[I.Item, ...]
    auto_discarded: tuple[int, ...]

    def listing(self) -> str:
        return I.listing(list(self.items))


def generate(script: Script, ring_fd: int, results_fd: int) -> GeneratedProgram:
    """Translate ``script`` into instructions using the given ring and results map fds."""
    leftover = check_script(script)
    sizes: dict[int, int] = {}
    items = _prologue(results_fd)
    for index, op in enumerate(script):
        if isinstance(op, Reserve):
            sizes[op.slot] = op.size & U64_MASK
            items += _reserve(index, op, ring_fd)
        elif isinstance(op, Write):
            items += _write(index, op, sizes[op.slot])
        elif isinstance(op, Submit):
            items += _commit(index, op.slot, op.flags, BPF_FUNC_ringbuf_submit, "submit")
        elif isinstance(op, Discard):
            items += _commit(index, op.slot, op.flags, BPF_FUNC_ringbuf_discard, "discard")
        elif isinstance(op, Output):
            items += _output(index, op, ring_fd)
        elif isinstance(op, Query):
            items += [*_query(ring_fd, op.selector & U64_MASK), _mark_ok(index), _store_value(index)]
    for slot in leftover:
        items += _commit(len(script) + slot, slot, 0, BPF_FUNC_ringbuf_discard, "auto_discard")
    items += [I.mov_imm(I.R0, 1), I.exit_insn()]
    return GeneratedProgram(tuple(items), leftover)

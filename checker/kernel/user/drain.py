"""A BPF program that drains a user ring buffer and records what its callback saw.

One program run is one ``bpf_user_ringbuf_drain(ring, callback, NULL, flags)``
call.  Two small maps carry everything in and out:

- ``control`` (ARRAY, one 32-byte value): the callback counter, the drain's
  return value, the flags the drain is called with, and a bit mask whose bit i
  is what the callback returns for the i-th sample it is handed (0 beyond
  bit 63; a 1 makes the kernel stop the drain);
- ``samples`` (mmap-able ARRAY of ``MAX_USER_RINGBUF_SAMPLES`` entries of 16
  bytes): entry i is the i-th sample's length and its first payload word (its
  first ``min(length, 8)`` bytes, zero-padded), read back through one mmap.

The callback receives only a dynptr.  No helper tells a dynptr's size, so the
callback measures it with ``bpf_dynptr_read`` of one byte, which fails past
the end: 24 probes, highest bit first, branch-free so that the verifier walks
one path (a dynptr holds at most 2**24 - 1 bytes).
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass

from checker.kernel import insn as I
from checker.kernel.bpf import (BPF_FUNC_map_lookup_elem, BPF_MAP_TYPE_ARRAY, BPF_PROG_TYPE_SOCKET_FILTER, Map,
                                Program, create_map)
from checker.kernel.user.btf import load_with_subprograms
from checker.kernel.user.usermap import UserRingMap

BPF_FUNC_dynptr_read = 201
BPF_FUNC_user_ringbuf_drain = 209
BPF_F_MMAPABLE = 1 << 10
BPF_PSEUDO_FUNC = 4
MAX_USER_RINGBUF_SAMPLES = 131072  # BPF_MAX_USER_RINGBUF_SAMPLES: samples one drain may handle
DYNPTR_SIZE_BITS = 24
RETURN_MASK_BITS = 64

_CONTROL = struct.Struct("<QqQQ")  # count, drain return value, flags, callback return mask
_COUNT, _RET, _FLAGS, _RETURNS = 0, 8, 16, 24
_SAMPLE_WORDS = 2
_KEY, _WORD_BUF = -4, -16  # stack offsets: map key (u32), the first payload word


@dataclass(frozen=True)
class DrainObservation:
    """What one drain did: its return value and each sample handed to the callback, in order."""

    ret: int
    samples: tuple[tuple[int, int], ...]
    """(length, first payload word) per callback call."""


def _lookup(map_fd: int, found: I.Label | None = None) -> list[I.Item]:
    """r0 = lookup(map, key at r10 + _KEY)."""
    return [*I.ld_map_fd(I.R1, map_fd), I.mov_reg(I.R2, I.R10), I.add_imm(I.R2, _KEY),
            I.call(BPF_FUNC_map_lookup_elem)]


def _dynptr_read(length_reg: int | None, offset_reg: int | None) -> list[I.Item]:
    """r0 = bpf_dynptr_read(r10 + _WORD_BUF, length, dynptr r7, offset, 0)."""
    return [I.mov_reg(I.R1, I.R10), I.add_imm(I.R1, _WORD_BUF),
            I.mov_reg(I.R2, length_reg) if length_reg is not None else I.mov_imm(I.R2, 1),
            I.mov_reg(I.R3, I.R7),
            I.mov_reg(I.R4, offset_reg) if offset_reg is not None else I.mov_imm(I.R4, 0),
            I.mov_imm(I.R5, 0), I.call(BPF_FUNC_dynptr_read)]


def _measure_size() -> list[I.Item]:
    """r8 = the dynptr's size: for each bit from the top, keep it if the byte at r8 + bit - 1 is readable."""
    items: list[I.Item] = [I.mov_imm(I.R8, 0)]
    for bit in reversed(range(DYNPTR_SIZE_BITS)):
        items += [I.mov_reg(I.R9, I.R8), I.add_imm(I.R9, (1 << bit) - 1), *_dynptr_read(None, I.R9),
                  I.alu_imm(I.BPF_RSH, I.R0, 63), I.alu_imm(I.BPF_XOR, I.R0, 1), I.alu_imm(I.BPF_LSH, I.R0, bit),
                  I.alu_reg(I.BPF_ADD, I.R8, I.R0)]
    return items


def _callback(control_fd: int, samples_fd: int) -> list[I.Item]:
    """long cb(struct bpf_dynptr *sample, void *ctx): record (size, first word), return the mask's bit."""
    give_up, clamp, read, no_entry, out = (I.Label(n) for n in ("cb_give_up", "cb_clamp", "cb_read",
                                                                "cb_no_entry", "cb_out"))
    return [
        I.mov_reg(I.R7, I.R1),
        I.st(4, I.R10, _KEY, 0),
        *_lookup(control_fd),
        I.jump_if_zero(I.R0, give_up),
        I.mov_reg(I.R6, I.R0),
        *_measure_size(),
        I.st(8, I.R10, _WORD_BUF, 0),
        I.jump_if_imm(I.BPF_JGT, I.R8, 8, clamp),
        I.mov_reg(I.R2, I.R8),
        I.jump(read),
        clamp,
        I.mov_imm(I.R2, 8),
        read,
        I.mov_reg(I.R9, I.R2),
        *_dynptr_read(I.R9, None),
        I.ldx(8, I.R9, I.R6, _COUNT),
        I.stx(4, I.R10, _KEY, I.R9),
        *_lookup(samples_fd),
        I.jump_if_zero(I.R0, no_entry),
        I.stx(8, I.R0, 0, I.R8),
        I.ldx(8, I.R1, I.R10, _WORD_BUF),
        I.stx(8, I.R0, 8, I.R1),
        no_entry,
        I.mov_reg(I.R1, I.R9),
        I.add_imm(I.R1, 1),
        I.stx(8, I.R6, _COUNT, I.R1),
        I.mov_imm(I.R0, 0),
        I.jump_if_imm(I.BPF_JGT, I.R9, RETURN_MASK_BITS - 1, out),
        I.ldx(8, I.R0, I.R6, _RETURNS),
        I.alu_reg(I.BPF_RSH, I.R0, I.R9),
        I.alu_imm(I.BPF_AND, I.R0, 1),
        out,
        I.exit_insn(),
        give_up,
        I.mov_imm(I.R0, 0),
        I.exit_insn(),
    ]


def _main(control_fd: int, ring_fd: int) -> list[I.Item]:
    """r0 = bpf_user_ringbuf_drain(ring, cb, NULL, control.flags); control.ret = r0."""
    found = I.Label("have_control")
    return [
        I.st(4, I.R10, _KEY, 0),
        *_lookup(control_fd),
        I.jump_if_imm(I.BPF_JNE, I.R0, 0, found),
        I.exit_insn(),
        found,
        I.mov_reg(I.R6, I.R0),
        *I.ld_map_fd(I.R1, ring_fd),
        I.Insn(I.BPF_LD | I.BPF_DW | I.BPF_IMM, I.R2, BPF_PSEUDO_FUNC, 0, 0),  # the callback's address, patched
        I.Insn(0),
        I.mov_imm(I.R3, 0),
        I.ldx(8, I.R4, I.R6, _FLAGS),
        I.call(BPF_FUNC_user_ringbuf_drain),
        I.stx(8, I.R6, _RET, I.R0),
        I.mov_imm(I.R0, 1),
        I.exit_insn(),
    ]


def drain_program(ring_fd: int, control_fd: int, samples_fd: int) -> tuple[bytes, int]:
    """The encoded program (main then callback) and the callback's first instruction index."""
    main = I.resolve(I.flatten(_main(control_fd, ring_fd)))
    callback = I.resolve(I.flatten(_callback(control_fd, samples_fd)))
    start = len(main)
    patch = next(i for i, insn in enumerate(main) if insn.src == BPF_PSEUDO_FUNC and insn.code == I.BPF_LD | I.BPF_DW)
    main[patch] = I.Insn(main[patch].code, I.R2, BPF_PSEUDO_FUNC, 0, start - (patch + 1))
    return b"".join(insn.encode() for insn in main + callback), start


def return_mask(callback_returns: tuple[int, ...]) -> int:
    """The control word for ``callback_returns`` (the i-th sample's return; 0 past the end)."""
    if len(callback_returns) > RETURN_MASK_BITS or any(r not in (0, 1) for r in callback_returns):
        raise ValueError(f"callback returns must be at most {RETURN_MASK_BITS} values, each 0 or 1")
    return sum(r << i for i, r in enumerate(callback_returns))


class DrainRecorder:
    """The control and samples maps, shared by the drain programs of many rings."""

    def __init__(self) -> None:
        self.control: Map = create_map(BPF_MAP_TYPE_ARRAY, 4, _CONTROL.size, 1)
        self.samples: Map | None = None
        self._view: mmap.mmap | None = None
        try:
            self.samples = create_map(BPF_MAP_TYPE_ARRAY, 4, 8 * _SAMPLE_WORDS, MAX_USER_RINGBUF_SAMPLES,
                                      BPF_F_MMAPABLE)
            self._view = mmap.mmap(self.samples.fd, 8 * _SAMPLE_WORDS * MAX_USER_RINGBUF_SAMPLES, mmap.MAP_SHARED,
                                   mmap.PROT_READ, offset=0)
        except BaseException:
            self.close()
            raise

    def program(self, ring: UserRingMap) -> DrainProgram:
        """Load a drain program for ``ring`` that records into these maps."""
        return DrainProgram(self, ring)

    def arm(self, flags: int, callback_returns: tuple[int, ...]) -> None:
        self.control.update(bytes(4), _CONTROL.pack(0, 0, flags & ((1 << 64) - 1), return_mask(callback_returns)))

    def read(self) -> DrainObservation:
        count, ret, _, _ = _CONTROL.unpack(self.control.lookup(bytes(4)))
        recorded = min(count, MAX_USER_RINGBUF_SAMPLES)
        assert self._view is not None
        words = struct.unpack_from(f"<{_SAMPLE_WORDS * recorded}Q", self._view, 0)
        return DrainObservation(ret, tuple(zip(words[0::2], words[1::2])))

    def close(self) -> None:
        if getattr(self, "_view", None) is not None:
            self._view.close()
            self._view = None
        for name in ("samples", "control"):
            owned = getattr(self, name, None)
            if owned is not None:
                owned.close()

    def __enter__(self) -> DrainRecorder:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class DrainProgram:
    """A loaded drain program for one ring; ``run`` is one bpf_user_ringbuf_drain call."""

    def __init__(self, recorder: DrainRecorder, ring: UserRingMap) -> None:
        assert recorder.samples is not None
        self.recorder = recorder
        code, start = drain_program(ring.fd, recorder.control.fd, recorder.samples.fd)
        self.program: Program = load_with_subprograms(BPF_PROG_TYPE_SOCKET_FILTER, code,
                                                      {"drain_main": 0, "drain_cb": start}, name="ringcheck_drain")

    def run(self, flags: int = 0, callback_returns: tuple[int, ...] = ()) -> DrainObservation:
        """Drain once with ``flags``; the callback returns ``callback_returns[i]`` for the i-th sample."""
        self.recorder.arm(flags, callback_returns)
        retval = self.program.test_run()
        if retval != 1:
            raise RuntimeError(f"drain program returned {retval}, expected 1 (control map lookup failed?)")
        return self.recorder.read()

    def close(self) -> None:
        self.program.close()

    def __enter__(self) -> DrainProgram:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

"""The assembler's encoding; needs no kernel."""

from __future__ import annotations

import struct

import pytest

from checker.kernel import insn as I
from checker.kernel.bpf import BPF_FUNC_ringbuf_submit


def test_encoding_is_opcode_regs_off_imm():
    assert I.mov_imm(I.R0, 1).encode() == struct.pack("<BBhi", 0xB7, 0x00, 0, 1)
    assert I.stx(8, I.R10, -8, I.R0).encode() == struct.pack("<BBhi", 0x7B, 0x0A, -8, 0)
    assert I.ldx(4, I.R1, I.R10, -4).encode() == struct.pack("<BBhi", 0x61, 0xA1, -4, 0)
    assert I.call(BPF_FUNC_ringbuf_submit).encode() == struct.pack("<BBhi", 0x85, 0, 0, 132)
    assert I.exit_insn().encode() == struct.pack("<BBhi", 0x95, 0, 0, 0)


def test_ld_imm64_splits_the_constant_over_two_slots():
    low, high = I.ld_imm64(I.R2, 0x1122334455667788)
    assert low.encode() == struct.pack("<BBhi", 0x18, 0x02, 0, 0x55667788)
    assert high.encode() == struct.pack("<BBhi", 0, 0, 0, 0x11223344)
    low, _ = I.ld_map_fd(I.R1, 7)
    assert low.encode() == struct.pack("<BBhi", 0x18, 0x11, 0, 7)


def test_load_const_uses_the_short_form_only_when_sign_extension_is_harmless():
    assert len(I.load_const(I.R2, 16)) == 1
    assert len(I.load_const(I.R2, -1)) == 1
    assert len(I.load_const(I.R2, 0xFFFFFFFF)) == 2
    assert len(I.load_const(I.R2, 1 << 40)) == 2


def test_labels_resolve_to_relative_offsets_counting_wide_instructions():
    skip = I.Label("skip")
    items = I.flatten(I.jump_if_zero(I.R1, skip), I.ld_imm64(I.R2, 5), I.mov_imm(I.R0, 0), skip, I.exit_insn())
    code = I.assemble(items)
    assert struct.unpack_from("<BBhi", code, 0)[2] == 3
    assert "goto skip" in I.listing(items)
    assert "r2 = 0x5 ll" in I.listing(items)


def test_unplaced_label_is_an_error():
    with pytest.raises(ValueError, match="unplaced"):
        I.assemble([I.jump(I.Label("nowhere")), I.exit_insn()])

"""A tiny BPF instruction assembler, enough for the ring buffer scripts.

An instruction is 8 bytes: opcode, then ``(src << 4) | dst`` register nibbles,
a signed 16-bit offset and a signed 32-bit immediate (``struct`` format
``<BBhi``).  The helpers below build ``Insn`` values whose names read like the
operation (``mov_imm(R1, 0)``, ``call(BPF_FUNC_ringbuf_submit)``); jumps may
name a ``Label`` instead of a numeric offset, and ``assemble`` resolves labels.
``listing`` turns a program back into readable text for error messages.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from checker.kernel import bpf

# Registers: R0 return value, R1-R5 call arguments (clobbered by calls),
# R6-R9 callee-saved, R10 read-only frame pointer.
R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = range(11)

# Instruction classes (low 3 bits of the opcode).
BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_JMP32, BPF_ALU64 = range(8)

# Memory access sizes and modes.
BPF_W, BPF_H, BPF_B, BPF_DW = 0x00, 0x08, 0x10, 0x18
BPF_IMM, BPF_MEM = 0x00, 0x60

# Operand source: immediate (K) or register (X).
BPF_K, BPF_X = 0x00, 0x08

# ALU operations.
BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50
BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH = 0x60, 0x70, 0x80, 0x90, 0xA0, 0xB0, 0xC0

# Jump operations.
BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50
BPF_CALL, BPF_EXIT = 0x80, 0x90

# ld_imm64 source markers.
BPF_PSEUDO_MAP_FD = 1

HELPER_NAMES = {getattr(bpf, name): name.removeprefix("BPF_FUNC_")
                for name in dir(bpf) if name.startswith("BPF_FUNC_")}
_SIZE_BYTES = {1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW}
_SIZE_NAMES = {BPF_B: "u8", BPF_H: "u16", BPF_W: "u32", BPF_DW: "u64"}
_ALU_NAMES = {BPF_ADD: "+=", BPF_SUB: "-=", BPF_MUL: "*=", BPF_OR: "|=", BPF_AND: "&=", BPF_XOR: "^=",
              BPF_LSH: "<<=", BPF_RSH: ">>=", BPF_MOV: "="}
_JMP_NAMES = {BPF_JEQ: "==", BPF_JNE: "!=", BPF_JGT: ">", BPF_JGE: ">=", BPF_JSET: "&"}


@dataclass(frozen=True)
class Label:
    """A jump target; place it in the instruction list where it should point."""

    name: str


@dataclass(frozen=True)
class Insn:
    """One 8-byte instruction; ``off`` may be a Label until ``assemble`` resolves it."""

    code: int
    dst: int = 0
    src: int = 0
    off: int | Label = 0
    imm: int = 0

    def encode(self) -> bytes:
        if isinstance(self.off, Label):
            raise ValueError(f"unresolved label {self.off.name}")
        return struct.pack("<BBhi", self.code, (self.src << 4) | self.dst, self.off, self.imm)


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def fits_imm32(value: int) -> bool:
    """True if ``mov_imm`` (sign-extending a 32-bit immediate) can load ``value``."""
    return -(1 << 31) <= value < (1 << 31)


def ld_imm64(dst: int, value: int) -> tuple[Insn, Insn]:
    """dst = value (any 64-bit constant); takes two instruction slots."""
    value &= (1 << 64) - 1
    return (Insn(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, _signed32(value)),
            Insn(0, 0, 0, 0, _signed32(value >> 32)))


def ld_map_fd(dst: int, map_fd: int) -> tuple[Insn, Insn]:
    """dst = pointer to the map whose fd is ``map_fd`` (the loader swaps fd for map)."""
    return (Insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, map_fd), Insn(0))


def load_const(dst: int, value: int) -> tuple[Insn, ...]:
    """dst = value, with the short form when the value fits a signed 32-bit immediate."""
    if fits_imm32(value):
        return (mov_imm(dst, value),)
    return ld_imm64(dst, value)


def mov_imm(dst: int, imm: int) -> Insn:
    """dst = imm (64-bit register, immediate sign-extended)."""
    return Insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)


def mov_reg(dst: int, src: int) -> Insn:
    """dst = src."""
    return Insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src)


def alu_imm(op: int, dst: int, imm: int) -> Insn:
    """dst <op>= imm, 64-bit (e.g. ``alu_imm(BPF_ADD, R2, -8)``)."""
    return Insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm)


def alu_reg(op: int, dst: int, src: int) -> Insn:
    """dst <op>= src, 64-bit."""
    return Insn(BPF_ALU64 | op | BPF_X, dst, src)


def add_imm(dst: int, imm: int) -> Insn:
    """dst += imm."""
    return alu_imm(BPF_ADD, dst, imm)


def ldx(size: int, dst: int, src: int, off: int) -> Insn:
    """dst = *(size bytes *)(src + off); ``size`` in bytes (1, 2, 4 or 8)."""
    return Insn(BPF_LDX | BPF_MEM | _SIZE_BYTES[size], dst, src, off)


def stx(size: int, dst: int, off: int, src: int) -> Insn:
    """*(size bytes *)(dst + off) = src."""
    return Insn(BPF_STX | BPF_MEM | _SIZE_BYTES[size], dst, src, off)


def st(size: int, dst: int, off: int, imm: int) -> Insn:
    """*(size bytes *)(dst + off) = imm."""
    return Insn(BPF_ST | BPF_MEM | _SIZE_BYTES[size], dst, 0, off, imm)


def jump(target: int | Label) -> Insn:
    """goto target."""
    return Insn(BPF_JMP | BPF_JA, off=target)


def jump_if_imm(op: int, dst: int, imm: int, target: int | Label) -> Insn:
    """if dst <op> imm goto target (e.g. ``jump_if_imm(BPF_JEQ, R0, 0, null)``)."""
    return Insn(BPF_JMP | op | BPF_K, dst, 0, target, imm)


def jump_if_zero(dst: int, target: int | Label) -> Insn:
    """if dst == 0 goto target: the NULL check every reserved pointer needs."""
    return jump_if_imm(BPF_JEQ, dst, 0, target)


def call(helper: int) -> Insn:
    """r0 = helper(r1, ..., r5); r1-r5 are clobbered afterwards."""
    return Insn(BPF_JMP | BPF_CALL, imm=helper)


def exit_insn() -> Insn:
    """return r0."""
    return Insn(BPF_JMP | BPF_EXIT)


Item = Insn | Label


def flatten(*parts: Item | tuple | list) -> list[Item]:
    """Flatten nested tuples/lists of instructions and labels into one list."""
    items: list[Item] = []
    for part in parts:
        if isinstance(part, (Insn, Label)):
            items.append(part)
        else:
            items.extend(flatten(*part))
    return items


def resolve(items: list[Item]) -> list[Insn]:
    """Drop labels and turn label jump targets into relative offsets."""
    where: dict[Label, int] = {}
    index = 0
    for item in items:
        if isinstance(item, Label):
            if item in where:
                raise ValueError(f"label {item.name} placed twice")
            where[item] = index
        else:
            index += 1
    insns: list[Insn] = []
    for item in items:
        if isinstance(item, Label):
            continue
        if isinstance(item.off, Label):
            if item.off not in where:
                raise ValueError(f"jump to unplaced label {item.off.name}")
            offset = where[item.off] - (len(insns) + 1)
            item = Insn(item.code, item.dst, item.src, offset, item.imm)
        insns.append(item)
    return insns


def assemble(items: list[Item]) -> bytes:
    """Encode a list of instructions and labels into program bytes."""
    return b"".join(insn.encode() for insn in resolve(items))


def describe(insn: Insn) -> str:
    """A one-line human reading of the common instruction forms."""
    cls, op = insn.code & 0x07, insn.code & 0xF0
    target = insn.off.name if isinstance(insn.off, Label) else f"{insn.off:+d}"
    size = _SIZE_NAMES.get(insn.code & 0x18, "?")
    src_is_reg = insn.code & BPF_X
    if insn.code == 0:
        return f"(second half of ld_imm64: {insn.imm & 0xFFFFFFFF:#x})"
    if insn.code == BPF_LD | BPF_DW | BPF_IMM:
        if insn.src == BPF_PSEUDO_MAP_FD:
            return f"r{insn.dst} = map_fd({insn.imm}) ll"
        return f"r{insn.dst} = {insn.imm & 0xFFFFFFFF:#x} (low half of ld_imm64)"
    if cls == BPF_ALU64 and op in _ALU_NAMES:
        operand = f"r{insn.src}" if src_is_reg else str(insn.imm)
        return f"r{insn.dst} {_ALU_NAMES[op]} {operand}"
    if cls == BPF_LDX:
        return f"r{insn.dst} = *({size} *)(r{insn.src} {insn.off:+d})"
    if cls == BPF_STX:
        return f"*({size} *)(r{insn.dst} {insn.off:+d}) = r{insn.src}"
    if cls == BPF_ST:
        return f"*({size} *)(r{insn.dst} {insn.off:+d}) = {insn.imm}"
    if cls == BPF_JMP and op == BPF_CALL:
        return f"call {HELPER_NAMES.get(insn.imm, f'helper#{insn.imm}')}"
    if cls == BPF_JMP and op == BPF_EXIT:
        return "exit"
    if cls == BPF_JMP and op == BPF_JA:
        return f"goto {target}"
    if cls == BPF_JMP and op in _JMP_NAMES:
        operand = f"r{insn.src}" if src_is_reg else str(insn.imm)
        return f"if r{insn.dst} {_JMP_NAMES[op]} {operand} goto {target}"
    return f"code={insn.code:#04x} dst=r{insn.dst} src=r{insn.src} off={insn.off} imm={insn.imm}"


def listing(items: list[Item]) -> str:
    """The numbered text of a program, one instruction a line, labels shown.

    The two slots of an ld_imm64 are shown as one line with the full constant.
    """
    lines: list[str] = []
    index = 0
    previous: Insn | None = None
    for item in items:
        if isinstance(item, Label):
            lines.append(f"{item.name}:")
            continue
        wide_constant = (previous is not None and previous.code == BPF_LD | BPF_DW | BPF_IMM
                         and previous.src == 0 and item.code == 0)
        if wide_constant:
            value = ((item.imm & 0xFFFFFFFF) << 32) | (previous.imm & 0xFFFFFFFF)
            lines[-1] = f"{index - 1:5d}: r{previous.dst} = {value:#x} ll"
        elif not (previous is not None and previous.code == BPF_LD | BPF_DW | BPF_IMM and item.code == 0):
            lines.append(f"{index:5d}: {describe(item)}")
        previous = item
        index += 1
    return "\n".join(lines)

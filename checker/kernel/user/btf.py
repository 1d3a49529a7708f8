"""The smallest BTF a program with callbacks needs, and a program load that passes it.

``bpf_user_ringbuf_drain`` takes a callback, i.e. a BPF-to-BPF subprogram
whose address is loaded with ``ld_imm64`` (src 4).  The verifier only accepts
such a program when every subprogram is described by BTF ``func_info``: one
record per subprogram naming a FUNC type.  Measured here (../shared/KERNEL.md):
the description can be minimal, an INT ``int``, one FUNC_PROTO ``() -> int``
and one static FUNC per subprogram; a global callback is refused.

``checker.kernel.bpf.load_program`` has no BTF fields, so this module builds
the PROG_LOAD attribute itself with the layout KERNEL.md lists.
"""

from __future__ import annotations

import ctypes
import os
import struct

from checker.kernel.bpf import BPF_ATTR_SIZE, BPF_PROG_LOAD, BpfError, BpfFd, Program, bpf

BPF_BTF_LOAD = 18
BTF_MAGIC = 0xEB9F
BTF_KIND_INT, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO = 1, 12, 13
BTF_INT_SIGNED = 1
BTF_FUNC_STATIC = 0
FUNC_INFO_REC_SIZE = 8  # struct bpf_func_info: insn_off, type_id
_INT_TYPE_ID, _PROTO_TYPE_ID = 1, 2
_LOG_SIZE = 1 << 20


def _info(kind: int, vlen: int = 0) -> int:
    return (kind << 24) | vlen


def btf_blob(function_names: list[str]) -> bytes:
    """BTF: ``int``, ``int (void)``, then one static FUNC per name (type ids 3, 4, ...)."""
    strings = b"\0"
    offsets = {}
    for name in ["int", *function_names]:
        offsets[name] = len(strings)
        strings += name.encode() + b"\0"
    types = struct.pack("<IIII", offsets["int"], _info(BTF_KIND_INT), 4, (BTF_INT_SIGNED << 24) | 32)
    types += struct.pack("<III", 0, _info(BTF_KIND_FUNC_PROTO), _INT_TYPE_ID)
    for name in function_names:
        types += struct.pack("<III", offsets[name], _info(BTF_KIND_FUNC, BTF_FUNC_STATIC), _PROTO_TYPE_ID)
    header = struct.pack("<HBBIIIII", BTF_MAGIC, 1, 0, 24, 0, len(types), len(types), len(strings))
    return header + types + strings


class Btf(BpfFd):
    """A loaded BTF object."""

    kind = "btf object"


def load_btf(blob: bytes) -> Btf:
    """BTF_LOAD ``blob``; BpfError with the kernel's log when it is refused."""
    data = ctypes.create_string_buffer(blob, len(blob))
    log = ctypes.create_string_buffer(_LOG_SIZE)
    attr = ctypes.create_string_buffer(BPF_ATTR_SIZE)
    struct.pack_into("<QQIII", attr, 0, ctypes.addressof(data), ctypes.addressof(log), len(blob), _LOG_SIZE, 1)
    try:
        return Btf(bpf(BPF_BTF_LOAD, attr))
    except BpfError as refused:
        raise BpfError(refused.errno, f"BTF load failed: {os.strerror(refused.errno)}\n{log.value.decode()}",
                       log.value.decode()) from None


def load_with_subprograms(prog_type: int, insns: bytes, starts: dict[str, int], name: str = "ringcheck_user") -> Program:
    """Load ``insns`` whose subprograms begin at the instruction indexes ``starts`` (name -> index).

    The first entry must be the main program at index 0.  On refusal the load
    is repeated with a verifier log, whose tail ends the BpfError message.
    """
    ordered = sorted(starts.items(), key=lambda item: item[1])
    if not ordered or ordered[0][1] != 0:
        raise ValueError("the main program must start at instruction 0")
    with load_btf(btf_blob([fn for fn, _ in ordered])) as btf:
        records = b"".join(struct.pack("<II", start, 3 + i) for i, (_, start) in enumerate(ordered))
        try:
            return _load(prog_type, insns, btf.fd, records, len(ordered), name, with_log=False)
        except BpfError:
            return _load(prog_type, insns, btf.fd, records, len(ordered), name, with_log=True)


def _load(prog_type: int, insns: bytes, btf_fd: int, records: bytes, count: int, name: str, with_log: bool) -> Program:
    code = ctypes.create_string_buffer(insns, len(insns))
    license_text = ctypes.create_string_buffer(b"GPL")
    func_info = ctypes.create_string_buffer(records, len(records))
    log = ctypes.create_string_buffer(_LOG_SIZE) if with_log else None
    attr = ctypes.create_string_buffer(BPF_ATTR_SIZE)
    struct.pack_into("<IIQQIIQ", attr, 0, prog_type, len(insns) // 8, ctypes.addressof(code),
                     ctypes.addressof(license_text), 1 if log else 0, _LOG_SIZE if log else 0,
                     ctypes.addressof(log) if log else 0)
    struct.pack_into("16s", attr, 48, name.encode()[:15])
    struct.pack_into("<IIQI", attr, 72, btf_fd, FUNC_INFO_REC_SIZE, ctypes.addressof(func_info), count)
    try:
        fd = bpf(BPF_PROG_LOAD, attr)
    except BpfError as refused:
        text = log.value.decode(errors="replace") if log else ""
        tail = "\n".join(text.rstrip("\n").splitlines()[-40:])
        raise BpfError(refused.errno, f"prog load failed: {os.strerror(refused.errno)}"
                       + (f"\nverifier log (tail):\n{tail}" if tail else ""), text) from None
    return Program(fd, prog_type, len(insns) // 8)

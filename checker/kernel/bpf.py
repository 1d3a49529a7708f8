"""The bpf() system call through ctypes: maps, program load and test runs.

Everything here is a thin, typed layer over the raw syscall so that the rest of
``checker.kernel`` never touches ``union bpf_attr`` offsets.  Every file
descriptor the kernel hands out is wrapped in a ``BpfFd`` so that callers close
it explicitly (or with ``with``); a descriptor that is garbage-collected while
still open is closed and reported with a ``ResourceWarning``, like Python files.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import warnings

# bpf() system call numbers by machine (the only one measured is x86_64).
_SYSCALL_NR = {"x86_64": 321, "aarch64": 280}
BPF_ATTR_SIZE = 144  # size of union bpf_attr passed to the kernel

# Commands.
BPF_MAP_CREATE = 0
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_UPDATE_ELEM = 2
BPF_PROG_LOAD = 5
BPF_PROG_TEST_RUN = 10

# Map types.
BPF_MAP_TYPE_ARRAY = 2
BPF_MAP_TYPE_RINGBUF = 27
BPF_MAP_TYPE_USER_RINGBUF = 31

# Program types.
BPF_PROG_TYPE_SOCKET_FILTER = 1
BPF_PROG_TYPE_SCHED_CLS = 3
BPF_PROG_TYPE_XDP = 6
BPF_PROG_TYPE_RAW_TRACEPOINT = 17
BPF_PROG_TYPE_SYSCALL = 31

# Flags for map updates.
BPF_ANY = 0

# Helper function ids.
BPF_FUNC_map_lookup_elem = 1
BPF_FUNC_ringbuf_output = 130
BPF_FUNC_ringbuf_reserve = 131
BPF_FUNC_ringbuf_submit = 132
BPF_FUNC_ringbuf_discard = 133
BPF_FUNC_ringbuf_query = 134
BPF_FUNC_loop = 181

# Ring buffer helper flags and query selectors.
BPF_RB_NO_WAKEUP = 1
BPF_RB_FORCE_WAKEUP = 2
BPF_RB_AVAIL_DATA = 0
BPF_RB_RING_SIZE = 1
BPF_RB_CONS_POS = 2
BPF_RB_PROD_POS = 3

# Record header bits (in the 32-bit len word).
BPF_RINGBUF_BUSY_BIT = 1 << 31
BPF_RINGBUF_DISCARD_BIT = 1 << 30
BPF_RINGBUF_HDR_SZ = 8

# SOCKET_FILTER and XDP test runs need at least an Ethernet header of input.
MIN_PACKET_SIZE = 14

_VERIFIER_LOG_SIZE = 1 << 20
_LOG_TAIL_LINES = 40


class BpfUnavailable(Exception):
    """bpf() is refused here (no privilege, disabled, or not implemented)."""


class BpfError(OSError):
    """A bpf() command failed for a reason other than missing privilege.

    ``log`` holds the verifier log when a program load failed.
    """

    def __init__(self, err: int, message: str, log: str = "") -> None:
        super().__init__(err, message)
        self.log = log

    def __str__(self) -> str:
        return self.strerror or ""


def _errno_name(err: int) -> str:
    return errno.errorcode.get(err, str(err))


def _refusal_reason(err: int) -> str | None:
    """The one-line reason to give when ``err`` means bpf() is not usable at all."""
    if err == errno.EPERM:
        return "bpf() not permitted: EPERM (needs root or CAP_BPF)"
    if err == errno.ENOSYS:
        return "bpf() not implemented by this kernel: ENOSYS"
    return None


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _syscall_nr() -> int:
    machine = platform.machine()
    if machine not in _SYSCALL_NR:
        raise BpfUnavailable(f"bpf() syscall number unknown for machine {machine!r}")
    return _SYSCALL_NR[machine]


def bpf(cmd: int, attr: ctypes.Array) -> int:
    """Issue one bpf() command; return its non-negative result or raise.

    Raises ``BpfUnavailable`` when the kernel refuses bpf() itself (EPERM,
    ENOSYS) and ``BpfError`` for every other failure.
    """
    result = _libc.syscall(_syscall_nr(), ctypes.c_int(cmd), attr, ctypes.c_uint(BPF_ATTR_SIZE))
    if result >= 0:
        return int(result)
    err = ctypes.get_errno()
    reason = _refusal_reason(err)
    if reason is not None:
        raise BpfUnavailable(reason)
    raise BpfError(err, f"bpf(cmd={cmd}) failed: {_errno_name(err)} ({os.strerror(err)})")


def _new_attr() -> ctypes.Array:
    return ctypes.create_string_buffer(BPF_ATTR_SIZE)


def _address(buffer: ctypes.Array | None) -> int:
    return ctypes.addressof(buffer) if buffer is not None else 0


class BpfFd:
    """Owns one kernel file descriptor (map or program); closes it exactly once."""

    kind = "bpf object"

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @property
    def fd(self) -> int:
        if self._fd is None:
            raise ValueError(f"{self.kind} is closed")
        return self._fd

    @property
    def closed(self) -> bool:
        return self._fd is None

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            warnings.warn(f"unclosed {self.kind} fd {self._fd}", ResourceWarning, stacklevel=2)
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self._fd is None else f"fd={self._fd}"
        return f"<{type(self).__name__} {state}>"


class Map(BpfFd):
    """A BPF map; remembers its shape so lookups can size their buffers."""

    kind = "bpf map"

    def __init__(self, fd: int, map_type: int, key_size: int, value_size: int, max_entries: int) -> None:
        super().__init__(fd)
        self.map_type = map_type
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries

    def lookup(self, key: bytes) -> bytes:
        """Return the value stored under ``key`` (raises BpfError ENOENT if absent)."""
        key_buf = ctypes.create_string_buffer(bytes(key), self.key_size)
        value_buf = ctypes.create_string_buffer(self.value_size)
        attr = _new_attr()
        struct.pack_into("<IxxxxQQ", attr, 0, self.fd, _address(key_buf), _address(value_buf))
        bpf(BPF_MAP_LOOKUP_ELEM, attr)
        return value_buf.raw

    def update(self, key: bytes, value: bytes, flags: int = BPF_ANY) -> None:
        """Store ``value`` under ``key``."""
        key_buf = ctypes.create_string_buffer(bytes(key), self.key_size)
        value_buf = ctypes.create_string_buffer(bytes(value), self.value_size)
        attr = _new_attr()
        struct.pack_into("<IxxxxQQQ", attr, 0, self.fd, _address(key_buf), _address(value_buf), flags)
        bpf(BPF_MAP_UPDATE_ELEM, attr)


def create_map(map_type: int, key_size: int, value_size: int, max_entries: int, map_flags: int = 0) -> Map:
    """Create a map and return its owner object."""
    attr = _new_attr()
    struct.pack_into("<IIIII", attr, 0, map_type, key_size, value_size, max_entries, map_flags)
    fd = bpf(BPF_MAP_CREATE, attr)
    return Map(fd, map_type, key_size, value_size, max_entries)


class Program(BpfFd):
    """A loaded BPF program."""

    kind = "bpf program"

    def __init__(self, fd: int, prog_type: int, insn_count: int) -> None:
        super().__init__(fd)
        self.prog_type = prog_type
        self.insn_count = insn_count

    def test_run(self, data_in: bytes = bytes(MIN_PACKET_SIZE), repeat: int = 1) -> int:
        """Run the program once (or ``repeat`` times) with BPF_PROG_TEST_RUN; return retval."""
        return test_run(self, data_in, repeat)


def _log_tail(log: str) -> str:
    lines = log.rstrip("\n").splitlines()
    if len(lines) > _LOG_TAIL_LINES:
        lines = ["..."] + lines[-_LOG_TAIL_LINES:]
    return "\n".join(lines)


def _prog_load_attr(prog_type, insns_buf, license_buf, log_buf, prog_flags, name) -> ctypes.Array:
    attr = _new_attr()
    log_level, log_size = (1, len(log_buf)) if log_buf is not None else (0, 0)
    struct.pack_into(
        "<IIQQIIQII",
        attr,
        0,
        prog_type,
        len(insns_buf) // 8,
        _address(insns_buf),
        _address(license_buf),
        log_level,
        log_size,
        _address(log_buf),
        0,
        prog_flags,
    )
    struct.pack_into("16s", attr, 48, name.encode()[:15])
    return attr


def load_program(
    prog_type: int,
    insns: bytes,
    license: str = "GPL",
    prog_flags: int = 0,
    name: str = "ringcheck",
) -> Program:
    """Load ``insns`` (encoded instructions) and return the program.

    The first attempt runs without a verifier log (cheap); if it fails, the
    load is repeated with a log so the ``BpfError`` message ends with the
    verifier's explanation.  The GPL license is needed for the ring helpers.
    """
    if not insns or len(insns) % 8:
        raise ValueError("instructions must be a non-empty multiple of 8 bytes")
    insns_buf = ctypes.create_string_buffer(bytes(insns), len(insns))
    license_buf = ctypes.create_string_buffer(license.encode())
    attr = _prog_load_attr(prog_type, insns_buf, license_buf, None, prog_flags, name)
    try:
        fd = bpf(BPF_PROG_LOAD, attr)
    except BpfError as first:
        log = _verifier_log(prog_type, insns_buf, license_buf, prog_flags, name)
        message = f"prog load failed: {_errno_name(first.errno)} ({os.strerror(first.errno)})"
        if log:
            message += "\nverifier log (tail):\n" + _log_tail(log)
        raise BpfError(first.errno, message, log) from None
    return Program(fd, prog_type, len(insns) // 8)


def _verifier_log(prog_type, insns_buf, license_buf, prog_flags, name) -> str:
    """Load again with a log buffer and return the log (the load is expected to fail)."""
    log_buf = ctypes.create_string_buffer(_VERIFIER_LOG_SIZE)
    attr = _prog_load_attr(prog_type, insns_buf, license_buf, log_buf, prog_flags, name)
    try:
        fd = bpf(BPF_PROG_LOAD, attr)
    except (BpfError, BpfUnavailable):
        return log_buf.value.decode(errors="replace")
    os.close(fd)
    return "(the second load, with a log, succeeded)"


def test_run(program: Program, data_in: bytes = bytes(MIN_PACKET_SIZE), repeat: int = 1) -> int:
    """Run ``program`` with BPF_PROG_TEST_RUN and return its 32-bit return value."""
    data_buf = ctypes.create_string_buffer(bytes(data_in), max(len(data_in), 1))
    attr = _new_attr()
    struct.pack_into("<IIIIQQI", attr, 0, program.fd, 0, len(data_in), 0, _address(data_buf) if data_in else 0, 0, repeat)
    bpf(BPF_PROG_TEST_RUN, attr)
    return struct.unpack_from("<I", attr, 4)[0]


test_run.__test__ = False  # a library function, not a pytest test


def kernel_available() -> tuple[bool, str]:
    """Return (True, "") if this process can create a ring map, else (False, reason).

    The reason is a single line meant for a pytest skip message or a CLI
    warning; no exception escapes for the expected refusals.
    """
    try:
        with create_map(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096):
            return True, ""
    except BpfUnavailable as refused:
        return False, str(refused)
    except BpfError as failed:
        if failed.errno == errno.EINVAL:
            return False, "bpf() rejected a ring buffer map: EINVAL (kernel too old or ring maps disabled)"
        return False, f"bpf() ring map creation failed: {_errno_name(failed.errno)}"

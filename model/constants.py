"""Kernel constants and the arithmetic the protocol is written in.

Names follow the kernel (``BPF_RINGBUF_BUSY_BIT`` becomes ``BUSY_BIT``) so that a
reader can match a line of the model with a line of ``kernel/bpf/ringbuf.c``.
"""

from __future__ import annotations

BUSY_BIT = 1 << 31
"""Set in a header's len while its record is reserved and not yet committed."""

DISCARD_BIT = 1 << 30
"""Set in a header's len when the record was committed with bpf_ringbuf_discard."""

LEN_MASK = DISCARD_BIT - 1
"""The low 30 bits of a header's len: the payload size."""

HDR_SZ = 8
"""Bytes of the record header {u32 len; u32 pg_off}."""

MAX_RECORD_SZ = 0xFFFFFFFF // 4
"""Largest payload size reserve accepts at all (UINT_MAX / 4)."""

BPF_RB_NO_WAKEUP = 1
"""Commit flag: do not queue the consumer wakeup."""

BPF_RB_FORCE_WAKEUP = 2
"""Commit flag: queue the consumer wakeup whatever the positions are."""

U64 = (1 << 64) - 1
"""Positions are unsigned 64-bit counters; arithmetic on them is modulo 2**64."""

POSITION_WIDTHS = (64, 32)
"""Widths a position may have: the kernel's and libbpf's ``unsigned long`` on a 64-bit machine,
and on a 32-bit one (``Config.position_bits``)."""


def round_up8(n: int) -> int:
    """Round ``n`` up to a multiple of 8, as the kernel's round_up(n, 8)."""
    return (n + 7) & ~7


def record_length(size: int) -> int:
    """Bytes a record of payload ``size`` takes on the ring: header plus padding."""
    return round_up8(size + HDR_SZ)


def u64(n: int) -> int:
    """Reduce ``n`` to an unsigned 64-bit value (positions wrap modulo 2**64)."""
    return n & U64


def position_mask(bits: int = 64) -> int:
    """All ones at ``bits``: positions wrap modulo ``2**bits`` (``U64`` at 64)."""
    return U64 if bits == 64 else (1 << bits) - 1


def wrap(n: int, bits: int = 64) -> int:
    """Reduce ``n`` to an unsigned position of ``bits`` bits (``u64`` at 64)."""
    return n & (U64 if bits == 64 else (1 << bits) - 1)


def distance(to: int, frm: int, bits: int = 64) -> int:
    """Unsigned difference ``to - frm`` at the position width, as the kernel computes it."""
    return (to - frm) & (U64 if bits == 64 else (1 << bits) - 1)


def is_ahead(pos: int, ref: int, bits: int = 64) -> bool:
    """True when ``pos`` is at or past ``ref`` on the circle of ``2**bits`` positions (signed difference >= 0)."""
    return ((pos - ref) & (U64 if bits == 64 else (1 << bits) - 1)) < (1 << (bits - 1))

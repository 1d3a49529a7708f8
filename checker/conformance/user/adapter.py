"""The interface a user ring buffer implementation offers to conformance checks.

An adapter is one user ring buffer of a fixed size, empty at the start, driven
one call at a time (the checker picks the order; an adapter needs no locks).
Semantics follow docs/protocol.md#5: positions are unsigned 64-bit byte
counters; a sample is an 8-byte header ``{u32 len; u32 pad}`` and its payload,
``round_up(len + 8, 8)`` bytes on the ring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence, runtime_checkable


@dataclass(frozen=True)
class Reserved:
    """What user_ring_buffer__reserve did: the sample's position (of its header) or None, and errno."""

    position: int | None
    errno: int = 0
    """0 on success, else E2BIG (7) or ENOSPC (28)."""


@dataclass(frozen=True)
class Drained:
    """What one bpf_user_ringbuf_drain call did."""

    ret: int
    """Samples handed to the callback, or the negative errno (-EINVAL, -E2BIG, -EBUSY)."""
    samples: tuple[tuple[int, int], ...] = field(default=())
    """(position of the sample's header, sample length) for each callback call, in order."""


@dataclass(frozen=True)
class UserObservation:
    """What user space can read: both positions and the raw data area (``ring_size`` bytes)."""

    producer_pos: int
    consumer_pos: int
    data: bytes


@runtime_checkable
class UserRingAdapter(Protocol):
    """One user ring buffer, driven one call at a time."""

    def reserve(self, size: int) -> Reserved:
        """user_ring_buffer__reserve(size), then fill the sample (any bytes); see ``Reserved``."""
        ...

    def submit(self, position: int) -> None:
        """user_ring_buffer__submit of the sample reserved at ``position``."""
        ...

    def discard(self, position: int) -> None:
        """user_ring_buffer__discard of the sample reserved at ``position``."""
        ...

    def write_producer_pos(self, value: int) -> None:
        """Hostile user space stores the u64 ``value`` into producer_pos through the mapping."""
        ...

    def write_word(self, offset: int, value: int) -> None:
        """Hostile user space stores the 8-byte little-endian ``value`` at data-area byte ``offset``."""
        ...

    def drain(self, flags: int = 0, callback_returns: Sequence[int] = ()) -> Drained:
        """A BPF program calls bpf_user_ringbuf_drain(flags); its callback's i-th return is
        ``callback_returns[i]`` (0 go on, 1 stop; missing means 0)."""
        ...

    def observe(self) -> UserObservation:
        """The positions and the data area now."""
        ...

    def close(self) -> None:
        """Release every resource."""
        ...


UserFactory = Callable[[int], UserRingAdapter]
"""Builds a fresh, empty user ring of ``ring_size`` bytes (a power of two); ValueError to refuse a size."""

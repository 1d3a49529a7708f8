"""The interface a ring buffer implementation offers to conformance checks.

Write one adapter for your ring buffer and a factory that builds it; the
checker then drives it with the same operation sequences it runs against
the bundled reference (`checker.conformance.reference`) and compares what
each side observably does. Everything here is single-threaded from the
adapter's point of view: the checker chooses the interleaving and calls one
operation at a time, so an adapter never needs locks of its own.

Semantics follow docs/protocol.md: positions are unsigned 64-bit byte counters,
every record is an 8-byte header `{u32 len; u32 pg_off}` followed by the
payload, and a record occupies `round_up(size + 8, 8)` bytes of the ring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable

from model.variants import rules_of, variant_names

VARIANTS = tuple(v for v in variant_names() if not rules_of(v).overwrite)
"""Protocol variants of docs/protocol.md#7 the references implement, oldest first (overwrite
mode is checked by the explorer and the proofs only: docs/overwrite.md)."""

BUSY_BIT = 1 << 31
DISCARD_BIT = 1 << 30
HEADER_SIZE = 8
NO_WAKEUP = 1
FORCE_WAKEUP = 2
U64_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class Handle:
    """A successful reservation, as returned by `Adapter.reserve`.

    `position` is the record's producer position (the u64 counter value
    where its header starts, not reduced modulo the ring size); `size` is
    the payload size that was requested; `producer` is the producer that
    reserved it. `token` is free for the adapter's own bookkeeping (a
    pointer, an index into a generated program, ...); it takes no part in
    equality, so handles from two implementations compare by what the
    protocol defines.
    """

    position: int
    size: int
    producer: int = 0
    token: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Observation:
    """A snapshot of everything user space can see of the ring.

    `producer_pos` and `consumer_pos` are the two u64 counters; `data` is
    the whole raw data area, exactly ring-size bytes, headers included
    (the first of the two mappings).
    """

    producer_pos: int
    consumer_pos: int
    data: bytes


@runtime_checkable
class Adapter(Protocol):
    """One ring buffer of a fixed size, driven one operation at a time.

    An adapter starts empty: both positions 0 and no records.
    """

    def reserve(self, producer: int, size: int, flags: int = 0) -> Handle | None:
        """Reserve a record of `size` payload bytes for `producer`, like bpf_ringbuf_reserve.

        Return None exactly when the kernel helper would return NULL: flags
        other than 0, a size above 0xFFFFFFFF // 4 (a negative size is the
        same u64 seen as huge), no room, and the variant-specific checks.
        On success the header `{size | BUSY, pg_off}` is in the ring at
        `position % ring_size` and `producer_pos` has already moved past
        the record. `producer` identifies the reserving program/CPU; an
        implementation that has a single producer may ignore it.
        """
        ...

    def write(self, handle: Handle, data: bytes) -> None:
        """Write the payload of a reserved, uncommitted record.

        `len(data) == handle.size`. The bytes go to ring offset
        `(handle.position + 8) % ring_size` onwards, wrapping around the
        ring (through the double mapping).
        """
        ...

    def commit(self, handle: Handle, discard: bool = False, flags: int = 0) -> None:
        """Submit (or, with `discard`, discard) a reserved record.

        Like bpf_ringbuf_submit / bpf_ringbuf_discard: clear BUSY in the
        header (set DISCARD for a discard), then decide on a wakeup from
        `flags` (NO_WAKEUP = 1, FORCE_WAKEUP = 2; any value is accepted).
        Each handle is committed exactly once.
        """
        ...

    def consume(self) -> list[bytes]:
        """Run the libbpf consumer once and return the payloads it delivered, in order.

        This is ring_buffer__consume: starting from the current
        `consumer_pos`, read headers until caught up with `producer_pos` or
        a BUSY header is reached; skip DISCARD records; deliver each other
        record's payload (the low 30 bits of `len` give its size) and store
        the new `consumer_pos` after every record. Returns an empty list
        when there is nothing to deliver. A sample whose claimed length
        runs past the end of the double mapping (possible only after
        corruption or an adversarial `consumer_pos`) is returned cut at
        the end of the mapping: the bytes a real callback could read.
        """
        ...

    def set_consumer_pos(self, value: int) -> None:
        """Store `value` (a u64) into `consumer_pos`, as hostile user space may at any time."""
        ...

    def observe(self) -> Observation:
        """Return the current positions and raw data area."""
        ...

    def close(self) -> None:
        """Release every resource (maps, file descriptors, programs)."""
        ...

    # Optional, the attacker's capabilities (``CAPABILITIES``; ``--attacker``, docs/attacker.md), as if the
    # producer pages were writable: ``write_producer_pos(self, value: int) -> None`` stores producer_pos;
    # ``write_header(self, offset: int, len_word: int) -> None`` writes the 8 bytes {len_word, 0xFFFFFFFF}
    # (little-endian u32s) at data offset ``offset``; ``write_payload(self, offset: int, data: bytes) -> None``
    # writes the 8 bytes ``data`` there. A run that needs one the adapter lacks is refused in one line.
    #
    # Optional: ``reopen(self) -> None``, the consumer closed and opened again on the same ring
    # (ring_buffer__free, ring_buffer__new): checked with ``check_lockstep(..., reopen=True)``,
    # ``check_stateful(..., reopen=True)`` / ``conform --reopen`` (lockstep, stateful, --record).
    # Positions and data stay; libbpf keeps no state of its own across it.


CAPABILITIES = {"producer_pos": "write_producer_pos", "header": "write_header", "payload": "write_payload"}
"""Attacker power (``Config.attacker``) to the optional adapter method that carries it out."""


def missing_capability(adapter: object, powers: tuple[str, ...]) -> str | None:
    """One line naming the first capability ``powers`` need that ``adapter`` does not offer, else None."""
    for power in powers:
        name = CAPABILITIES.get(power)
        if name is not None and not callable(getattr(adapter, name, None)):
            return f"the implementation does not offer {name}(), which --attacker {power} needs"
    return None


Factory = Callable[[int, str], Adapter]
"""Builds a fresh, empty adapter from (ring_size, variant).

With ``--position-bits 32`` the factory is called as ``factory(ring_size, variant, position_bits=32)``:
an implementation whose positions are 32-bit counters accepts it (positions, differences and the
observation then wrap modulo 2**32); a factory that does not take it is refused in one line.

`ring_size` is a power of two (the model uses sizes from 16 bytes up; a
kernel-backed adapter may refuse sizes the kernel refuses by raising
ValueError). `variant` is one of `VARIANTS`; an implementation that is a
single real kernel can accept only the variant it behaves as.
"""

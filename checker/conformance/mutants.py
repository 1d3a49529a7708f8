"""Deliberately broken reference ring buffers.

Each mutant changes one protocol decision of `ReferenceRingBuffer`. A
conformance check that cannot tell a mutant from the reference is too weak
to catch that class of bug, so the checker's own tests run every entry of
`MUTANTS` and expect a difference.
"""

from __future__ import annotations

from checker.conformance.adapter import BUSY_BIT, DISCARD_BIT, U64_MASK, Factory
from checker.conformance.reference import ReferenceRingBuffer


class ConsumerIgnoresBusy(ReferenceRingBuffer):
    """The consumer reads past BUSY headers and delivers uncommitted records."""

    def _stops_consumer(self, word: int) -> bool:
        return False


class CommitKeepsBusy(ReferenceRingBuffer):
    """Commit forgets to clear BUSY, so the consumer never gets past the record."""

    def _committed_len(self, word: int, discard: bool) -> int:
        word |= BUSY_BIT
        return word | DISCARD_BIT if discard else word


class ConsumerDeliversDiscarded(ReferenceRingBuffer):
    """The consumer hands discarded records to the callback."""

    def _delivers(self, word: int) -> bool:
        return True


class ReserveNoSizeCheck(ReferenceRingBuffer):
    """Reserve never refuses a record longer than the ring, even on v5.13 and later."""

    def _too_long_for_ring(self, length: int) -> bool:
        return False


class ReserveNoPendingCheck(ReferenceRingBuffer):
    """Reserve skips v6.10's bound on the span of uncommitted records (new - pending_pos)."""

    def _has_room(self, new_prod: int, cons: int, pend: int) -> bool:
        return (new_prod - cons) & U64_MASK <= self.mask


class ConsumerNeverStores(ReferenceRingBuffer):
    """The consumer never stores consumer_pos, so every call starts over."""

    def _store_consumer_pos(self, cons: int) -> None:
        pass


class ConsumerRestartsOnReopen(ReferenceRingBuffer):
    """The consumer keeps its own cursor and a reopen starts it at 0, as on a new ring (seen only with reopen).

    Not in `MUTANTS`: the default operation graph has no reopen, so only
    ``check_lockstep(..., reopen=True)`` can tell it from the reference.
    """

    def __init__(self, ring_size: int, variant: str) -> None:
        super().__init__(ring_size, variant)
        self._cursor: int | None = None

    def consume(self) -> list[bytes]:
        if self._cursor is not None:
            self.consumer_pos = self._cursor
        samples = super().consume()
        self._cursor = self.consumer_pos
        return samples

    def reopen(self) -> None:
        self._cursor = 0


class ConsumerSkipsBacklogOnReopen(ReferenceRingBuffer):
    """A reopened consumer starts at producer_pos ("new records only"), dropping what was committed unread.

    The opposite mistake to `ConsumerRestartsOnReopen` (records lost instead
    of delivered twice); also seen only with reopen, so not in `MUTANTS`.
    """

    def reopen(self) -> None:
        self.consumer_pos = self.producer_pos


MUTANTS: dict[str, Factory] = {
    "consumer_ignores_busy": ConsumerIgnoresBusy,
    "commit_keeps_busy": CommitKeepsBusy,
    "consumer_delivers_discarded": ConsumerDeliversDiscarded,
    "reserve_no_size_check": ReserveNoSizeCheck,
    "reserve_no_pending_check": ReserveNoPendingCheck,
    "consumer_never_stores": ConsumerNeverStores,
}

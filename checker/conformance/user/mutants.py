"""Copies of the reference user ring, each missing one thing the kernel or libbpf does.

``conform --map user --mutants`` (and tests/checker/conformance/user) run the
lockstep on each: every one must diverge, or the conformance check could not
tell that implementation from a correct one.
"""

from __future__ import annotations

from checker.conformance.user.reference import BUSY, DISCARD, EINVAL, ReferenceUserRing, _NoData, _Skip


class NoAdvertisedCheck(ReferenceUserRing):
    """The drain trusts the header's length: no -EINVAL for a sample past producer_pos."""

    def check_sample(self, cons: int, prod: int, total: int, length: int) -> None:
        super().check_sample(cons, max(prod, cons + total), total, length)


class NoRingCheck(ReferenceUserRing):
    """The drain hands over samples longer than the ring (no -E2BIG)."""

    def check_sample(self, cons: int, prod: int, total: int, length: int) -> None:
        if total > prod - cons:
            raise ValueError(-EINVAL)


class NoAlignmentCheck(ReferenceUserRing):
    """The drain accepts a producer_pos that is not a multiple of 8."""

    def check_producer_aligned(self, prod: int) -> None:
        return None


class BusyDelivered(ReferenceUserRing):
    """The drain ignores BUSY and hands over a sample still being written."""

    def check_flags(self, hdr: int, cons: int, total: int) -> None:
        super().check_flags(hdr & ~BUSY, cons, total)


class BusyBeforeDiscard(ReferenceUserRing):
    """The drain tests BUSY before DISCARD (the kernel tests DISCARD first)."""

    def check_flags(self, hdr: int, cons: int, total: int) -> None:
        if hdr & BUSY:
            raise _NoData
        if hdr & DISCARD:
            self.consumer_pos = cons + total
            raise _Skip


class StopNotConsumed(ReferenceUserRing):
    """A callback returning 1 leaves its sample on the ring (the kernel consumes it anyway)."""

    def release(self, length: int, stopped: bool) -> None:
        if not stopped:
            super().release(length, stopped)


class RingNotFilled(ReferenceUserRing):
    """libbpf's producer keeps one byte free (like a kernel producer) instead of filling the ring."""

    def reserve(self, size: int):
        from checker.conformance.user.adapter import Reserved
        total = (size + 8 + 7) // 8 * 8
        if self.size - (self.producer_pos - self.consumer_pos) == total:
            return Reserved(None, 28)
        return super().reserve(size)


MUTANTS = {cls.__name__: cls for cls in (NoAdvertisedCheck, NoRingCheck, NoAlignmentCheck, BusyDelivered,
                                         BusyBeforeDiscard, StopNotConsumed, RingNotFilled)}
"""Every bundled mutant by name."""

"""Concurrent mutants: the reference with one access or ordering broken, each a different kind of race.

Sequentially each of these behaves exactly like the reference (one call at a
time they make the same accesses with the same results), so `ringcheck
conform` without ``--concurrent`` cannot tell them apart; the scheduler must.

* ``reserve_without_lock``, a race between producers: reserve never takes
  the spinlock, so two producers can read the same producer_pos and claim
  the same bytes (``no-overlap``, under sc).
* ``publish_before_header``, a race between a producer and the consumer:
  reserve publishes producer_pos before it writes the BUSY header, so a
  consumer in between reads the old bytes there as a committed record
  (``samples-intact``, under sc).
* ``plain_producer_pos``, an ordering weaker than the model's: producer_pos
  is published with a plain store instead of smp_store_release. Under sc
  and tso (stores stay in order) it conforms; under ra a consumer that
  acquires the new producer_pos may still read the header word from before
  the reservation (``samples-intact``, under ra only).
* ``plain_commit``, also an ordering: commit clears BUSY with a plain store
  instead of xchg, so under ra the consumer can see the committed header and
  still read the payload from before the write (``samples-intact``).
"""

from __future__ import annotations

from checker.conformance.concurrent.protocol import PLAIN, PRODUCER_POS, Operation, SharedMemory
from checker.conformance.concurrent.reference import LEN_WORD, ConcurrentReference
from checker.conformance.adapter import BUSY_BIT, DISCARD_BIT, Handle


class ReserveWithoutLock(ConcurrentReference):
    """Reserve skips spin_lock / spin_unlock."""

    def _lock(self, mem: SharedMemory) -> Operation:
        return
        yield

    def _unlock(self, mem: SharedMemory) -> Operation:
        return
        yield


class PublishBeforeHeader(ConcurrentReference):
    """The claim stores producer_pos first and the BUSY header after it."""

    def _claim(self, mem: SharedMemory, prod: int, new_prod: int, size: int) -> Operation:
        yield mem.store(PRODUCER_POS, new_prod, "release")
        yield mem.store(mem.word(prod), self._busy_header(prod, size), PLAIN)


class PlainProducerPos(ConcurrentReference):
    """The claim publishes producer_pos with a plain store (WRITE_ONCE instead of smp_store_release)."""

    def _claim(self, mem: SharedMemory, prod: int, new_prod: int, size: int) -> Operation:
        yield mem.store(mem.word(prod), self._busy_header(prod, size), PLAIN)
        yield mem.store(PRODUCER_POS, new_prod, PLAIN)


class PlainCommit(ConcurrentReference):
    """Commit writes the new len with a plain store instead of xchg."""

    def _commit_header(self, mem: SharedMemory, handle: Handle, discard: bool) -> Operation:
        loc = mem.word(handle.position)
        old = yield mem.load(loc, PLAIN)
        new_len = ((old & LEN_WORD) ^ BUSY_BIT) | (DISCARD_BIT if discard else 0)
        yield mem.store(loc, (old & ~LEN_WORD) | new_len, PLAIN)


CONCURRENT_MUTANTS = {
    "reserve_without_lock": ReserveWithoutLock,
    "publish_before_header": PublishBeforeHeader,
    "plain_producer_pos": PlainProducerPos,
    "plain_commit": PlainCommit,
}
"""Name -> factory."""

MUTANT_SETUPS = {
    "reserve_without_lock": ("two-producers", "sc"),
    "publish_before_header": ("produce-consume", "sc"),
    "plain_producer_pos": ("produce-consume", "ra"),
    "plain_commit": ("produce-consume", "ra"),
}
"""Name -> (scenario, memory model) where the mutant is caught (``conform --concurrent --mutants``)."""

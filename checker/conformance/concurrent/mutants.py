"""Concurrent mutants: the reference with one access or ordering broken, each a different kind of race.

Sequentially each of these behaves exactly like the reference (one call at a
time they make the same accesses with the same results), so `ringcheck
conform` without ``--concurrent`` cannot tell them apart; the scheduler must.

* ``reserve_without_lock``, a race between producers: reserve never takes
  the spinlock, so two producers can read the same producer_pos and claim
  the same bytes (``no-overlap``, under sc).
* ``reserve_trylock``, a race between producers that breaks no memory
  property: reserve only tries the lock (as an NMI reservation does) and
  returns NULL when another producer holds it, although the ring has room;
  no sequential order of the calls gives that NULL (``linearizable``, sc).
* ``publish_before_header``, a race between a producer and the consumer:
  reserve publishes producer_pos before it writes the BUSY header, so a
  consumer in between reads the old bytes there as a committed record
  (``samples-intact``, under sc).
* ``plain_producer_pos``, an ordering weaker than the model's: producer_pos
  is published with a plain store instead of smp_store_release. Under sc
  and tso (stores stay in order) it conforms; under ra a consumer that
  acquires the new producer_pos may still read the header word from before
  the reservation (``samples-intact``, under ra only).
* ``reopen_restarts_at_zero``, state kept wrongly across a reopen: the
  consumer keeps its position in the object between passes (harmless while
  it is the only writer of consumer_pos), and a reopen sets it to 0, as for
  a new ring, instead of reading consumer_pos again; on a used ring it hands
  out an earlier lap once more (``samples-intact``, under sc). `CachingConsumer`
  is the same consumer done right (a reopen forgets the cached position)
  and conforms.
* ``plain_commit``, also an ordering: commit clears BUSY with a plain store
  instead of xchg, so under ra the consumer can see the committed header and
  still read the payload from before the write (``samples-intact``).
"""

from __future__ import annotations

from checker.conformance.concurrent.protocol import (ACQUIRE, CONSUMER_POS, LOCK, PLAIN, PRODUCER_POS, RELEASE,
                                                     Operation, SharedMemory)
from checker.conformance.concurrent.reference import LEN_WORD, ConcurrentReference
from checker.conformance.adapter import BUSY_BIT, DISCARD_BIT, Handle


class ReserveWithoutLock(ConcurrentReference):
    """Reserve skips spin_lock / spin_unlock."""

    def _lock(self, mem: SharedMemory) -> Operation:
        return True
        yield

    def _unlock(self, mem: SharedMemory) -> Operation:
        return
        yield


class ReserveTrylock(ConcurrentReference):
    """Reserve tries the lock once (as in NMI context) and returns NULL when another producer holds it."""

    def _lock(self, mem: SharedMemory) -> Operation:
        return (yield mem.cmpxchg(LOCK, 0, 1, ACQUIRE)) == 0


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


class CachingConsumer(ConcurrentReference):
    """A consumer that keeps its position between passes and forgets it on reopen (correct)."""

    def __init__(self, ring_size: int, variant: str) -> None:
        super().__init__(ring_size, variant)
        self.cached: int | None = None

    def _start_pass(self, mem: SharedMemory) -> Operation:
        if self.cached is None:
            self.cached = yield mem.load(CONSUMER_POS, ACQUIRE)
        return self.cached

    def _store_consumer_pos(self, mem: SharedMemory, cons: int) -> Operation:
        self.cached = cons
        yield mem.store(CONSUMER_POS, cons, RELEASE)

    def reopen(self, mem: SharedMemory) -> None:
        self.cached = None


class ReopenRestartsAtZero(CachingConsumer):
    """The caching consumer whose reopen starts over at position 0 instead of reading consumer_pos."""

    def reopen(self, mem: SharedMemory) -> None:
        self.cached = 0


CONCURRENT_MUTANTS = {
    "reserve_without_lock": ReserveWithoutLock,
    "reserve_trylock": ReserveTrylock,
    "publish_before_header": PublishBeforeHeader,
    "plain_producer_pos": PlainProducerPos,
    "plain_commit": PlainCommit,
    "reopen_restarts_at_zero": ReopenRestartsAtZero,
}
"""Name -> factory."""

MUTANT_SETUPS = {
    "reserve_without_lock": ("two-producers", "sc"),
    "reserve_trylock": ("two-producers", "sc"),
    "publish_before_header": ("produce-consume", "sc"),
    "plain_producer_pos": ("produce-consume", "ra"),
    "plain_commit": ("produce-consume", "ra"),
    "reopen_restarts_at_zero": ("reopen", "sc"),
}
"""Name -> (scenario, memory model) where the mutant is caught (``conform --concurrent --mutants``)."""

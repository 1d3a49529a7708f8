"""A concurrent implementation seen one call at a time: the sequential `Adapter` over its generators.

`SequentialView` runs each generator call to its end on a private memory
(a dict of the same locations, every access atomic and at once), so any
implementation written for ``--concurrent`` can also be checked by the
sequential checks (lockstep, stateful, logs). The tests use it to hold the
concurrent reference to the model exactly as the sequential reference is,
and to show that every concurrent mutant is sequentially indistinguishable
from it: only the scheduler can catch them.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from checker.conformance.adapter import U64_MASK, Handle, Observation
from checker.conformance.concurrent.protocol import (CMPXCHG, CONSUMER_POS, FENCE, LOAD, LOCK, LOCK_OP,
                                                     PRODUCER_POS, STORE, XCHG_OP, Access, SharedMemory)


class SequentialView:
    """The `Adapter` interface over a concurrent implementation built by ``factory(ring_size, variant)``."""

    def __init__(self, factory: Callable[[int, str], Any], ring_size: int, variant: str) -> None:
        self.impl = factory(ring_size, variant)
        self.mem = SharedMemory(ring_size)
        self.values: dict[object, int] = self.mem.locations()

    def _run(self, call: Any) -> Any:
        """Run one call to its end, every access at once."""
        if not inspect.isgenerator(call):
            return call
        value: Any = None
        try:
            access = next(call)
            while True:
                value = self._perform(access)
                access = call.send(value)
        except StopIteration as stop:
            return stop.value

    def _perform(self, a: Access) -> Any:
        v = self.values
        if a.kind == LOAD:
            return v[a.loc]
        if a.kind == STORE:
            v[a.loc] = a.value
            return None
        if a.kind == XCHG_OP:
            old, v[a.loc] = v[a.loc], a.value
            return old
        if a.kind == CMPXCHG:
            old = v[a.loc]
            if old == a.expected:
                v[a.loc] = a.value
            return old
        if a.kind == LOCK_OP:
            if v[LOCK] != 0:
                raise RuntimeError("spin_lock on a lock that is held: no other call can release it")
            v[LOCK] = 1
            return 0
        if a.kind == FENCE:
            return None
        raise ValueError(f"not an access: {a!r}")

    def reserve(self, producer: int, size: int, flags: int = 0) -> Handle | None:
        return self._run(self.impl.reserve(self.mem, producer, size, flags))

    def write(self, handle: Handle, data: bytes) -> None:
        self._run(self.impl.write(self.mem, handle, data))

    def commit(self, handle: Handle, discard: bool = False, flags: int = 0) -> None:
        self._run(self.impl.commit(self.mem, handle, discard, flags))

    def consume(self) -> list[bytes]:
        return list(self._run(self.impl.consume(self.mem)) or [])

    def reopen(self) -> None:
        reopen = getattr(self.impl, "reopen", None)
        if reopen is not None:
            self._run(reopen(self.mem))

    def set_consumer_pos(self, value: int) -> None:
        self.values[CONSUMER_POS] = value & U64_MASK

    def observe(self) -> Observation:
        data = b"".join(self.values[("data", i)].to_bytes(8, "little") for i in range(self.mem.words))
        return Observation(self.values[PRODUCER_POS], self.values[CONSUMER_POS], data)

    def close(self) -> None:
        pass


def sequential(factory: Callable[[int, str], Any]) -> Callable[[int, str], SequentialView]:
    """A sequential `Factory` from a concurrent one."""
    def build(ring_size: int, variant: str) -> SequentialView:
        return SequentialView(factory, ring_size, variant)
    return build

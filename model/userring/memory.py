"""Shared-memory access for the user ring buffer's steps (sequentially consistent).

Every step reads and writes shared memory through ``UserMem``, named as its
``@step`` declaration names it (``consumer_pos``, ``producer_pos``, ``busy``,
and ``header``, ``header.len``, ``payload``, ``word`` for 8-byte words of
the data area with their slot index), so the declarations are the contract:
``tests/model/userring/test_user_steps.py`` records the accesses each step makes
(``UserMem.log``) and compares them with what it declares.

The user ring model is sequentially consistent only (``Config`` refuses
``--memory tso/ra`` with ``--map user``); the orderings the declarations
carry are docs/protocol.md#9's, for readers and traces.
"""

from __future__ import annotations

from typing import Callable

from model.userring.state import UserState

SCALARS = ("consumer_pos", "producer_pos", "busy")
WORDS = ("header", "header.len", "payload", "word")


class UserMem:
    """Loads read the UserState, stores are collected and applied by ``next``."""

    __slots__ = ("s", "changes", "slots", "log")

    def __init__(self, s: UserState, log: list | None = None) -> None:
        self.s = s
        self.changes: dict[str, object] = {}
        self.slots: list[int] | None = None
        self.log = log
        """When a list: every access is appended as (var, kind)."""

    def _note(self, var: str, kind: str) -> None:
        if self.log is not None:
            self.log.append((var, kind))

    def _read(self, var: str, slot: int) -> int:
        if slot >= 0:
            assert var in WORDS, var
            return self.s.slots[slot] if self.slots is None else self.slots[slot]
        assert var in SCALARS, var
        return self.changes.get(var, getattr(self.s, var))  # type: ignore[return-value]

    def _write(self, var: str, value: int, slot: int) -> None:
        if slot >= 0:
            assert var in WORDS, var
            if self.slots is None:
                self.slots = list(self.s.slots)
            self.slots[slot] = value
        else:
            assert var in SCALARS, var
            self.changes[var] = value

    def load(self, var: str, slot: int = -1) -> int:
        """The value of ``var`` (of data-area word ``slot`` for the word names)."""
        self._note(var, "load")
        return self._read(var, slot)

    def store(self, var: str, value: int, slot: int = -1) -> None:
        """Write ``value``; it is in the state ``next`` returns."""
        self._note(var, "store")
        self._write(var, value, slot)

    def rmw(self, var: str, update: Callable[[int], int | None], slot: int = -1) -> int:
        """Atomically read the old value and write ``update(old)`` (nothing if None); returns old."""
        self._note(var, "rmw")
        old = self._read(var, slot)
        new = update(old)
        if new is not None:
            self._write(var, new, slot)
        return old

    def peek(self, slot: int) -> int:
        """Ghost: a data-area word as memory holds it, for the ghost log (not an access)."""
        return self.s.slots[slot] if self.slots is None else self.slots[slot]

    def next(self, **changes: object) -> UserState:
        """The state after the step: its stores plus the actor's own ``changes``."""
        if self.slots is not None:
            changes["slots"] = tuple(self.slots)
        changes.update(self.changes)
        return self.s._replace(**changes)

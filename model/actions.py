"""Actions: one protocol step taken by one actor, named so a trace reads like the code.

An action prints as ``actor.step(arg=value,...)``, for example
``p0.reserve.check(size=16,nmi=0)`` or ``user.store_cons(value=24)``, and
``parse_action`` reads that form back.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Action(NamedTuple):
    """Who (``p0``, ``c``, ``irq``, ``user``) takes which step, with which choices."""

    actor: str
    step: str
    args: tuple[tuple[str, int], ...] = ()

    @property
    def name(self) -> str:
        """``actor.step`` without the arguments."""
        return f"{self.actor}.{self.step}"

    def arg(self, key: str) -> int:
        """The value of one argument (KeyError if absent)."""
        for k, v in self.args:
            if k == key:
                return v
        raise KeyError(key)

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({','.join(f'{k}={v}' for k, v in self.args)})"


_ACTION_RE = re.compile(r"^\s*([a-z]+\d*)\.([a-z_.]+?)\s*(?:\((.*)\))?\s*$")


class ActionSyntaxError(ValueError):
    """Text that is not an action; the message is one line."""


def parse_action(text: str) -> Action:
    """Read ``actor.step(k=v,...)`` back into an Action."""
    m = _ACTION_RE.match(text)
    if not m:
        raise ActionSyntaxError(f"not an action: {text!r} (expected actor.step(arg=value,...))")
    actor, step, argtext = m.groups()
    args: list[tuple[str, int]] = []
    if argtext and argtext.strip():
        for part in argtext.split(","):
            if "=" not in part:
                raise ActionSyntaxError(f"not an argument: {part.strip()!r} in {text!r}")
            k, v = part.split("=", 1)
            try:
                args.append((k.strip(), int(v.strip(), 0)))
            except ValueError:
                raise ActionSyntaxError(f"argument {k.strip()!r} is not an integer in {text!r}") from None
    return Action(actor, step, tuple(args))


def producer_actor(p: int) -> str:
    """Actor name of producer ``p``."""
    return f"p{p}"


def producer_index(actor: str) -> int:
    """Inverse of ``producer_actor``; -1 for actors that are not producers."""
    if actor.startswith("p") and actor[1:].isdigit():
        return int(actor[1:])
    return -1

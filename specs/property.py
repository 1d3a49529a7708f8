"""What a property is, and the registry that names them.

A property has one Python predicate over explicit states and (added beside
it, under the same name) one SMT encoding over symbolic states. A predicate
returns ``None`` when the state is fine and a one-line reason when it is not,
so that a counterexample can say *why* in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from model.config import Config
from model.state import State

Predicate = Callable[[Config, State, bool], "str | None"]
"""``(config, state, is_terminal) -> None if it holds, else a one-line reason``."""


@dataclass(frozen=True)
class Property:
    """A named property of PROTOCOL.md section 6."""

    name: str
    predicate: Predicate
    doc: str
    catches: str
    """The real bug this property exists to catch."""
    terminal: bool = False
    """True when (part of) the property is only judged in terminal states."""
    smt: Callable | None = field(default=None, compare=False)
    """The SMT encoding of the same property (specs.smt), when one exists."""

    def check(self, config: Config, state: State, terminal: bool = False) -> str | None:
        """``None`` if the property holds in ``state``, else why not."""
        return self.predicate(config, state, terminal)


PROPERTIES: dict[str, Property] = {}
"""Every property by name, in PROTOCOL.md order."""


def prop(name: str, catches: str, terminal: bool = False) -> Callable[[Predicate], Predicate]:
    """Register the decorated predicate as property ``name``; its docstring says what it means."""

    def register(fn: Predicate) -> Predicate:
        PROPERTIES[name] = Property(name, fn, (fn.__doc__ or "").strip(), catches, terminal)
        return fn

    return register

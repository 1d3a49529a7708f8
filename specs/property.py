"""What a property is, and the registry that names them.

A property has one Python predicate over explicit states and (added beside
it, under the same name) one SMT encoding over symbolic states. A predicate
returns ``None`` when the state is fine and a one-line reason when it is not,
so that a counterexample can say *why* in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from model.config import Config
from model.state import State

Predicate = Callable[[Config, State, bool], "str | None"]
"""``(config, state, is_terminal) -> None if it holds, else a one-line reason``."""


@dataclass(frozen=True)
class Property:
    """A named property of docs/protocol.md#6."""

    name: str
    predicate: Predicate
    doc: str
    catches: str
    """The real bug this property exists to catch."""
    terminal: bool = False
    """True when (part of) the property is only judged in terminal states."""
    smt: Callable | None = field(default=None, compare=False)
    """The SMT encoding of the same property: ``(cfg, ring, sym_state, terminal) -> z3 Bool``
    that is true exactly when the predicate returns None (see ``specs.smt``)."""

    def check(self, config: Config, state: State, terminal: bool = False) -> str | None:
        """``None`` if the property holds in ``state``, else why not."""
        return self.predicate(config, state, terminal)


PROPERTY_INPUTS = ("consumer_pos", "producer_pos", "pending_pos", "slots", "records", "delivered")
"""The only State fields any predicate reads. Engines use this to skip re-checking a
state whose inputs are those of its already-checked parent (tests/specs enforce it)."""


def same_inputs(a: State, b: State) -> bool:
    """True when ``a`` and ``b`` agree on every field in PROPERTY_INPUTS."""
    return (a.slots is b.slots and a.records is b.records and a.delivered is b.delivered
            and a.consumer_pos == b.consumer_pos and a.producer_pos == b.producer_pos
            and a.pending_pos == b.pending_pos)


PROPERTIES: dict[str, Property] = {}
"""Every property by name, in docs/protocol.md#6 order."""


def prop(name: str, catches: str, terminal: bool = False) -> Callable[[Predicate], Predicate]:
    """Register the decorated predicate as property ``name``; its docstring says what it means."""

    def register(fn: Predicate) -> Predicate:
        PROPERTIES[name] = Property(name, fn, (fn.__doc__ or "").strip(), catches, terminal)
        return fn

    return register


def smt_of(name: str) -> Callable[[Callable], Callable]:
    """Attach the decorated function as the SMT encoding of the already registered property ``name``."""

    def attach(fn: Callable) -> Callable:
        PROPERTIES[name] = replace(PROPERTIES[name], smt=fn)
        return fn

    return attach

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
from model.variants import Rules

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
    maps: tuple[str, ...] = ("ringbuf",)
    """The map types the property is stated for (``model.config.MAPS``)."""
    variants: Callable[[Rules], bool] | None = field(default=None, compare=False)
    """Which kernel behaviours it applies to, as a test of their rules (None: every
    variant of its maps); stated over rules, never over variant names."""

    def applies(self, config: Config) -> bool:
        """True when this property is stated for ``config``'s map type and variant."""
        return config.map in self.maps and (self.variants is None or self.variants(config.rules))

    def check(self, config: Config, state: State, terminal: bool = False) -> str | None:
        """``None`` if the property holds in ``state``, else why not."""
        return self.predicate(config, state, terminal)


PROPERTY_INPUTS = ("consumer_pos", "producer_pos", "pending_pos", "slots", "records", "delivered",
                   "overwrite_pos")
"""The only State fields any predicate reads. Engines use this to skip re-checking a
state whose inputs are those of its already-checked parent (tests/specs enforce it)."""


def same_inputs(a: State, b: State) -> bool:
    """True when ``a`` and ``b`` agree on every field in PROPERTY_INPUTS (a user ring state: never)."""
    if type(a) is not State:
        return False
    return (a.slots is b.slots and a.records is b.records and a.delivered is b.delivered
            and a.consumer_pos == b.consumer_pos and a.producer_pos == b.producer_pos
            and a.pending_pos == b.pending_pos and a.overwrite_pos == b.overwrite_pos)


PROPERTIES: dict[str, Property] = {}
"""Every property by name, in docs/protocol.md#6 order."""


def prop(name: str, catches: str, terminal: bool = False, maps: tuple[str, ...] = ("ringbuf",),
         variants: Callable[[Rules], bool] | None = None) -> Callable[[Predicate], Predicate]:
    """Register the decorated predicate as property ``name``; its docstring says what it means.

    ``maps`` and ``variants`` say which configurations it is stated for (``Property.applies``).
    """

    def register(fn: Predicate) -> Predicate:
        PROPERTIES[name] = Property(name, fn, (fn.__doc__ or "").strip(), catches, terminal,
                                    maps=maps, variants=variants)
        return fn

    return register


def smt_of(name: str) -> Callable[[Callable], Callable]:
    """Attach the decorated function as the SMT encoding of the already registered property ``name``."""

    def attach(fn: Callable) -> Callable:
        PROPERTIES[name] = replace(PROPERTIES[name], smt=fn)
        return fn

    return attach

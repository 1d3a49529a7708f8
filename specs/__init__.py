"""The properties of docs/protocol.md#6, each a named predicate (and SMT encoding).

``PROPERTIES`` maps each name to its ``Property``; ``get_property`` looks one
up with a one-line error for an unknown name.
"""

from specs import delivery, memory_safety  # noqa: F401  (registers the properties)
from specs.property import PROPERTIES, Property

PROPERTY_ORDER = ("in_bounds", "no_overlap", "header_integrity", "capacity", "ordered_delivery",
                  "committed_only", "discard_skipped", "exactly_once", "no_lost_wakeup", "aligned")


class UnknownProperty(KeyError):
    """A property name that is not in docs/protocol.md#6."""

    def __str__(self) -> str:
        return self.args[0]


def get_property(name: str) -> Property:
    """The property called ``name``."""
    try:
        return PROPERTIES[name]
    except KeyError:
        raise UnknownProperty(f"property: {name!r} is not one of {', '.join(PROPERTY_ORDER)}") from None


def all_properties() -> list[Property]:
    """Every property, in docs/protocol.md#6 order."""
    return [PROPERTIES[n] for n in PROPERTY_ORDER]


__all__ = ["PROPERTIES", "PROPERTY_ORDER", "Property", "all_properties", "get_property"]

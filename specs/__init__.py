"""The properties of docs/protocol.md#6, each a named predicate (and SMT encoding).

``PROPERTIES`` maps each name to its ``Property``; ``get_property`` looks one
up with a one-line error for an unknown name. The liveness properties of
``specs.liveness`` are registered beside them (``LIVENESS_ORDER``); they are
not state predicates, so ``get_property`` (used by the safety and SMT
engines) refuses them unless asked with ``liveness=True``.
"""

from specs import delivery, liveness, memory_safety, overwrite, user_ring  # noqa: F401  (registers the properties)
from specs.liveness import LIVENESS_ORDER, LivenessProperty, is_liveness
from model.config import Config
from specs.property import PROPERTIES, Property
from specs.user_ring import USER_PROPERTY_ORDER

PROPERTY_ORDER = ("in_bounds", "no_overlap", "header_integrity", "capacity", "ordered_delivery",
                  "committed_only", "discard_skipped", "exactly_once", "no_lost_wakeup", "aligned")
OVERWRITE_ORDER = overwrite.OVERWRITE_ORDER
"""Overwrite mode's own properties (``specs.overwrite``); ``all_properties(config)`` adds
those that apply after PROPERTY_ORDER's (the compiled core numbers PROPERTY_ORDER only)."""


class UnknownProperty(KeyError):
    """A property name that is not in docs/protocol.md#6."""

    def __str__(self) -> str:
        return self.args[0]


class LivenessOnly(UnknownProperty):
    """A liveness property asked of an engine that checks state predicates (one-line message)."""


def get_property(name: str, liveness: bool = False) -> Property:
    """The property called ``name``; a liveness property only when ``liveness`` is True."""
    try:
        p = PROPERTIES[name]
    except KeyError:
        raise UnknownProperty(f"property: {name!r} is not one of {', '.join(PROPERTY_ORDER)} "
                              f"(liveness: {', '.join(LIVENESS_ORDER)}; user ring: "
                              f"{', '.join(USER_PROPERTY_ORDER)})") from None
    if is_liveness(p) and not liveness:
        raise LivenessOnly(f"property: {name} is a liveness property, not an invariant: check it with "
                           f"ringcheck check --property {name} (add --strategy bmc --max-depth K for "
                           "the SMT lasso search)")
    return p


def all_properties(config: Config | None = None) -> list[Property]:
    """Every safety property of the kernel ring, in docs/protocol.md#6 order; with ``config``, those
    that apply to it, of every map type: overwrite mode's own (OVERWRITE_ORDER) and the user
    ring's (USER_PROPERTY_ORDER) come after."""
    if config is None:
        return [PROPERTIES[n] for n in PROPERTY_ORDER]
    return [PROPERTIES[n] for n in PROPERTY_ORDER + OVERWRITE_ORDER + USER_PROPERTY_ORDER
            if PROPERTIES[n].applies(config)]


def liveness_properties() -> list[LivenessProperty]:
    """Every liveness property, in ``LIVENESS_ORDER``."""
    return [PROPERTIES[n] for n in LIVENESS_ORDER]  # type: ignore[misc]


__all__ = ["USER_PROPERTY_ORDER", "LIVENESS_ORDER", "LivenessOnly", "LivenessProperty", "OVERWRITE_ORDER",
           "PROPERTIES", "PROPERTY_ORDER", "Property",
           "UnknownProperty", "all_properties", "get_property", "is_liveness", "liveness_properties"]

"""Conformance checking against a byte-level ring buffer.

`adapter` defines the interface an implementation under test provides,
`reference` is the bundled implementation of each protocol variant,
`mutants` holds deliberately broken variants of it that a conformance
check must be able to tell apart from the reference, and `memory` provides
the twice-mapped data area they all run on.
"""

from checker.conformance.adapter import VARIANTS, Adapter, Factory, Handle, Observation
from checker.conformance.reference import ReferenceRingBuffer, make_reference

__all__ = [
    "VARIANTS",
    "Adapter",
    "Factory",
    "Handle",
    "Observation",
    "ReferenceRingBuffer",
    "make_reference",
]

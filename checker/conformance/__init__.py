"""Conformance checking: does an implementation of the ring buffer behave as the model says?

`adapter` defines the interface an implementation under test provides,
`reference` is the bundled implementation of each protocol variant,
`mutants` holds deliberately broken variants of it that a conformance
check must be able to tell apart from the reference, and `memory` provides
the twice-mapped data area they all run on.

The checks: `check_lockstep` (every transition of the model's operation
graph, exhaustive), `stateful.check_stateful` (Hypothesis, shrinking),
`validate_log` (a JSON-lines log written by any implementation) with
`LogRecorder` to write one, and `pytest_plugin.assert_conforms` for test
suites. Each reports a `Divergence`. The stateful and pytest modules are not
imported here: hypothesis is slow to import and pytest is a test dependency only.
"""

from checker.conformance.adapter import VARIANTS, Adapter, Factory, Handle, Observation
from checker.conformance.divergence import Divergence
from checker.conformance.lockstep import ConformanceResult, check_lockstep, check_sequence
from checker.conformance.ops import Op
from checker.conformance.reference import ReferenceRingBuffer, make_reference
from checker.conformance.recorder import LogRecorder, record_operations
from checker.conformance.tracelog import validate_log

__all__ = [
    "VARIANTS",
    "Adapter",
    "ConformanceResult",
    "Divergence",
    "Factory",
    "Handle",
    "LogRecorder",
    "Observation",
    "Op",
    "ReferenceRingBuffer",
    "check_lockstep",
    "check_sequence",
    "make_reference",
    "record_operations",
    "validate_log",
]

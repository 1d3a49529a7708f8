"""Concurrent conformance: an implementation's calls run at once, every interleaving explored.

`protocol` is what an implementation is written against (a shared-memory
object whose accesses its generator calls yield), `scenario` says which
calls run at once, `execution` steps them under a memory model of
``model.memory``, `explore` searches every schedule (bounded by preemptions
if asked), minimises and shrinks a failure, `judge` checks the model's
properties on the implementation's memory and linearizability against
``model.operations``, `report` prints and writes a failing schedule and
reads it back, `reference` and `mutants` are the bundled implementations.
See docs/concurrent-conformance.md.
"""

from checker.conformance.concurrent.explore import ConcurrentResult, Setup, explore, random_runs, replay
from checker.conformance.concurrent.protocol import ConcurrentAdapter, SharedMemory
from checker.conformance.concurrent.reference import ConcurrentReference, make_concurrent_reference
from checker.conformance.concurrent.scenario import SCENARIOS, Scenario

__all__ = ["SCENARIOS", "ConcurrentAdapter", "ConcurrentReference", "ConcurrentResult", "Scenario", "Setup",
           "SharedMemory", "explore", "make_concurrent_reference", "random_runs", "replay"]

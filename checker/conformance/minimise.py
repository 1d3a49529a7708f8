"""Shrinking a diverging operation sequence until no single operation can be dropped.

Hypothesis shrinks stateful runs well but not always to the end (it can
stop in a local minimum, e.g. keeping a redundant consumer_pos store). This
pass finishes the job deterministically: drop one operation at a time
(dropping a reservation drops the write and commit of its record too, and
renumbers the producer's later records), keep the shorter sequence if it is
still a path of the model and still diverges, until nothing more can go.
The result is 1-minimal: removing any one operation loses the divergence.
"""

from __future__ import annotations

from checker.conformance.adapter import Factory
from checker.conformance.divergence import Divergence
from checker.conformance.lockstep import check_sequence
from checker.conformance.ops import RESERVE, Op
from checker.conformance.oracle import Oracle
from model.config import Config
from model.operations import OperationError


def without(config: Config, ops: list[Op], i: int) -> list[Op]:
    """`ops` without operation `i` (and, for a reservation, its record's operations), records renumbered."""
    dropped = ops[i]
    gone = {dropped.rec} if dropped.kind == RESERVE else set()
    kept = [op for j, op in enumerate(ops) if j != i and not (op.rec in gone and op.kind != RESERVE)]
    renumber: dict[int, int] = {}
    attempts: dict[int, int] = {}
    for op in kept:
        if op.kind == RESERVE:
            n = attempts.get(op.producer, 0)
            attempts[op.producer] = n + 1
            renumber[op.rec] = op.producer * config.records + n
    return [op._replace(rec=renumber.get(op.rec, op.rec)) for op in kept]


def is_model_path(config: Config, ops: list[Op]) -> bool:
    """True when the model can run `ops` from the empty ring."""
    oracle = Oracle(config)
    s = oracle.initial()
    try:
        for op in ops:
            s, _ = oracle.apply(s, op)
    except OperationError:
        return False
    return True


def minimise(factory: Factory, config: Config, divergence: Divergence) -> Divergence:
    """A divergence whose operation sequence is 1-minimal (possibly `divergence` itself)."""
    best = divergence
    changed = True
    while changed:
        changed = False
        for i in range(len(best.operations)):
            candidate = without(config, best.operations, i)
            if not candidate or not is_model_path(config, candidate):
                continue
            found = check_sequence(factory, config, candidate)
            if found is not None:
                found.method = divergence.method
                best = found
                changed = True
                break
    return best

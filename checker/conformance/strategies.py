"""Hypothesis strategies for operation sequences the model allows, for reuse by any differential check.

`operation_sequences(config)` draws a list of `Op` that the model can run
from the empty ring, one operation at a time from those `Oracle.enabled`
offers, so every drawn sequence is a path of the model's operation graph
(a reserve is followed by its write before the producer's next call, only
held records are committed, the adversary stores only values within
reach). Each step first picks the kind of operation, then the operation,
so the many consumer_pos values of the adversary do not crowd out the
producers. Hypothesis shrinks towards fewer operations and towards the
first choice of each step (reserve before commit, the smallest size).

    from hypothesis import given
    from checker.conformance.strategies import operation_sequences

    @given(operation_sequences(config, max_ops=12))
    def test_kernel_matches(ops): ...
"""

from __future__ import annotations

from hypothesis import strategies as st

from checker.conformance.ops import ATTACKER_KINDS, KINDS, SET_CONSUMER_POS, Op
from checker.conformance.oracle import Oracle
from model.config import Config
from model.state import State

__all__ = ["Op", "enabled_by_kind", "next_operation", "operation_sequences"]


def enabled_by_kind(oracle: Oracle, s: State) -> dict[str, list[Op]]:
    """The enabled operations of `s`, grouped by kind in the order of `ops.KINDS` (stores nearest first)."""
    groups: dict[str, list[Op]] = {}
    for op in oracle.enabled(s):
        groups.setdefault(op.kind, []).append(op)
    if SET_CONSUMER_POS in groups:
        groups[SET_CONSUMER_POS] = oracle.by_closeness(s, groups[SET_CONSUMER_POS])
    return {k: groups[k] for k in KINDS + ATTACKER_KINDS if k in groups}


def next_operation(oracle: Oracle, s: State) -> st.SearchStrategy[Op]:
    """One operation enabled in `s`: a kind first, then one of its operations."""
    groups = enabled_by_kind(oracle, s)
    return st.sampled_from(sorted(groups, key=(KINDS + ATTACKER_KINDS).index)).flatmap(
        lambda kind: st.sampled_from(groups[kind]))


@st.composite
def operation_sequences(draw: st.DrawFn, config: Config, max_ops: int = 20, min_ops: int = 0) -> list[Op]:
    """A path of the model's operation graph from the empty ring, `min_ops` to `max_ops` long."""
    oracle = Oracle(config)
    s = oracle.initial()
    out: list[Op] = []
    length = draw(st.integers(min_ops, max_ops))
    while len(out) < length:
        if not oracle.enabled(s):
            break
        op = draw(next_operation(oracle, s))
        s, _ = oracle.apply(s, op)
        out.append(op)
    return out

"""The proofs' auxiliary invariants hold on reachable states of the explicit model.

An inductive proof is only as good as its hypotheses: an invariant that no
reachable state satisfies would make every obligation vacuous. Here every
invariant is evaluated on states the explicit model reaches (every k-th state
of a BFS, k chosen for about 250 per configuration), including states where
the consumer has delivered every record, so the ghost log is full: the log's
capacity (one place per record) is seen not to exclude them.
"""

import pytest
import z3

from checker.smt.codec import encode_state
from checker.smt.crosscheck import reachable_states
from checker.smt.invariants import Invariant, memory_safety_invariants
from checker.smt.prove import log_capacity
from model import Config
from specs.smt import Ring

CONFIGS = [
    Config(variant="v6.10", consumer="level", ring_size=32, records=2, hold=2, sizes=(8, 16), discard=True),
    Config(variant="v6.10", consumer="level", ring_size=32, producers=2, records=1, hold=1, sizes=(8, 16),
           discard=True),
    Config(variant="v6.10", consumer="adversarial", ring_size=32, records=2, hold=2, sizes=(8, 16),
           adversary_reach=32),
]


def _holds(cfg: Config, inv: Invariant, sym) -> bool:
    f = z3.simplify(inv.formula(cfg, Ring.of(cfg), sym))
    if z3.is_true(f) or z3.is_false(f):
        return z3.is_true(f)
    solver = z3.Solver()  # quantified invariants (window_payloads) do not simplify to a value
    solver.add(z3.Not(f))
    return solver.check() == z3.unsat


def _sample(cfg: Config, n: int = 250) -> list:
    states = reachable_states(cfg)
    full = [s for s in states if len(s.delivered) == cfg.producers * cfg.records]
    return states[:: max(1, len(states) // n)] + full[:20]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.describe())
def test_every_invariant_holds_on_reachable_states(cfg):
    cap = log_capacity(cfg)
    states = _sample(cfg)
    if cfg.honest:
        assert any(len(s.delivered) == cap for s in states), "no state with a full log was sampled"
    for s in states:
        sym = encode_state(cfg, s, cap)
        for inv in memory_safety_invariants(cfg):
            assert _holds(cfg, inv, sym), f"{inv.name} is false on a reachable state: {s}"


def test_a_false_invariant_is_seen_false():
    cfg = CONFIGS[0]
    wrong = Invariant("never_consumed", "consumer_pos never moves (false)",
                      lambda c, r, s: s.consumer_pos == 0)
    states = _sample(cfg)
    assert not all(_holds(cfg, wrong, encode_state(cfg, s, log_capacity(cfg))) for s in states)

"""Overwrite mode in the SMT layer: the symbolic steps agree with the explicit ones (cross-check), BMC finds
libbpf's consumer's loss and replays it, the overwrite proofs hold for every ring size, and the new
fields leave every other configuration's terms as they were."""

import pytest
import z3

from checker.smt.bmc import bmc
from checker.smt.codec import decode_state, encode_state, Evaluator
from checker.smt.crosscheck import crosscheck
from checker.smt.prove import OVERWRITE_SAFETY, proof_shape, prove
from checker.smt.transition import action_kinds
from model.config import Config, ConfigError
from model.ringbuf import RingBufModel
from specs.smt import ABSENT, fresh_state

OVERWRITE = Config(variant="v6.19-overwrite", consumer="adversarial", ring_size=32, records=1, hold=1,
                   sizes=(8, 16))


@pytest.mark.parametrize("consumer, records", [("adversarial", 3), ("level", 2)])
def test_the_symbolic_steps_agree_with_the_explicit_model(consumer, records):
    """S=16 with 8-byte records: the second reservation already runs the overwrite loop (2 s of CPU in all)."""
    rep = crosscheck(OVERWRITE.with_(ring_size=16, sizes=(0,), consumer=consumer, records=records))
    assert rep.disagreements == [] and rep.cut_short is None


@pytest.mark.slow
def test_the_symbolic_steps_agree_with_the_explicit_model_on_the_larger_shape():
    rep = crosscheck(OVERWRITE.with_(records=2))          # 9,051 states, 153,995 transitions
    assert rep.disagreements == [] and rep.cut_short is None


def test_other_configurations_keep_their_terms():
    cfg = Config(variant="v6.10", consumer="level")
    s = fresh_state(cfg, "s", 4)
    assert s.overwrite_pos is ABSENT and all(p.over is ABSENT for p in s.producers)
    assert all(k.step not in ("reserve.room", "reserve.overwrite_scan", "reserve.overwrite_claim")
               for k in action_kinds(cfg))
    overwrite = [k.step for k in action_kinds(OVERWRITE)]
    assert "reserve.claim" not in overwrite and "reserve.overwrite_scan" in overwrite


def test_states_round_trip_through_the_symbolic_codec():
    m = RingBufModel(OVERWRITE.with_(records=2, consumer="level"))
    s = m.initial_states()[0]
    for _ in range(40):                         # walk the first successor: through the overwrite steps
        succ = m.successors(s)
        if not succ:
            break
        s = succ[0][1]
        assert decode_state(m.config, Evaluator(), encode_state(m.config, s, 6)) == s


def test_the_safe_consumer_is_refused_by_the_smt_engines_in_one_line():
    with pytest.raises(ConfigError, match="overwrite-safe has no SMT encoding"):
        action_kinds(OVERWRITE.with_(consumer="overwrite-safe"))


@pytest.mark.slow
def test_bmc_finds_libbpf_delivering_garbage_and_replays_it():
    r = bmc(OVERWRITE.with_(consumer="level", records=2), "committed_only", 20)
    assert r.verdict.kind == "violated" and r.verdict.trace is not None


@pytest.mark.slow
def test_overwrite_safety_holds_for_every_ring_size():
    """One attempt: 13 s of CPU; the two-attempt shape, which runs the overwrite loop, is in the README."""
    r = prove([p for p in OVERWRITE_SAFETY if p != "aligned"], proof_shape("v6.19-overwrite", "adversarial", 1, 1, 2))
    assert set(r.verdicts.values()) == {"holds (complete)"}, r.verdicts

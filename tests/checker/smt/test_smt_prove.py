"""The inductive proofs: v6.10 proved, v5.8 refuted with a replayed trace, and the proof is seen to fail
when an auxiliary invariant it needs is taken away."""

import pytest
import z3

from checker.smt import invariants as I
from checker.smt.codec import encode_state
from checker.smt.crosscheck import reachable_states
from checker.smt.prove import proof_shape, prove
from checker.smt.transition import Choices, SymAction, action_kinds, guard
from model import Config, RingBufModel
from specs.smt import bv

SMALL = dict(producers=1, records=1, hold=1)


def test_v6_10_memory_safety_holds_for_every_ring_size():
    r = prove(["in_bounds", "no_overlap", "header_integrity", "capacity"], proof_shape("v6.10", **SMALL))
    assert set(r.verdicts.values()) == {"holds (complete)"}
    assert r.exit_code == 0
    assert all(o.result == "discharged" for o in r.obligations)
    assert any("consecution: no_overlap after p0.reserve.claim" in o.name for o in r.obligations)
    assert any("2**k" in a for a in r.assumptions)


def test_aligned_holds_with_an_aligned_adversary():
    r = prove(["aligned"], proof_shape("v6.10", **SMALL))
    assert r.verdicts == {"aligned": "holds (complete)"}
    assert "consumer_aligned" in [i.name for i in r.invariants]


def test_v5_8_in_bounds_is_refuted_with_a_trace_that_replays():
    r = prove(["in_bounds"], proof_shape("v5.8", **SMALL), cex_max_log2=6)
    assert r.verdicts["in_bounds"].startswith("violated")
    t = r.traces["in_bounds"]
    t.replay()
    assert t.reason and "bytes on a ring of" in t.reason
    assert r.exit_code == 1


@pytest.mark.slow
def test_proof_does_not_hold_without_the_window_headers_invariant(monkeypatch):
    monkeypatch.setattr(I, "PENDING", [i for i in I.PENDING if i.name != "window_headers"])
    r = prove(["header_integrity"], proof_shape("v6.10", producers=1, records=2, hold=2), cex_depth=3)
    assert r.verdicts["header_integrity"].startswith("unknown")
    assert r.exit_code == 3


def test_widened_choices_contain_every_explicit_action():
    """The proof's guards (any size, any adversary value) admit every action the explicit model takes."""
    cfg = Config(variant="v6.10", consumer="adversarial", ring_size=32, hold=2, sizes=(8, 16))
    kinds = action_kinds(cfg)
    m = RingBufModel(cfg)
    for s in reachable_states(cfg)[:150]:
        sym = encode_state(cfg, s, 1)
        for a, _ in m.successors(s):
            kind = next(k for k in kinds if (k.actor, k.step) == (a.actor, a.step))
            vals = dict(a.args)
            sa = SymAction(bv(kinds.index(kind)), {n: bv(vals.get(n, 0)) for n in
                                                   ("size", "nmi", "rec", "discard", "flags", "value")})
            for ch in (Choices(True, "any"), Choices(True, "aligned")):
                assert z3.is_true(z3.simplify(guard(cfg, sym, kind, sa, ch)))


@pytest.mark.slow                 # 8-16 s: the README's command stays under five minutes
def test_v6_10_level_consumer_delivery_properties_hold():
    r = prove(["ordered_delivery", "discard_skipped"], proof_shape("v6.10", "level", **SMALL))
    assert r.verdicts == {"ordered_delivery": "holds (complete)", "discard_skipped": "holds (complete)"}
    names = [i.name for i in r.invariants]
    assert "sleep_with_reason" in names and "delivered_log" in names
    # the header read by the scan and by the consumer is proved to be the record's own before it is rewritten
    lemmas = [o for o in r.obligations if o.name.startswith("lemma: the header word read")]
    assert {o.name.split(" after ")[1].split(" [")[0] for o in lemmas} == {"p0.reserve.scan", "c.consume.read_header"}
    assert all(o.result == "discharged" for o in lemmas)


def test_cli_prove_refuses_what_it_cannot_prove():
    from checker.cli import cli_entry
    assert cli_entry(["prove", "--consumer", "level", "--property", "exactly_once"]) == 2
    assert cli_entry(["prove", "--consumer", "edge"]) == 2
    assert cli_entry(["prove", "--variant", "v9"]) == 2


@pytest.mark.slow                 # 8-16 s: the README's command stays under five minutes
def test_v6_10_level_consumer_committed_only_holds():
    r = prove(["committed_only"], proof_shape("v6.10", "level", **SMALL))
    assert r.verdicts == {"committed_only": "holds (complete)"}
    delivered = [o for o in r.obligations if o.name.startswith("consecution: committed_only after c.consume.deliver")]
    assert delivered and all(o.result == "discharged" for o in delivered)
    assert any(o.how.startswith("instantiated") for o in delivered)


@pytest.mark.slow
def test_level_proof_log_has_a_place_per_record_and_never_fills():
    r = prove(["ordered_delivery"], proof_shape("v6.10", "level", producers=1, records=2, hold=1))
    assert r.verdicts == {"ordered_delivery": "holds (complete)"}
    assert any("ghost log of deliveries has 2 places" in a for a in r.assumptions)
    room = [o for o in r.obligations if o.name.startswith("consecution: log_room")]
    assert room and all(o.result == "discharged" for o in room)


def test_a_failed_property_is_not_assumed_by_the_others():
    """in_bounds fails on v5.8; capacity is then checked again without assuming it (round 2)."""
    r = prove(["in_bounds", "capacity"], proof_shape("v5.8", **SMALL), cex_max_log2=6)
    assert r.verdicts["in_bounds"].startswith("violated")
    assert any(o.name.startswith("round 2: consecution: capacity") for o in r.obligations)
    assert not any(o.name.startswith("round 2: consecution: in_bounds") for o in r.obligations)


def test_cli_passes_the_solver_budget_to_the_prover(monkeypatch):
    import checker.smt.prove as P
    from checker.cli import cli_entry

    seen = {}

    def fake(props, cfg, max_log2, progress, **kw):
        seen.update(kw)
        return P.ProofResult(list(props), cfg, {n: "holds (complete)" for n in props}, [], [])

    monkeypatch.setattr(P, "prove", fake)
    assert cli_entry(["prove", "--property", "capacity", "--timeout", "90", "--round-seconds", "7", "--jobs", "1"]) == 0
    assert seen["timeout_s"] == 90 and seen["round_s"] == 7 and seen["jobs"] == 1
    assert cli_entry(["prove", "--property", "capacity"]) == 0
    assert seen["timeout_s"] == 600 and seen["round_s"] == 30

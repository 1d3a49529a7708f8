"""The user ring's kernel-side safety is proved for every S = 2**k (k <= 32) and every 64-bit start; the proof
is not vacuous; with a per-sample check deleted the property it guards is no longer proved, and the
counterexample search finds a trace that replays in the mutant model."""

import pytest
import z3
from click.testing import CliRunner

from checker.smt.cli import prove_cmd
from checker.smt.user.invariants import INVARIANTS
from checker.smt.user.prove import FREE, _goals, proof_terms, prove_user, user_proof_shape
from checker.smt.user.transition import guard
from model.userring.drain import without
from model.userring.model import UserRingModel
from specs import get_property
from specs.smt import Ring

SAFETY = ["user_sample_bounds", "user_validated_advance", "user_exclusive_drain"]


@pytest.mark.slow
def test_kernel_safety_holds_for_every_ring_size_against_the_adversary_and_two_drains():
    r = prove_user(SAFETY, user_proof_shape("adversarial", drains=2))
    assert r.verdicts == {p: "holds (complete)" for p in SAFETY}
    assert [i.name for i in r.invariants] == [i.name for i in INVARIANTS]
    assert r.obligations and all(o.result == "discharged" for o in r.obligations)
    assert any("k <= 32" in a for a in r.assumptions) and any("no limit on the number of writes" in a
                                                              for a in r.assumptions)


@pytest.mark.slow
def test_kernel_safety_holds_with_libbpfs_producer():
    r = prove_user(SAFETY, user_proof_shape("libbpf", drains=2))
    assert r.verdict == "holds"


def test_every_consecution_obligation_has_a_state_to_start_from():
    cfg = user_proof_shape("adversarial", drains=2)
    ring, _, k_ok = Ring.symbolic("k", 32)
    for kind, hyps, enabled, _, _ in proof_terms(cfg, ring, k_ok, _goals(cfg, SAFETY), ()):
        s = z3.SolverFor("QF_ABV")
        s.add(enabled, *hyps)
        assert s.check() == z3.sat, kind


def test_the_free_choices_contain_the_explicit_models():
    cfg = user_proof_shape("adversarial", drains=1).with_(ring_size=16, hostile_writes=1, sizes=(8,))
    from checker.smt.user.codec import encode_user_state
    from checker.smt.user.transition import ARG_NAMES, SymAction, action_kinds, action_values

    kinds = action_kinds(cfg)
    model = UserRingModel(cfg)
    for s in [model.initial_states()[0]] + [n for _, n in model.successors(model.initial_states()[0])]:
        sym = encode_user_state(cfg, s, 4)
        for a, _ in model.successors(s):
            key = action_values(kinds, a)
            act = SymAction(z3.BitVecVal(key[0], 64), {n: z3.BitVecVal(v, 64) for n, v in zip(ARG_NAMES, key[1:])})
            assert z3.is_true(z3.simplify(guard(cfg, Ring.of(cfg), sym, kinds[key[0]], act, FREE))), a


def test_a_deleted_check_is_no_longer_proved():
    r = prove_user(SAFETY, user_proof_shape("adversarial", drains=1), checks=without("fits_ring"), cex_depth=1)
    assert r.verdicts["user_exclusive_drain"] == "holds (complete)"
    assert not r.verdicts["user_sample_bounds"].startswith("holds")
    assert "drain_sample" not in [i.name for i in r.invariants]


@pytest.mark.slow
@pytest.mark.parametrize("name, dropped", [("producer_pos_aligned", "drain_prod_aligned"),
                                           ("fits_dynptr", "drain_sample_dynptr"),
                                           ("discard_skipped", "drain_sample_flags"),
                                           ("busy_stops", "drain_sample_flags")])
def test_checks_the_kernel_side_safety_does_not_need_for_any_ring_size(name, dropped):
    r = prove_user(SAFETY, user_proof_shape("adversarial", drains=1), checks=without(name), cex_depth=1)
    assert r.verdict == "holds" and [i.name for i in INVARIANTS if i not in r.invariants] == [dropped]


@pytest.mark.slow
def test_a_deleted_check_gives_a_counterexample_that_replays_in_the_mutant():
    r = prove_user(SAFETY, user_proof_shape("adversarial", drains=1), checks=without("fits_advertised"), cex_depth=6)
    trace = r.traces["user_sample_bounds"]
    assert r.verdicts["user_sample_bounds"].startswith("violated")
    mutant = UserRingModel(trace.config, trace.start, without("fits_advertised"))
    s = mutant.initial_states()[0]
    for st in trace.steps:
        s = mutant.apply(s, st.action)
        assert s == st.state
    assert get_property("user_sample_bounds").check(trace.config, s, False)


def test_cli_prove_map_user():
    res = CliRunner().invoke(prove_cmd, ["--map", "user", "--drains", "1"])
    assert res.exit_code == 0, res.output
    assert "verdict: user_sample_bounds: holds (complete)" in res.output
    assert "verdict: user_aligned_prod: holds (complete)" in res.output
    assert "obligations: 143 of 143 discharged" in res.output
    bad = CliRunner().invoke(prove_cmd, ["--map", "user", "--property", "user_exactly_once"])
    assert bad.exit_code == 2 and "checked complete by ringcheck check --map user" in bad.output


def test_without_producer_pos_aligned_user_aligned_prod_is_no_longer_proved_and_its_trace_replays():
    r = prove_user(["user_aligned_prod"], user_proof_shape("adversarial", drains=1),
                   checks=without("producer_pos_aligned"), cex_depth=5)
    assert r.verdicts["user_aligned_prod"].startswith("violated (trace of 5 steps")
    trace = r.traces["user_aligned_prod"]
    assert trace.steps[-1].state.drains[0].prod % 8                      # the callback's sample: a misaligned prod
    full = prove_user(["user_aligned_prod"], user_proof_shape("adversarial", drains=1))
    assert full.verdicts["user_aligned_prod"] == "holds (complete)"


def test_without_fits_dynptr_a_trace_at_a_32_mib_ring_replays_in_the_mutant_and_not_in_the_kernel():
    """Issue 15, must-show 4 for fits_dynptr: only a ring of S >= 2**25 holds a sample over 2**24 - 1 bytes,
    beyond any ring the explicit search takes; z3 finds the trace, and the explicit model replays it step by
    step at that size (``replay_ring_sizes``, ``hostile_step``)."""
    from checker.smt.user.prove import find_user_counterexample
    from model.config import MAX_RING_SIZE

    trace, how = find_user_counterexample("user_dynptr_fits", user_proof_shape("adversarial", drains=1),
                                          without("fits_dynptr"), depth=6, max_log2=25)
    assert trace is not None, how
    assert trace.config.ring_size == 1 << 25 > MAX_RING_SIZE and len(trace) == 6
    assert "more than a dynptr's 16777215" in trace.reason                 # replayed by _decode, in the mutant
    kernel = UserRingModel(trace.config, trace.start)                      # the real drain refuses the sample
    s = kernel.initial_states()[0]
    for st in trace.steps[:-1]:
        s = kernel.apply(s, st.action)
        same = s == st.state                                               # (no repr of 4M-word states)
        assert same, f"the kernel model leaves the trace before its last step, at {st.action}"
    last = trace.steps[-1]
    assert last.action.step == "drain.read_header"
    s = kernel.apply(s, last.action)
    d = int(last.action.actor[1:])
    assert s.drains[d].err == -7 and last.state.drains[d].err == 0         # -E2BIG instead of the callback
    assert get_property("user_dynptr_fits").check(trace.config, s, False) is None


def test_without_fits_dynptr_user_dynptr_fits_is_no_longer_proved():
    r = prove_user(["user_dynptr_fits"], user_proof_shape("adversarial", drains=1), checks=without("fits_dynptr"),
                   cex_depth=1)
    assert not r.verdicts["user_dynptr_fits"].startswith("holds")
    full = prove_user(["user_dynptr_fits"], user_proof_shape("adversarial", drains=1))
    assert full.verdicts["user_dynptr_fits"] == "holds (complete)"

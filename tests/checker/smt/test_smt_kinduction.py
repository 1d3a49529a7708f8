"""k-induction: proves v6.10 memory safety when strengthened, finds CVE-2021-3489 in its base case with a trace
that replays, says "unknown" (never "holds") when the step case fails, and its simple-path constraint tells apart
states that differ in the data area only."""

import pytest
import z3

from checker.cli import cli_entry
from checker.smt.codec import encode_state
from checker.smt.invariants import Invariant, memory_safety_invariants
from checker.smt.kinduction import _pairwise_distinct, k_induction
from checker.smt.prove import proof_shape
from model import Config, RingBufModel
from model.state import UNUSED
from specs.smt import Ring

SMALL = dict(producers=1, records=1, hold=1)


def test_strengthened_k_induction_proves_v6_10_memory_safety():
    props = ["in_bounds", "capacity", "header_integrity"]
    r = k_induction(props, proof_shape("v6.10", **SMALL), 2, max_log2=8, strengthen=True)
    assert r.verdicts == {p: "holds (complete)" for p in props}
    assert r.exit_code == 0
    assert all(o.result == "discharged" for o in r.obligations)
    names = [o.name for o in r.obligations]
    assert "base case: in_bounds at depth 1" in names
    assert any(n.startswith("step case K=2: tiling after p0.reserve.claim") for n in names)
    assert any("k-induction with K=2, strengthened by well_formed" in a for a in r.assumptions)


@pytest.mark.parametrize("k", [1, 2])
def test_unstrengthened_step_case_is_unknown_not_holds(k):
    r = k_induction(["capacity"], proof_shape("v6.10", **SMALL), k, max_log2=8, strengthen=False)
    assert r.verdicts["capacity"].startswith(f"unknown: step case fails at K={k}")
    assert r.exit_code == 3
    assert any(o.result == "failed" and o.name.startswith(f"step case K={k}: capacity") for o in r.obligations)
    assert all(o.result == "discharged" for o in r.obligations if o.name.startswith("base case"))
    assert any("strengthened by nothing" in a for a in r.assumptions)


@pytest.mark.slow                 # about 15 s
def test_base_case_finds_cve_2021_3489_and_the_trace_replays():
    r = k_induction(["in_bounds"], proof_shape("v5.8", **SMALL), 6, max_log2=6, strengthen=True, cex_max_log2=6)
    assert r.verdicts["in_bounds"].startswith("violated (trace of")
    assert r.exit_code == 1
    assert any(o.name.startswith("base case: in_bounds at depth") and o.result == "failed" for o in r.obligations)
    assert not any(o.name.startswith("step case") and "in_bounds" in o.name for o in r.obligations)
    t = r.traces["in_bounds"]
    t.replay()
    assert t.reason and "bytes on a ring of" in t.reason


def test_wrong_invariants_are_not_assumed():
    """An invariant false initially, and one true initially but not kept, are dropped; the proof goes on without."""
    cfg = proof_shape("v6.10", **SMALL)
    aligned16 = Invariant("aligned16", "producer_pos is a multiple of 16", lambda c, r, s: s.producer_pos & 15 == 0)
    unused = Invariant("never_reserved", "every record is UNUSED",
                       lambda c, r, s: z3.And([rec.status == UNUSED for rec in s.records]))
    r = k_induction(["capacity"], cfg, 1, max_log2=8, strengthen=memory_safety_invariants(cfg) + [aligned16, unused])
    assert r.verdicts == {"capacity": "holds (complete)"}
    assert "not assumed (their base case fails at K=1): aligned16" in r.assumptions
    assert "not assumed (their step case fails at K=1): never_reserved" in r.assumptions
    assert {"aligned16", "never_reserved"}.isdisjoint(i.name for i in r.invariants)
    assert any(o.name.startswith("step case K=1 (round 2): capacity") for o in r.obligations)


def test_simple_path_compares_the_data_area_too():
    cfg = Config(variant="v6.10", consumer="adversarial", ring_size=32)
    s = RingBufModel(cfg).initial_states()[0]
    other = s._replace(slots=(1,) + s.slots[1:])
    ring = Ring.of(cfg)
    same = z3.Solver()
    same.add(_pairwise_distinct(ring, [encode_state(cfg, s, 1), encode_state(cfg, s, 1)]))
    assert same.check() == z3.unsat
    differ = z3.Solver()
    differ.add(_pairwise_distinct(ring, [encode_state(cfg, s, 1), encode_state(cfg, other, 1)]))
    assert differ.check() == z3.sat


def test_cli_k_induction_proves_capacity(capsys):
    code = cli_entry(["prove", "--variant", "v6.10", "--producers", "1", "--records", "1", "--hold", "1",
                      "--k-induction", "2", "--max-log2", "8", "--property", "capacity"])
    out = capsys.readouterr().out
    assert code == 0
    assert "step case K=2: capacity after p0.reserve.claim [record 0]: discharged" in out
    assert "obligations: " in out and "verdict: capacity: holds (complete)" in out
    assert "k-induction with K=2" in out


def test_cli_k_induction_without_strengthening_exits_3(capsys):
    code = cli_entry(["prove", "--producers", "1", "--records", "1", "--hold", "1", "--k-induction", "1",
                      "--no-strengthen", "--max-log2", "8", "--property", "capacity"])
    assert code == 3
    assert "verdict: capacity: unknown: step case fails at K=1" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["--k-induction", "0"], ["--k-induction", "21"], ["--k-induction", "two"],
                                  ["--no-strengthen"], ["--k-induction", "1", "--round-seconds", "30"],
                                  ["--round-seconds", "0"], ["--timeout", "-1"]])
def test_cli_bad_k_is_one_line_exit_2(args, capsys):
    assert cli_entry(["prove", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("ringcheck: error:")

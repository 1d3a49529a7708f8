"""The cross-check finds no disagreement on correct encodings and catches each planted bug."""

import dataclasses

import z3
from click.testing import CliRunner

import specs
from checker.smt import producer as P
from checker.smt import transition
from checker.smt.crosscheck import crosscheck
from checker.smt.cli import crosscheck_cmd
from model import Config
from specs import memory_safety
from specs.smt import header_word, slot_index

CVE_41009 = Config(variant="v5.13", consumer="adversarial", ring_size=32, hold=2, sizes=(8, 16))
HONEST = Config(variant="v6.10", consumer="level", ring_size=32, hold=2, sizes=(8, 16), discard=True)


def test_no_disagreement_on_a_violating_and_an_honest_configuration():
    for cfg in (CVE_41009, HONEST):
        rep = crosscheck(cfg, states=60, successor_states=6)
        assert rep.disagreements == []
        assert rep.checked == 60 and rep.sampled
    assert crosscheck(CVE_41009, states=60, successor_states=0).violating > 0


def test_planted_off_by_one_in_smt_no_overlap_is_caught(monkeypatch):
    def overlap_off_by_one(ring, a, len_a, b, len_b):
        d = (b - a) & ring.mask
        return z3.Or(z3.UGE(len_a, ring.size), z3.UGE(len_b, ring.size),
                     z3.ULT(d, len_a), z3.UGT(d + len_b, ring.size + 8))

    monkeypatch.setattr(memory_safety, "ranges_overlap_smt", overlap_off_by_one)
    rep = crosscheck(CVE_41009, states=120, successor_states=0)
    names = {(d.check, d.name) for d in rep.disagreements}
    assert ("property", "no_overlap") in names
    d = next(d for d in rep.disagreements if d.name == "no_overlap")
    assert "Python predicate: violated" in d.detail and "SMT encoding: holds" in d.detail


def test_planted_transition_that_forgets_busy_is_caught_by_b_and_c(monkeypatch):
    def claim_without_busy(cfg, ring, s, p):
        nxt = P.reserve_claim(cfg, ring, s, p)
        pr = s.producers[p]
        forgot = nxt.slots.store(slot_index(ring, pr.prod), header_word(pr.cur, pr.size))
        return nxt._replace(slots=forgot.ite(nxt.producer_pos != s.producer_pos, nxt.slots))

    monkeypatch.setitem(transition.STEP_TERMS, "reserve.claim", claim_without_busy)
    rep = crosscheck(HONEST, states=80, successor_states=80)
    kinds = {(d.check, d.name) for d in rep.disagreements}
    assert ("transition", "p0.reserve.claim") in kinds
    assert ("successors", "p0.reserve.claim") in kinds
    d = next(d for d in rep.disagreements if d.check == "transition")
    assert "BUSY" in d.detail


def test_planted_wrong_property_encoding_via_registry(monkeypatch):
    prop = specs.PROPERTIES["aligned"]
    monkeypatch.setitem(specs.PROPERTIES, "aligned",
                        dataclasses.replace(prop, smt=lambda cfg, ring, s, t: s.producer_pos & 15 == 0))
    rep = crosscheck(HONEST, states=80, successor_states=0)
    assert [d.name for d in rep.disagreements] == ["aligned"]


def test_cli_exit_codes():
    r = CliRunner().invoke(crosscheck_cmd, ["--variant", "v6.10", "--consumer", "edge", "--states", "20",
                                            "--successor-states", "2"])
    assert r.exit_code == 0, r.output
    assert "sampled" in r.output and "0 disagreements" in r.output

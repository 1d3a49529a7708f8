"""BMC finds both CVEs with traces that replay, and refuses a trace the explicit model does not reproduce."""

import pytest

from checker.smt.bmc import ReplayMismatch, bmc
from checker.suite import CVE_2021_3489
from model import Config

CVE_2024_41009_REAL = Config(variant="v5.13", consumer="adversarial", ring_size=0x4000, producers=1,
                             records=2, hold=2, sizes=(0x2FF8,))


def test_cve_2021_3489_on_v5_8_shortest_trace_replays():
    r = bmc(CVE_2021_3489, "in_bounds", 8)
    v = r.verdict
    assert v.kind == "violated" and v.property == "in_bounds"
    assert len(v.trace) == 5
    v.trace.replay()
    assert "48 bytes on a ring of 32" in v.reason


def test_cve_2021_3489_absent_on_v5_13_up_to_depth():
    v = bmc(CVE_2021_3489.with_(variant="v5.13"), "in_bounds", 6).verdict
    assert v.kind == "bounded" and v.bound == "depth=6" and v.exit_code == 3


@pytest.mark.slow                 # 8-16 s: the README's command stays under five minutes
def test_cve_2024_41009_at_real_size_replays_at_that_size():
    v = bmc(CVE_2024_41009_REAL, "no_overlap", 10, from_depth=10).verdict
    assert v.kind == "violated" and v.property == "no_overlap"
    t = v.trace
    assert t.config.ring_size == 0x4000 and len(t.final.slots) == 2048
    t.replay()
    first, second = t.final.records
    assert first.status == second.status == 2            # both busy
    assert (first.pos - second.pos) % 0x4000 < 0x3000    # the first header lies inside the second
    assert any(st.action.actor == "user" for st in t.steps)


def test_trace_that_does_not_replay_fails_loudly(plant_claim_without_busy):
    plant_claim_without_busy()
    cfg = Config(variant="v6.10", consumer="adversarial", ring_size=32, sizes=(8,))
    with pytest.raises(ReplayMismatch, match="reserve.claim"):
        bmc(cfg, "header_integrity", 6)


def test_cli_bmc_exit_codes_and_mismatch_is_exit_2(plant_claim_without_busy, tmp_path):
    from checker.cli import cli_entry

    base = ["bmc", "--property", "in_bounds", "--variant", "v5.8", "--consumer", "adversarial", "--sizes", "8,40"]
    out = tmp_path / "t.json"
    assert cli_entry(base + ["--depth", "6", "--trace-out", str(out)]) == 1
    from checker.trace import Trace
    Trace.load(out).replay()
    assert cli_entry(base + ["--depth", "6", "--trace-out", str(out)]) == 2      # refuses to overwrite
    assert cli_entry(["bmc", "--property", "in_bounds", "--depth", "3", "--variant", "v6.10"]) == 3
    assert cli_entry(["bmc", "--property", "no_such", "--depth", "3"]) == 2

    plant_claim_without_busy()
    assert cli_entry(["bmc", "--property", "header_integrity", "--depth", "5", "--variant", "v6.10",
                      "--consumer", "adversarial", "--sizes", "8"]) == 2

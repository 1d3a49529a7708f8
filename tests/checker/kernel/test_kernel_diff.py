"""The differential check against the live kernel: agreement, the CVE scenario, planted bugs, libbpf."""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.kernel.bpf import kernel_available
from checker.kernel.campaign import run_campaign
from checker.kernel.diff import compare, diff_scenario, observe_kernel, show_value
from checker.kernel.libbpf import libbpf_available
from checker.kernel.predict import predict
from checker.kernel.ringmap import RingMap
from checker.kernel.scenario import Consume, Run, SetConsumerPos, model_config
from checker.kernel.script import Discard, Output, Query, Reserve, Submit, Write
from checker.kernel.strategies import scenarios
from checker.trace import Trace

AVAILABLE, REASON = kernel_available()
LIBBPF, LIBBPF_REASON = libbpf_available()
pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not AVAILABLE, reason=REASON)]
needs_libbpf = pytest.mark.skipif(not LIBBPF, reason=LIBBPF_REASON)

RING, CONSUMER_POS, PAYLOAD = 0x4000, 0x3000, 0x2FF8
CVE_2024_41009 = (SetConsumerPos(CONSUMER_POS),
                  Run((Reserve(0, PAYLOAD), Reserve(1, PAYLOAD), Discard(1), Discard(0))))


def _overlap(a: tuple[int, int], b: tuple[int, int], size: int) -> bool:
    """Do byte ranges [pos, pos+len) a and b intersect modulo ``size``?"""
    covered = {(a[0] + i) % size for i in range(a[1])}
    return any((b[0] + i) % size in covered for i in range(b[1]))


def test_cve_2024_41009_at_real_size_is_refused_as_v6_10_predicts_while_v5_13_predicts_the_overlap():
    seen = observe_kernel(CVE_2024_41009)
    first, second = seen.results[1][0], seen.results[1][1]
    assert (first.ok, first.value) == (True, 0)
    assert (second.ok, second.value) == (False, None)

    v6_10 = predict(CVE_2024_41009, "v6.10")
    v5_13 = predict(CVE_2024_41009, "v5.13")
    position = {v: {e.where: e.value for e in p.expects} for v, p in (("v6.10", v6_10), ("v5.13", v5_13))}
    assert position["v6.10"][("op", 1, 0)] == 0 and position["v6.10"][("op", 1, 1)] is None
    assert position["v5.13"][("op", 1, 0)] == 0 and position["v5.13"][("op", 1, 1)] == CONSUMER_POS
    record = PAYLOAD + 8
    assert _overlap((0, record), (CONSUMER_POS, record), RING)  # the v5.13 prediction wraps over the busy first record

    assert diff_scenario(CVE_2024_41009, "v6.10").agrees
    wrong = diff_scenario(CVE_2024_41009, "v5.13")
    assert not wrong.agrees


def test_a_planted_wrong_model_is_reported_as_a_disagreement_with_its_trace():
    result = diff_scenario(CVE_2024_41009, "v6.10", config=model_config(CVE_2024_41009, "v5.13"))
    found = result.disagreement
    assert found is not None
    assert found.expect.where == ("op", 1, 1)
    assert (found.expect.value, found.observed) == (CONSUMER_POS, None)
    assert found.headline() == ("item 1 op 1 Reserve(s1, 0x2ff8) -> position: model v5.13 expects 0x3000, "
                                "kernel gave NULL")
    assert isinstance(found.trace, Trace) and found.trace.property == "kernel-diff"
    actions = [str(step.action) for step in found.trace.steps]
    assert actions[0] == "user.store_cons(value=12288)"
    assert actions[-2:] == ["p0.reserve.claim", "p0.write(rec=1)"]
    assert found.trace.final.producer_pos == 2 * CONSUMER_POS
    assert "disagreement: item 1 op 1" in found.format()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(scenarios())
def test_a_few_hundred_generated_scenarios_agree_with_the_v6_10_model(scenario):
    result = diff_scenario(scenario, "v6.10")
    assert result.agrees, result.disagreement.format()
    assert result.compared >= 3


def test_the_campaign_counts_scripts_and_comparisons():
    result = run_campaign(60, 7, "v6.10")
    assert (result.scripts, result.disagreements, result.exit_code, result.minimal) == (60, 0, 0, None)
    assert result.compared > 60 * 5
    assert "60 scripts run" in result.summary() and "0 disagreements" in result.summary()


@pytest.mark.slow                 # 8-16 s: the README's command stays under five minutes
def test_the_campaign_finds_and_shrinks_a_planted_wrong_model():
    result = run_campaign(1000, 1, "v5.13")
    assert result.disagreements == 1 and result.exit_code == 1
    assert result.scripts < 1000 and result.shrink_runs > 0
    minimal = result.minimal
    assert minimal is not None and minimal.variant == "v5.13"
    assert "Reserve" in minimal.expect.label and minimal.observed is None
    assert len(minimal.scenario) <= 3
    assert any(isinstance(item, SetConsumerPos) for item in minimal.scenario)


HONEST_SCRIPTS = [
    (Run((Reserve(0, 5), Write(0, 0x41), Output(3, 0x42), Submit(0))), Consume()),
    (Run((Reserve(0, 0x2000), Write(0, 0x41), Reserve(1, 0x1000), Write(1, 0x42), Submit(1), Output(0, 0x43))),
     Consume(), Run((Output(256, 0x44), Reserve(0, 0x3000), Write(0, 0x45), Submit(0, 2), Query(0))), Consume()),
    (Run(tuple(Output(200, 0x41 + i) for i in range(12))), Consume(), Run((Output(1, 0x4D),)), Consume()),
]


@needs_libbpf
@pytest.mark.parametrize("scenario", HONEST_SCRIPTS)
def test_libbpf_delivers_the_samples_the_model_predicts(scenario):
    libbpf_seen = observe_kernel(scenario, "libbpf")
    prediction = predict(scenario, "v6.10")
    for expect in prediction.expects:
        if expect.where[0] == "samples":
            assert libbpf_seen.samples[expect.where[1]] == expect.value
    assert sum(len(recs) for recs in prediction.samples_by_item.values()) >= 2
    assert diff_scenario(scenario, "v6.10", "libbpf").agrees


@needs_libbpf
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(scenarios(adversarial=False))
def test_libbpf_consumer_agrees_with_the_model_on_generated_honest_scenarios(scenario):
    result = diff_scenario(scenario, "v6.10", "libbpf")
    assert result.agrees, result.disagreement.format()


@pytest.mark.slow                 # 8-16 s: the README's command stays under five minutes
@needs_libbpf
def test_many_scenarios_leave_no_fd_or_mapping_behind():
    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    def mappings() -> int:
        with open("/proc/self/maps") as maps:
            return sum(1 for line in maps if "anon_inode:bpf" in line)

    strategy = st.one_of(scenarios(), scenarios(adversarial=False))
    diff_scenario([Run((Output(1, 1),)), Consume()], "v6.10", "libbpf")  # load libbpf before counting
    before = fds(), mappings()
    with RingMap():
        assert fds() > before[0] and mappings() == before[1] + 2  # the counters do see a ring
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        python = run_campaign(500, 11, "v6.10", "python", strategy)
        library = run_campaign(500, 12, "v6.10", "libbpf", scenarios(adversarial=False))
    assert python.scripts + library.scripts == 1000 and python.disagreements + library.disagreements == 0
    assert (fds(), mappings()) == before
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_payload_bytes_and_samples_are_compared_so_corruption_shows():
    scenario = (Run((Reserve(0, 12), Write(0, 0x41), Reserve(1, 5), Write(1, 0x42), Submit(1), Submit(0))), Consume())
    prediction = predict(scenario, "v6.10")
    payloads = [e for e in prediction.expects if e.where[0] == "payload"]
    assert [(e.where[2:], e.value) for e in payloads] == [((8, 12), b"A" * 12), ((32, 5), b"B" * 5)]
    seen = observe_kernel(scenario)
    assert compare(scenario, prediction, seen)[1] is None

    corrupted = bytearray(seen.data[0])
    corrupted[36] ^= 0xFF  # last payload byte of r1
    seen.data[0] = bytes(corrupted)
    compared, failed, observed = compare(scenario, prediction, seen)
    assert failed is not None and failed.label == "after item 0: payload of r1 (0x5 bytes at 0x20)"
    assert observed == b"BBBB\xbd"

    seen = observe_kernel(scenario)
    seen.samples[1] = seen.samples[1][::-1]  # the same samples, out of order
    compared, failed, observed = compare(scenario, prediction, seen)
    assert failed is not None and failed.where == ("samples", 1)
    assert show_value(failed.value) == "[0xc bytes of 0x41, 0x5 bytes of 0x42]"

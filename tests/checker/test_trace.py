"""Traces replay, round-trip through JSON, print only what changed, and refuse tampering."""

import json

import pytest

from checker.run import check
from checker.suite import CVE_2024_41009
from checker.trace import Trace, TraceError
from model import Config, parse_action
from model.codec import state_from_dict, state_to_dict


@pytest.fixture(scope="module")
def cve_trace():
    return check(CVE_2024_41009).trace


def test_json_round_trip_is_lossless(cve_trace, tmp_path):
    path = tmp_path / "t.json"
    cve_trace.save(path)
    back = Trace.load(path)
    assert back.states == cve_trace.states
    assert [st.action for st in back.steps] == [st.action for st in cve_trace.steps]
    assert back.property == "no_overlap"
    back.replay()


def test_state_codec_round_trip(cve_trace):
    for s in cve_trace.states:
        assert state_from_dict(json.loads(json.dumps(state_to_dict(s)))) == s


def test_action_text_round_trip(cve_trace):
    for st in cve_trace.steps:
        assert parse_action(str(st.action)) == st.action


def test_format_shows_only_changes(cve_trace):
    text = cve_trace.format()
    assert "user.store_cons(value=16)" in text
    assert "consumer_pos: 0 -> 16" in text
    assert "violated: no_overlap" in text
    step7 = text.split("  7  ")[1].split("\n  8  ")[0]
    assert "producer_pos" not in step7       # the store changed only consumer_pos


def test_tampered_state_fails_replay(cve_trace):
    d = cve_trace.to_dict()
    d["steps"][3]["state"]["producer_pos"] = 8
    with pytest.raises(TraceError, match="step 4"):
        Trace.from_dict(d).replay()


def test_impossible_action_fails_replay_with_step_number(cve_trace):
    d = cve_trace.to_dict()
    d["steps"][0]["action"] = "p0.reserve.claim"
    with pytest.raises(TraceError, match="step 1 .* not possible"):
        Trace.from_dict(d).replay()


def test_from_actions_names_the_first_impossible_step():
    cfg = Config(consumer="adversarial", sizes=(8,))
    acts = [parse_action(a) for a in ["p0.reserve.check(size=8)", "p0.reserve.lock"]]
    with pytest.raises(TraceError) as e:
        Trace.from_actions(cfg, acts)
    assert str(e.value).startswith("step 2: p0.reserve.lock is not possible here")


@pytest.mark.parametrize("bad", [{}, {"format": "ringcheck-trace/1"}, {"format": "x"}])
def test_malformed_trace_file_is_a_trace_error(bad):
    with pytest.raises(TraceError):
        Trace.from_dict(bad)

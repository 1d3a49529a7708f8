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


# ---------------------------------------------------------------- weak memory (issue 13)

from checker.trace_memory import TEXT_QUIET_ACTORS  # noqa: E402
from model.ringbuf import RingBufModel  # noqa: E402
from tests.checker.graphs.conftest import (SMALL_EDGE, first_stale_trace, lost_wakeup, stale_ra,  # noqa: E402,F401
                                          stale_tso)


def _step_text(text: str, i: int) -> str:
    """The lines of step ``i`` in a formatted trace."""
    lines = text.split("\n")
    start = next(k for k, line in enumerate(lines) if line.startswith(f"{i:3}  "))
    end = next((k for k in range(start + 1, len(lines)) if not lines[k].startswith("       ")), len(lines))
    return "\n".join(lines[start:end])


def _stale_steps(trace) -> list[int]:
    m = trace.model()
    states = trace.states
    return [i for i, st in enumerate(trace.steps, 1)
            if any(e.stale for e in m.effects(states[i - 1], st.action) or [])]


@pytest.fixture(scope="module", params=["tso", "ra"])
def weak_trace(request):
    return first_stale_trace(Config(memory=request.param, **SMALL_EDGE))


def test_weak_trace_names_the_memory_model_and_its_bound(weak_trace):
    text = weak_trace.format()
    header = text.split("\n")[1]
    cfg = weak_trace.config
    bound = f"buffer={cfg.buffer}" if cfg.memory == "tso" else f"history={cfg.history}"
    assert header.startswith(f"memory: {cfg.memory} (") and bound in header
    assert "overrides: none" in header


def test_the_overrides_are_named_in_the_trace_header():
    cfg = Config(memory="tso", fences=("c.poll.wait",), orders=("c.consume.load_prod:producer_pos=plain",),
                 **SMALL_EDGE)
    header = Trace(cfg, RingBufModel(cfg).initial_states()[0]).format()
    assert "--fence c.poll.wait" in header and "--order c.consume.load_prod:producer_pos=plain" in header


def test_weak_trace_marks_exactly_the_stale_reads(weak_trace):
    text = weak_trace.format()
    stale = _stale_steps(weak_trace)
    assert stale == [len(weak_trace)], "the fixture is the shortest path to a stale read"
    for i in range(1, len(weak_trace) + 1):
        assert ("STALE" in _step_text(text, i)) == (i in stale)
    d = weak_trace.to_dict()
    assert [s["stale_read"] for s in d["steps"]] == [i in stale for i in range(1, len(weak_trace) + 1)]
    last = [r for r in d["steps"][-1]["reads"] if r["stale"]]
    assert last and all(r["value"] != r["newest"] for r in last), "a stale read saw an older value"


def test_tso_trace_shows_the_buffered_store_and_its_flush(stale_tso):
    text = stale_tso.format()
    m = stale_tso.model()
    flushes = [i for i, st in enumerate(stale_tso.steps, 1) if st.action.step == "flush"]
    assert flushes, "the fixture drains the buffers"
    for i in flushes:
        actor = stale_tso.steps[i - 1].action.actor
        before = m.weak.mm.panel(stale_tso.states[i - 1].memory, m.actor_names.index(actor))["buffer"]
        assert before, "a flush moves a buffered store"
        assert f"FLUSH {actor}: " in _step_text(text, i)
    buffer_lines = [line.strip() for line in text.split("\n") if line.strip().startswith("buffers: ")]
    assert any("=" in line for line in buffer_lines), "a buffered store is shown"
    assert buffer_lines[-1] == "buffers: " + " | ".join(f"{a} empty" for a in m.actor_names
                                                        if a not in TEXT_QUIET_ACTORS)
    d = stale_tso.to_dict()
    assert [i for i, s in enumerate(d["steps"], 1) if "flush" in s] == flushes
    assert all(not a["buffer"] for a in d["steps"][-1]["memory"]["actors"].values())


def test_weak_json_trace_round_trips_and_replays(stale_tso, stale_ra, tmp_path):
    for t in (stale_tso, stale_ra):
        path = tmp_path / f"{t.config.memory}.json"
        t.save(path)
        back = Trace.load(path)
        assert back.states == t.states and back.config == t.config
        back.replay()


def test_weak_json_trace_with_a_tampered_state_is_refused(stale_tso):
    d = json.loads(json.dumps(stale_tso.to_dict()))
    d["steps"][2]["state"]["consumer_pos"] = 8
    d["initial"].pop("memory", None)
    for st in d["steps"]:
        st["state"].pop("memory", None)
    with pytest.raises(TraceError):
        Trace.from_dict(d).replay()


def test_sc_trace_has_no_memory_lines_or_fields(cve_trace):
    assert "memory:" not in cve_trace.format() and "buffers:" not in cve_trace.format()
    d = cve_trace.to_dict()
    assert "initial_memory" not in d and all(set(s) == {"action", "state"} for s in d["steps"])
    assert cve_trace.memory_frames() is None


def _readme_form(text: str) -> str:
    """A trace as README's weak-memory section prints it: no kernel-function column, no locals lines
    except where the consumer falls asleep or is woken (without its cons/prod)."""
    import re
    out = []
    for line in text.split("\n")[2:]:
        s = line.strip()
        if re.match(r"(p\d|r\d): ", s):
            continue
        if s.startswith("consumer: "):
            if "-> asleep" not in s and "asleep cons=0 prod=0 ->" not in s:
                continue
            line = re.sub(r" cons=\d+ prod=\d+", "", line)
        out.append(re.sub(r"   \[.*\]$", "", line))
    return "\n".join(out)


def test_the_readme_lost_wakeup_trace_is_what_the_model_prints(lost_wakeup):
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Reading the lost-wakeup trace", 1)[1]
    block = section.split("```\n", 2)[1].rstrip("\n")
    assert block == _readme_form(lost_wakeup.format()), "regenerate the README's lost-wakeup trace"

"""Malformed input of every format is one line and exit 2, never "internal error" (issue 16, class 5).

Each format has a hypothesis test that takes a valid document, puts a
nasty value somewhere in it (a wrong JSON type, ``1e400``, ``NaN``, an
integer of thousands of digits, nesting thousands of levels deep) and runs
the command that reads it: the answer is a verdict or one error line with
exit 2. Beside them, the examples of the issue, which must be exit 2.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.cli import cli_entry
from checker.conformance import ops as o
from checker.conformance.adapter import Handle, Observation
from checker.conformance.guard import AdapterContractError
from checker.conformance.lockstep import check_lockstep
from checker.conformance.recorder import record_operations
from checker.conformance.reference import ReferenceRingBuffer, make_reference
from checker.graphs.itf import itf_text
from checker.run import check
from model.config import Config, ConfigError

CVE = Config(variant="v5.13", consumer="adversarial", hold=2)
SETTINGS = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))

RAW = {"huge": "9" * 5000, "inf": "1e400", "nan": "NaN", "deep": "[" * 5000 + "]" * 5000,
       "deep_object": '{"a":' * 3000 + "1" + "}" * 3000}
"""Texts json.dumps cannot write: spliced into a document in place of a marker string."""

nasty = st.one_of(
    st.sampled_from([f"@RAW:{k}@" for k in RAW]),
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70), st.floats(allow_nan=False,
                                                                                       allow_infinity=False),
    st.text(max_size=5), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                              max_size=2),
)


def _paths(doc: object, prefix: tuple = (), out: list | None = None) -> list[tuple]:
    out = [] if out is None else out
    out.append(prefix)
    if len(out) > 400:
        return out
    if isinstance(doc, dict):
        for k, v in doc.items():
            _paths(v, prefix + (k,), out)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            _paths(v, prefix + (i,), out)
    return out


def _replace(doc: object, path: tuple, value: object) -> object:
    if not path:
        return value
    copy = dict(doc) if isinstance(doc, dict) else list(doc)  # type: ignore[arg-type]
    copy[path[0]] = _replace(copy[path[0]], path[1:], value)  # type: ignore[index]
    return copy


def _text(doc: object) -> str:
    text = json.dumps(doc)
    for k, raw in RAW.items():
        text = text.replace(json.dumps(f"@RAW:{k}@"), raw)
    return text


@st.composite
def mutated(draw: st.DrawFn, doc: object) -> tuple[str, bool]:
    """``doc`` with one value (anywhere, the whole document included) replaced by a nasty one, and
    whether that value is one no ringcheck format allows anywhere (so the answer must be exit 2)."""
    paths = _paths(doc)
    path = draw(st.sampled_from(paths))
    value = draw(nasty)
    return _text(_replace(doc, path, value)), isinstance(value, str) and value.startswith("@RAW:")


def _allowed(never_valid: bool, otherwise: tuple) -> tuple:
    return (2,) if never_valid else otherwise


def _assert_clean(code: int, err: str, allowed: tuple = (0, 1, 2, 3)) -> None:
    assert "internal error" not in err and "Traceback" not in err, err
    assert code in allowed, (code, err)
    if code == 2:
        assert err.count("\n") == 1 and len(err) < 400, err


# ---------------------------------------------------------------- trace files and ITF

TRACE = check(CVE).trace.to_dict()
ITF = json.loads(itf_text(check(CVE).trace))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("malformed")


def _render(folder: Path, text: str, capsys) -> tuple[int, str]:
    path = folder / "input.json"
    path.write_text(text)
    code = cli_entry(["trace", str(path), "--format", "dot", "--output", "-"])
    return code, capsys.readouterr().err


@SETTINGS
@given(case=mutated(TRACE))
def test_a_malformed_trace_file_is_one_line(folder: Path, capsys, case: tuple[str, bool]) -> None:
    _assert_clean(*_render(folder, case[0], capsys), allowed=_allowed(case[1], (0, 2)))


@SETTINGS
@given(case=mutated(ITF))
def test_a_malformed_itf_file_is_one_line(folder: Path, capsys, case: tuple[str, bool]) -> None:
    _assert_clean(*_render(folder, case[0], capsys), allowed=_allowed(case[1], (0, 2)))


@pytest.mark.parametrize("doc", [
    {**TRACE, "property": 5},
    {**TRACE, "property": ["no_overlap"]},
    {**TRACE, "start": -8},
    {**TRACE, "start": 3},
    {**TRACE, "config": 5},
    {**TRACE, "config": {**TRACE["config"], "sizes": 8}},
    {**TRACE, "steps": {"a": 1}},
    {**ITF, "#meta": {**ITF["#meta"], "property": 5}},
    {**ITF, "#meta": {**ITF["#meta"], "config": 5}},
    {**ITF, "states": [5]},
    [TRACE],
])
def test_wrong_types_in_trace_and_itf_files_are_exit_2(folder: Path, capsys, doc: object) -> None:
    _assert_clean(*_render(folder, json.dumps(doc), capsys), allowed=(2,))


@pytest.mark.parametrize("raw", list(RAW))
def test_unreadable_json_is_exit_2(folder: Path, capsys, raw: str) -> None:
    _assert_clean(*_render(folder, _text({**TRACE, "start": f"@RAW:{raw}@"}), capsys), allowed=(2,))
    _assert_clean(*_render(folder, RAW[raw], capsys), allowed=(2,))


# ---------------------------------------------------------------- conformance logs

HONEST = Config(producers=2, discard=True)
LOG_SEQUENCE = [o.reserve(0, 8, 0), o.write(0, 0), o.commit(0, 0), o.consume()]


def _log_lines() -> list[dict]:
    buf = io.StringIO()
    record_operations(make_reference, HONEST, LOG_SEQUENCE, buf)
    return [json.loads(line) for line in buf.getvalue().splitlines()]


LOG = _log_lines()


def _validate(folder: Path, lines: list[str], capsys) -> tuple[int, str]:
    path = folder / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code = cli_entry(["conform", "--trace", str(path)])
    return code, capsys.readouterr().err


@SETTINGS
@given(line=st.integers(0, len(LOG) - 1), data=st.data())
def test_a_malformed_log_is_one_line(folder: Path, capsys, line: int, data: st.DataObject) -> None:
    lines = [json.dumps(x) for x in LOG]
    lines[line], never_valid = data.draw(mutated(LOG[line]))
    _assert_clean(*_validate(folder, lines, capsys), allowed=_allowed(never_valid, (0, 1, 2)))


@pytest.mark.parametrize("header", [
    {"format": "ringcheck-log/1", "ring_size": 32, "variant": "v6.10", "config": 5},
    {"format": "ringcheck-log/1", "ring_size": 32, "variant": "v6.10", "config": {"sizes": 5}},
    {"format": "ringcheck-log/1", "ring_size": "32", "variant": "v6.10"},
    {"format": "ringcheck-log/1", "ring_size": 32, "variant": ["v6.10"]},
    {"format": "ringcheck-log/1", "ring_size": 32},
    {"format": ["ringcheck-log/1"]},
])
def test_wrong_types_in_a_log_header_are_exit_2(folder: Path, capsys, header: dict) -> None:
    lines = [json.dumps(header)] + [json.dumps(x) for x in LOG[1:]]
    _assert_clean(*_validate(folder, lines, capsys), allowed=(2,))


def test_a_log_observation_with_a_float_header_word_is_exit_2(folder: Path, capsys) -> None:
    obs = next(x for x in LOG[1:] if x["op"] == "observe")
    lines = [json.dumps(LOG[0]), json.dumps({**obs, "headers": {"0": 1.5}})]
    _assert_clean(*_validate(folder, lines, capsys), allowed=(2,))


# ---------------------------------------------------------------- scenarios

NUMBERS = st.one_of(st.integers(-2**70, 2**70).map(str), st.sampled_from(["1e400", "9" * 5000, "0x", "-0x8",
                                                                          "2**64", "nan", ""]))
KEYS = st.sampled_from(["start", "ring_size", "producers", "records", "hold", "sizes", "adversary_reach",
                        "variant", "consumer", "nmi", "bogus"])


@SETTINGS
@given(key=KEYS, value=NUMBERS, stmt_value=NUMBERS,
       stmt=st.sampled_from(["p0 reserve {}", "user consumer_pos = {}", "p0.reserve.check(size={})",
                             "p{} reserve 8", "p0 submit r{}", "p0 reserve 8; p0 write; p0 submit; c consume"]))
def test_a_malformed_scenario_is_one_line(capsys, key: str, value: str, stmt: str, stmt_value: str) -> None:
    text = f"config: consumer=adversarial {key}={value}\n{stmt.format(stmt_value)}"
    code = cli_entry(["trace", text, "--format", "dot", "--output", "-"])
    _assert_clean(code, capsys.readouterr().err, allowed=(0, 2))


@pytest.mark.parametrize("start", ["-8", "3", str(2**64), "0x10000000000000000"])
def test_a_scenario_start_is_validated_as_check_start_is(capsys, start: str) -> None:
    code = cli_entry(["trace", f"config: start={start}\np0 reserve 8", "--format", "dot", "--output", "-"])
    err = capsys.readouterr().err
    _assert_clean(code, err, allowed=(2,))
    assert "start" in err
    assert cli_entry(["check", "--start", start]) == 2


# ---------------------------------------------------------------- adapter results and Config.from_dict

WRONG = st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2),
                  st.builds(Observation, st.one_of(st.integers(0, 64), st.text(max_size=2)),
                            st.one_of(st.integers(0, 64), st.none()), st.one_of(st.binary(max_size=4),
                                                                                st.integers())),
                  st.builds(Handle, st.one_of(st.integers(0, 64), st.text(max_size=2)), st.integers(0, 16)))


@SETTINGS
@given(method=st.sampled_from(["reserve", "consume", "observe"]), value=WRONG)
def test_an_adapter_returning_the_wrong_type_is_refused_by_name(method: str, value: object) -> None:
    class Lies(ReferenceRingBuffer):
        pass

    setattr(Lies, method, lambda self, *a, **k: value)
    try:
        r = check_lockstep(Lies, Config(), max_states=5)
    except AdapterContractError as e:
        assert str(e).startswith(f"adapter: {method}()") and "\n" not in str(e)
    else:  # a well-typed lie (a Handle, None, an Observation of integers and bytes) is a behaviour
        assert r.kind in ("diverges", "bounded")


@SETTINGS
@given(d=st.one_of(nasty, st.dictionaries(st.sampled_from(["variant", "ring_size", "sizes", "hold", "nmi",
                                                         "adversary_reach", "x"]), nasty, max_size=3)))
def test_config_from_dict_refuses_anything_malformed_with_a_config_error(d: object) -> None:
    try:
        Config.from_dict(d)  # type: ignore[arg-type]
    except ConfigError as e:
        assert "\n" not in str(e)

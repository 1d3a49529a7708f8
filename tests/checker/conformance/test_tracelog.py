"""Trace validation of JSON-lines logs, and the recorder that writes them from any adapter."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings

from checker.conformance import ops as o
from checker.conformance.mutants import MUTANTS
from checker.conformance.reference import make_reference
from checker.conformance.standard import standard_configs
from checker.conformance.strategies import operation_sequences
from checker.conformance.recorder import record_operations
from checker.conformance.tracelog import LogFormatError, validate_log

HONEST = standard_configs()["v6.10 level P=2 discard"].with_(ring_size=64)
ADVERSARIAL = standard_configs()["v5.8 adversarial sizes 8,40"]
SEQUENCE = [o.reserve(0, 8, 0), o.write(0, 0), o.reserve(1, 8, 2), o.write(1, 2), o.commit(1, 2),
            o.consume(), o.commit(0, 0), o.consume(), o.reserve(0, 16, 1), o.write(0, 1),
            o.commit(0, 1, discard=True), o.consume()]


def record(factory, config, seq) -> list[str]:
    buf = io.StringIO()
    record_operations(factory, config, seq, buf)
    return buf.getvalue().splitlines()


def edit(lines: list[str], index: int, change) -> list[str]:
    out = list(lines)
    obj = json.loads(out[index])
    change(obj)
    out[index] = json.dumps(obj)
    return out


def test_a_log_recorded_from_the_reference_validates() -> None:
    lines = record(make_reference, HONEST, SEQUENCE)
    assert json.loads(lines[0])["format"] == "ringcheck-log/1"
    assert sum(json.loads(x).get("op") == "observe" for x in lines[1:]) == len(SEQUENCE)
    result = validate_log(lines)
    assert result.kind == "conforms" and result.exit_code == 0, result.headline()


def test_one_edited_position_is_rejected_at_the_edited_line() -> None:
    lines = record(make_reference, HONEST, SEQUENCE)
    reserves = [i for i, x in enumerate(lines) if json.loads(x).get("op") == "reserve"]
    target = reserves[2]  # the third reservation, r1 at position 32
    assert json.loads(lines[target])["result"] == {"position": 32}
    bad = edit(lines, target, lambda d: d["result"].update(position=40))
    div = validate_log(bad).divergence
    assert div is not None and div.line == target + 1
    assert (div.operation.kind, div.field, div.expected, div.observed) == ("reserve", "result", 32, 40)


def test_an_edited_observation_is_rejected_at_its_line() -> None:
    lines = record(make_reference, HONEST, SEQUENCE)
    target = next(i for i, x in enumerate(lines) if json.loads(x).get("op") == "observe"
                  and json.loads(x)["consumer_pos"] == 32)
    bad = edit(lines, target, lambda d: d.update(consumer_pos=24))
    div = validate_log(bad).divergence
    assert div is not None and div.line == target + 1 and div.field == "consumer_pos"
    assert div.operation.kind == "observe" and div.observed == 24 and div.expected == 32


def test_a_header_edit_and_a_missing_header_are_rejected() -> None:
    lines = record(make_reference, HONEST, SEQUENCE)
    bad = edit(lines, 2, lambda d: d["headers"].update({"0": 8}))
    div = validate_log(bad).divergence
    assert div is not None and div.line == 3 and div.field == "header[0]"
    bad = edit(lines, 2, lambda d: d["headers"].pop("0"))
    assert validate_log(bad).divergence.observed == "missing"


def test_a_mutants_log_is_rejected_at_the_first_wrong_observation() -> None:
    lines = record(MUTANTS["consumer_never_stores"], HONEST, SEQUENCE)
    div = validate_log(lines).divergence
    assert div is not None and div.field == "consumer_pos" and div.operation.kind == "observe"
    assert json.loads(lines[div.line - 2]).get("op") == "consume"


def test_an_impossible_call_is_not_a_behaviour() -> None:
    lines = record(make_reference, HONEST, SEQUENCE[:2])
    lines.append(json.dumps({"op": "commit", "producer": 0, "position": 999}))
    div = validate_log(lines).divergence
    assert div is not None and div.field == "operation" and div.line == len(lines)


def test_config_is_inferred_without_a_config_in_the_header() -> None:
    lines = record(make_reference, ADVERSARIAL, [o.set_consumer_pos(24), o.reserve(0, 40, 0), o.write(0, 0)])
    lines = edit(lines, 0, lambda d: d.pop("config"))
    result = validate_log(lines)
    assert result.config.consumer == "adversarial" and result.config.variant == "v5.8"
    assert result.conforms


def test_the_log_may_give_the_whole_data_area_instead_of_headers() -> None:
    lines = record(make_reference, HONEST, SEQUENCE[:2])

    def to_data(d: dict) -> None:
        words = d.pop("headers")
        d["data"] = b"".join(int(words[str(off)]).to_bytes(8, "little") for off in range(0, 64, 8)).hex()

    assert validate_log(edit(lines, 2, to_data)).conforms


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("not json", "line 1: not JSON"),
    ('{"format": "other"}', "line 1: the first line must be a header"),
    ('{"format": "ringcheck-log/1", "ring_size": 33, "variant": "v6.10"}', "ring_size"),
    ('{"format": "ringcheck-log/1", "ring_size": 32, "variant": "v6.10"}\n{"op": "fly"}', "line 2"),
    ('{"format": "ringcheck-log/1", "ring_size": 32, "variant": "v6.10"}\n'
     '{"op": "reserve", "producer": 0, "size": -1, "result": null}', "\"size\""),
])
def test_malformed_logs_are_one_line_format_errors(text: str, message: str) -> None:
    with pytest.raises(LogFormatError, match=message) as info:
        validate_log(text.splitlines())
    assert "\n" not in str(info.value)


@settings(max_examples=30, deadline=None)
@given(operation_sequences(standard_configs()["v6.10 adversarial hold 2"], max_ops=12))
def test_every_recorded_reference_run_validates(seq) -> None:
    lines = record(make_reference, standard_configs()["v6.10 adversarial hold 2"], seq)
    assert validate_log(lines).conforms

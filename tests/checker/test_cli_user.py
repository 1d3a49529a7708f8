"""``--map user`` on the command line (issue 15): verdicts, one-line refusals, traces that render."""

import json

import pytest

from checker.cli import cli_entry


def run(args, capsys):
    code = cli_entry(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_map_user_holds_and_says_the_python_engine_ran(capsys):
    code, out, _ = run(["check", "--map", "user", "--discard", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["verdict"] == "holds" and d["config"]["map"] == "user"
    assert d["properties"][0] == "user_sample_bounds" and "in_bounds" not in d["properties"]
    assert any("compiled core does not support" in n for n in d["notes"])


@pytest.mark.parametrize("args,needle", [
    (["--variant", "v5.8"], "predates the user ring buffer"),
    (["--memory", "tso"], "sequentially consistent only"),
    (["--property", "in_bounds"], "stated for map ringbuf"),
    (["--drains", "3"], "drains"),
    (["--user-producer", "evil"], "user_producer"),
    (["--property", "eventually_delivered"], "no liveness properties"),
])
def test_bad_user_ring_input_is_one_line_exit_2(capsys, args, needle):
    code, out, err = run(["check", "--map", "user"] + args, capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_user_fields_without_map_user_are_refused(capsys):
    code, _, err = run(["check", "--drains", "2"], capsys)
    assert code == 2 and "only meaningful with map user" in err


def test_a_violation_trace_saves_and_renders_as_html(capsys, tmp_path):
    trace = tmp_path / "t.json"
    code, _, _ = run(["check", "--map", "user", "--records", "3", "--sizes", "8", "--start", "0xfffffffffffffff0",
                      "--trace-out", str(trace)], capsys)
    assert code == 1 and json.loads(trace.read_text())["property"] == "user_exactly_once"
    page = tmp_path / "t.html"
    code, _, _ = run(["trace", str(trace), "--format", "html", "--output", str(page)], capsys)
    assert code == 0 and "violated: user_exactly_once" in page.read_text()
    code, _, err = run(["trace", str(trace), "--format", "svg", "--output", str(tmp_path / "t.svg")], capsys)
    assert code == 2 and "html" in err

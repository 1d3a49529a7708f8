"""The CLI under weak memory: --memory/--buffer/--history/--order/--fence, refusals, JSON and headers."""

import json

import pytest

from checker.cli import cli_entry

LOST = ["check", "--consumer", "edge", "--ring-size", "64", "--property", "no_lost_wakeup"]


def run(args, capsys):
    code = cli_entry(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_lost_wakeup_under_tso_in_json(capsys):
    code, out, _ = run(LOST + ["--memory", "tso", "--json"], capsys)
    assert code == 1
    d = json.loads(out)
    assert d["verdict"] == "violated" and d["property"] == "no_lost_wakeup"
    assert d["config"]["memory"] == "tso" and d["config"]["buffer"] == 2
    assert any(step["action"] == "c.flush" for step in d["trace"][1:])


def test_overrides_are_printed_in_the_header_and_recorded_in_json(capsys):
    args = LOST + ["--memory", "tso", "--buffer", "8", "--fence", "c.consume.load_prod",
                   "--fence", "c.consume.read_header"]
    code, out, _ = run(args, capsys)
    assert code == 0 and "holds (complete)" in out
    header = out.splitlines()[0]
    assert "memory=tso buffer=8" in header and "fence=c.consume.load_prod" in header
    code, out, _ = run(LOST + ["--memory", "ra", "--order", "p0.reserve.claim:producer_pos=plain", "--json"],
                       capsys)
    assert json.loads(out)["config"]["orders"] == ["p0.reserve.claim:producer_pos=plain"]


def test_default_bound_exits_3(capsys):
    code, out, _ = run(LOST + ["--memory", "tso", "--fence", "c.consume.load_prod",
                               "--fence", "c.consume.read_header"], capsys)
    assert code == 3 and "holds up to bound buffer=2" in out


@pytest.mark.parametrize("args,needle", [
    (["--order", "p0.reserve.clam:producer_pos=plain"], "p0.reserve.clam"),
    (["--order", "reserve.claim:consumer_pos=plain"], "consumer_pos"),
    (["--order", "reserve.claim:producer_pos=acquire"], "producer_pos"),
    (["--order", "reserve.claim"], "STEP:LOCATION=ORDERING"),
    (["--fence", "p7.commit.wakeup"], "p7"),
    (["--fence", "irq.work"], "irq"),
    (["--memory", "pso"], "pso"),
    (["--buffer", "0", "--memory", "tso"], "buffer"),
])
def test_bad_weak_memory_input_is_one_line_exit_2(args, needle, capsys):
    code, out, err = run(LOST + args, capsys)
    assert code == 2 and needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_symmetry_runs_under_weak_memory(capsys):
    code, out, err = run(LOST + ["--memory", "tso", "--symmetry", "--producers", "2", "--records", "1"], capsys)
    assert code == 1 and "violated: no_lost_wakeup" in out and "Traceback" not in err


@pytest.mark.parametrize("command", [
    ["bmc", "--property", "no_overlap", "--depth", "2"],
    ["prove"],
    ["crosscheck"],
    ["conform"],
    ["kernel", "diff"],
])
@pytest.mark.parametrize("memory", ["tso", "ra"])
def test_sequentially_consistent_commands_refuse_weak_memory(command, memory, capsys):
    code, _, err = run(command + ["--memory", memory], capsys)
    assert code == 2 and "stays sequentially consistent" in err and err.count("\n") == 1


def test_weak_suite_runs_with_no_surprise(capsys):
    code, out, _ = run(["--memory", "tso"], capsys)
    assert code == 0 and "0 unexpected" in out and "lost wakeup, edge (tso)" in out

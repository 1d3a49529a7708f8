"""The CLI for liveness: --property NAME / --liveness, --fair, lassos in text and --json, refusals."""

import json

from checker.cli import cli_entry
from checker.trace import Trace

WRAP = ["--start", "0xffffffffffffffe0"]


def run(args, capsys):
    code = cli_entry(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_all_four_hold_with_their_fairness(capsys):
    code, out, _ = run(["check", "--liveness"], capsys)
    assert code == 0
    verdict = [line for line in out.splitlines() if line.startswith("verdict:")][0]
    assert "holds (complete)" in verdict and "no_starvation: p0" in verdict and "p0, c, irq" in verdict
    assert "strategy: scc" in out


def test_a_lasso_prints_stem_and_cycle_with_a_marker(capsys, tmp_path):
    out_file = tmp_path / "lasso.json"
    code, out, err = run(["check", "--property", "consumer_progress", *WRAP, "--trace-out", str(out_file)], capsys)
    assert code == 1
    lines = out.splitlines()
    marker = [i for i, line in enumerate(lines) if "--- cycle: steps" in line]
    assert len(marker) == 1 and "c.poll.wait" in lines[marker[0] + 1]
    assert any("back to state 21" in line for line in lines)
    t = Trace.load(out_file)
    assert t.loop == 21 and len(t) == 24
    t.replay()


def test_json_has_the_loop_index_and_fairness(capsys):
    code, out, _ = run(["check", "--property", "eventually_delivered", "--consumer", "edge", *WRAP, "--json"], capsys)
    d = json.loads(out)
    assert code == 1 and d["verdict"] == "violated" and d["strategy"] == "scc"
    assert d["fairness"] == {"eventually_delivered": ["p0", "c", "irq"]}
    assert d["loop"] == len(d["trace"]) - 1, "asleep for good: the last state repeats (a stutter)"


def test_fair_switch_changes_the_assumption(capsys):
    code, out, _ = run(["check", "--property", "eventually_delivered", "--fair", "p0,irq", "--json"], capsys)
    d = json.loads(out)
    assert code == 1 and d["fairness"]["eventually_delivered"] == ["p0", "irq"]
    code, out, _ = run(["check", "--property", "eventually_delivered", "--fair", "producers,c,irq"], capsys)
    assert code == 0


def test_bounded_liveness_exits_3(capsys):
    code, out, _ = run(["check", "--liveness", "--max-states", "40"], capsys)
    assert code == 3 and "holds up to bound max_states=40" in out


def test_refusals_are_one_line_exit_2(capsys):
    for args in (["--liveness", "--symmetry", "--producers", "2"], ["--liveness", "--strategy", "dfs"],
                 ["--liveness", "--fair", "c,zz"], ["--fair", "c"],
                 ["--property", "eventually_delivered", "--property", "no_overlap"]):
        code, out, err = run(["check", *args], capsys)
        assert code == 2 and err.startswith("ringcheck: error:") and err.count("\n") == 1, (args, err)
    code, _, err = run(["bmc", "--property", "consumer_progress", "--depth", "2"], capsys)
    assert code == 2 and "liveness property" in err and err.count("\n") == 1


def test_a_saved_lasso_renders_with_its_cycle(capsys, tmp_path):
    lasso = tmp_path / "lasso.json"
    run(["check", "--property", "consumer_progress", *WRAP, "--trace-out", str(lasso)], capsys)
    for fmt, marker in (("html", 'data-loop="21"'), ("itf", '"loop": 21'), ("dot", "back to the cycle start")):
        out = tmp_path / f"lasso.{fmt}"
        code, _, err = run(["trace", str(lasso), "--format", fmt, "--output", str(out)], capsys)
        assert code == 0, err
        assert marker in out.read_text()

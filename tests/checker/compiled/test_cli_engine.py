"""``--engine {auto,python,compiled}``: which core ran is in the header and in --json; auto falls back with the reason."""

from __future__ import annotations

import dataclasses
import json

import checker.compiled.engine as engine
from checker.cli import cli_entry
from checker.search import Search
from model import Config
from model.actions import Action

CVE = ["check", "--variant", "v5.13", "--consumer", "adversarial", "--hold", "2"]


def _json(capsys, argv):
    rc = cli_entry(argv + ["--json"])
    return rc, json.loads(capsys.readouterr().out)


def test_engines_agree_and_say_which_ran(capsys):
    rc_c, compiled = _json(capsys, CVE + ["--engine", "compiled"])
    rc_p, python = _json(capsys, CVE + ["--engine", "python"])
    rc_a, auto = _json(capsys, CVE)
    assert rc_c == rc_p == rc_a == 1
    assert (compiled["engine"], python["engine"], auto["engine"]) == ("compiled", "python", "compiled")
    for key in ("states", "transitions", "depth"):
        assert compiled["stats"][key] == python["stats"][key]
    assert compiled["trace"] == python["trace"]
    assert "bytes_per_state" in compiled["stats"] and "bytes_per_state" not in python["stats"]


def test_text_header_names_the_engine(capsys):
    assert cli_entry(CVE) == 1
    assert "strategy: bfs (engine compiled)" in capsys.readouterr().out


def test_auto_falls_back_with_the_reason(capsys):
    assert cli_entry(["check", "--records", "1", "--strategy", "random"]) in (0, 3)
    out = capsys.readouterr().out
    assert "(engine python)" in out and "note:     engine auto: the Python engine ran" in out
    assert "strategy random" in out


def test_compiled_refuses_what_it_does_not_support(capsys):
    assert cli_entry(["check", "--strategy", "random", "--engine", "compiled"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ringcheck: error: engine: the compiled core does not support strategy random")


def test_an_option_the_compiled_core_does_not_know_is_unsupported():
    @dataclasses.dataclass
    class Later(Search):
        coverage: bool = False

    search = Later.for_config(Config())
    assert engine.unsupported(search, "bfs") is None
    search.coverage = True
    assert "coverage" in engine.unsupported(search, "bfs")


def test_a_trace_that_does_not_replay_exits_2_naming_the_step(capsys, monkeypatch):
    real = engine.decode_action
    calls = []

    def wrong_third_action(cfg, code, before):
        calls.append(code)
        a = real(cfg, code, before)
        return Action(a.actor, "reserve.claim") if len(calls) == 3 else a

    monkeypatch.setattr(engine, "decode_action", wrong_third_action)
    assert cli_entry(CVE) == 2
    err = capsys.readouterr().err
    assert "internal error" in err and "step 3 (p0.reserve.claim)" in err

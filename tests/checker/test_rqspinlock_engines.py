"""v6.15 and the engines (issue 15): the compiled core refuses the rqspinlock, auto runs Python and says so."""

from __future__ import annotations

import json

from checker.cli import cli_entry
from checker.run import check
from model.config import Config

CFG = dict(variant="v6.15", producers=2, records=1, sizes=(8,), nmi=True)


def test_auto_runs_the_python_engine_and_says_why():
    v = check(Config(**CFG), engine="auto")
    assert v.kind == "holds" and v.engine == "python"
    assert any("v6.15" in n and "Python engine ran" in n for n in v.notes)


def test_the_compiled_engine_refuses_in_one_line(capsys):
    code = cli_entry(["check", "--variant", "v6.15", "--engine", "compiled"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "v6.15" in err


def test_the_json_verdict_names_the_engine(capsys):
    code = cli_entry(["check", "--variant", "v6.15", "--nmi", "--producers", "2", "--records", "1", "--sizes", "8",
                      "--lock-timeout", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["engine"] == "python" and data["config"]["lock_timeout"] is True

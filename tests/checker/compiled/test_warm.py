"""``ringcheck compile`` (checker.compiled.warm): every search path runs and is held to the Python verdict."""

from __future__ import annotations

import pytest

from checker.cli import cli_entry
from checker.compiled.warm import PATHS, WarmUpError, warm_up


def test_every_path_gives_the_python_engines_state_count():
    steps = warm_up()
    assert [s.path for s in steps] == list(PATHS)
    python_count = {False: 96, True: 56}  # WARM_CONFIG, Python engine (recomputed inside warm_up too)
    for s in steps:
        assert s.states == python_count["--symmetry" in s.path], s


def test_a_path_with_a_wrong_count_is_an_error(monkeypatch):
    import checker.run

    real = checker.run.check

    def wrong(cfg, **kw):
        v = real(cfg, **kw)
        if kw.get("engine") == "compiled":
            v.stats.states += 1
        return v

    monkeypatch.setattr(checker.run, "check", wrong)
    with pytest.raises(WarmUpError, match="'bfs' gave holds"):
        warm_up(["bfs"])


def test_the_command_lists_each_path_and_refuses_an_unknown_one(capsys):
    assert cli_entry(["compile", "--path", "dfs"]) == 0
    out = capsys.readouterr().out
    assert "dfs" in out and "holds, 96 states" in out and "ready in" in out
    assert cli_entry(["compile", "--path", "bfs --threads 3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not one of" in err


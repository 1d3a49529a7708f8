"""Progress (issue 16, class 12): a tqdm bar on stderr for runs longer than a second, never on stdout, off
when stderr is not a terminal unless --progress asks for it; prove shows it with --json too."""

from __future__ import annotations

import json

import pytest

from checker.cli import cli_entry
from checker.progress import Bar, wanted

LONG_CHECK = ["check", "--ring-size", "64", "--producers", "3", "--records", "2", "--sizes", "8,16",
              "--timeout", "1.6"]
"""Past the bar's one-second delay however fast the machine is (millions of states; stopped by the timeout)."""


def test_asked_for_the_bar_is_on_stderr_only(capsys):
    assert cli_entry([*LONG_CHECK, "--progress"]) == 3
    out, err = capsys.readouterr()
    assert "check: " in err and "state/s" in err, err
    assert "\r" not in out and "state/s" not in out


def test_not_asked_and_stderr_not_a_terminal_no_bar(capsys):
    assert cli_entry(LONG_CHECK) == 3
    out, err = capsys.readouterr()
    assert "state/s" not in err and "\r" not in err


def test_prove_with_json_shows_progress_and_prints_one_object(capsys):
    code = cli_entry(["prove", "--jobs", "1", "--max-seconds", "3", "--json", "--progress"])
    out, err = capsys.readouterr()
    assert code == 3
    assert "prove: " in err and "case" in err and "obligations settled" in err
    assert json.loads(out)["runs"][0]["obligations"]


@pytest.mark.parametrize("args", [pytest.param(["crosscheck", "--max-seconds", "2"], marks=pytest.mark.slow),
                                  ["conform", "--producers", "2", "--records", "3", "--hold", "2", "--discard",
                                   "--max-states", "4000"]])
def test_crosscheck_and_conform_show_progress(args, capsys, monkeypatch):
    import checker.progress

    monkeypatch.setattr(checker.progress, "DELAY_S", 0)  # the bar shows at once: a fast run is no reason to fail
    cli_entry([*args, "--progress"])
    out, err = capsys.readouterr()
    assert "state/s" in err, err
    assert "state/s" not in out


def test_no_progress_turns_it_off_and_the_bar_is_a_no_op_then(capsys):
    assert not wanted(False) and wanted(True)
    bar = Bar("x", enabled=False)
    bar.grow(3)
    bar.step()
    bar.note("n")
    bar.echo("line")
    bar.close()
    assert not bar.shown
    assert capsys.readouterr() == ("line\n", "")

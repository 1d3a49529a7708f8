"""Output files are created exclusively when written, checked up front, and never cost the verdict (issue 16, class 6)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import checker.cli
from checker.cli import cli_entry
from checker.cli_common import OutputError, check_output_path, write_new_file

CVE = ["check", "--variant", "v5.13", "--consumer", "adversarial", "--hold", "2"]


def _check_that_first(monkeypatch, action) -> None:
    """Run ``action`` just before the search (as if another program acted while ringcheck ran)."""
    real = checker.cli.check

    def slow_check(*args, **kw):
        action()
        return real(*args, **kw)

    monkeypatch.setattr(checker.cli, "check", slow_check)


def test_a_file_that_appears_during_the_run_is_not_replaced(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "t.json"
    _check_that_first(monkeypatch, lambda: out.write_text("mine\n"))
    assert cli_entry([*CVE, "--trace-out", str(out)]) == 1  # the verdict's exit code, not 2
    err = capsys.readouterr().err
    assert "trace not written" in err and "appeared while ringcheck was running" in err
    assert out.read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]  # no temporary file left behind


def test_a_symlink_that_appears_during_the_run_is_not_followed(tmp_path: Path, monkeypatch, capsys) -> None:
    out, target = tmp_path / "t.json", tmp_path / "elsewhere"
    _check_that_first(monkeypatch, lambda: out.symlink_to(target))
    assert cli_entry([*CVE, "--trace-out", str(out), "--force"]) == 1
    assert "trace not written" in capsys.readouterr().err
    assert not target.exists() and out.is_symlink()


def test_a_dangling_symlink_is_refused_up_front(tmp_path: Path, capsys) -> None:
    out, target = tmp_path / "t.json", tmp_path / "elsewhere"
    out.symlink_to(target)
    assert cli_entry([*CVE, "--trace-out", str(out)]) == 2
    assert "symbolic link to nothing" in capsys.readouterr().err
    assert not target.exists()


def test_a_missing_folder_is_refused_before_the_search(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(checker.cli, "check", lambda *a, **k: pytest.fail("searched before checking the folder"))
    assert cli_entry([*CVE, "--trace-out", str(tmp_path / "no" / "t.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_a_write_that_fails_keeps_the_verdict(tmp_path: Path, monkeypatch, capsys) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    _check_that_first(monkeypatch, folder.rmdir)
    assert cli_entry([*CVE, "--trace-out", str(folder / "t.json")]) == 1
    assert "trace not written" in capsys.readouterr().err


def test_conform_outputs_are_checked_up_front_and_exclusive(tmp_path: Path, capsys) -> None:
    assert cli_entry(["conform", "--record", str(tmp_path / "no" / "log.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
    taken = tmp_path / "div.txt"
    taken.write_text("x")
    args = ["conform", "--impl", "checker.conformance.mutants:ConsumerNeverStores", "--discard"]
    assert cli_entry([*args, "--divergence-out", str(taken)]) == 2  # exists: refused before the run
    assert cli_entry([*args, "--divergence-out", str(tmp_path / "new.txt")]) == 1
    assert (tmp_path / "new.txt").read_text().startswith("divergence")


def test_write_new_file_creates_an_ordinary_file_and_force_replaces_only_files(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    write_new_file(str(p), "one")
    mask = os.umask(0)
    os.umask(mask)
    assert p.read_text() == "one" and p.stat().st_mode & 0o777 == 0o666 & ~mask
    with pytest.raises(OutputError, match="appeared"):
        write_new_file(str(p), "two")
    write_new_file(str(p), "two", force=True)
    assert p.read_text() == "two"
    link = tmp_path / "l"
    link.symlink_to(p)
    with pytest.raises(OutputError, match="symbolic link"):
        write_new_file(str(link), "three", force=True)
    with pytest.raises(OutputError, match="is a folder"):
        check_output_path(str(tmp_path), force=True)


def test_report_does_not_write_through_a_planted_link(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    out.mkdir()
    target = tmp_path / "victim"
    (out / "summary.md").symlink_to(target)
    assert cli_entry(["report", "--output-dir", str(out), "--force"]) == 2
    assert "symbolic link" in capsys.readouterr().err and not target.exists()

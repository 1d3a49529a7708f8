"""reports/ is what ``ringcheck report`` generates now, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.cli import cli_entry
from checker.graphs.report import report_files
from checker.graphs.scenario import run_scenario, scenario_config
from checker.graphs.itf import load_itf
from checker.trace import Trace

REPORTS = Path(__file__).resolve().parents[3] / "reports"


def test_reports_are_current(tmp_path):
    assert cli_entry(["report", "--output-dir", str(tmp_path / "r")]) == 0
    fresh = {p.relative_to(tmp_path / "r").as_posix(): p.read_bytes()
             for p in (tmp_path / "r").rglob("*") if p.is_file()}
    # reports/proofs/ holds hand-kept logs of long proof runs (see the generated README), not `report`'s output
    committed = {p.relative_to(REPORTS).as_posix(): p.read_bytes() for p in REPORTS.rglob("*")
                 if p.is_file() and not p.relative_to(REPORTS).as_posix().startswith(("proofs/", "overwrite/"))}
    assert sorted(fresh) == sorted(committed), "run `ringcheck report` and commit reports/"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert stale == [], "run `ringcheck report` and commit reports/"


def test_regenerating_twice_gives_the_same_files():
    assert report_files() == report_files()


def test_both_cves_in_every_format():
    files = report_files()
    for case in ("cve-2021-3489-shape", "cve-2024-41009-shape"):
        for name in ("trace.txt", "trace.json", "scenario.txt", "trace.graphml", "trace.dot",
                     "trace.nodelink.json", "trace.itf.json", "trace.html", "trace.svg"):
            assert f"{case}/{name}" in files
        trace = Trace.from_dict(__import__("json").loads(files[f"{case}/trace.json"]))
        trace.replay()
        assert load_itf(files[f"{case}/trace.itf.json"]).states == trace.states
        text = files[f"{case}/scenario.txt"]
        cfg, start = scenario_config(text, {}, {})
        assert run_scenario(text, cfg, start).states == trace.states
    assert "| CVE-2024-41009 shape |" in files["summary.md"]
    import re
    assert not re.search(r"\d+\.\d+s\b", files["summary.md"]), "no timings in the summary"


def test_report_regenerates_its_own_folder(tmp_path):
    out = tmp_path / "r"
    assert cli_entry(["report", "--output-dir", str(out)]) == 0
    assert cli_entry(["report", "--output-dir", str(out)]) == 0


@pytest.mark.slow
def test_overwrite_verdicts_are_current(tmp_path):
    """reports/overwrite/ (kept by hand: half a minute to make) is what its command makes today."""
    from checker.overwrite_verdicts import main
    assert main([str(tmp_path)]) == 0
    fresh = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    kept = {p.name: p.read_bytes() for p in (REPORTS / "overwrite").iterdir()}
    assert fresh == kept, "run `python -m checker.overwrite_verdicts reports/overwrite` and commit it"

"""What a student sees: the README's examples teach what they claim (issue 16, class 14).

The README's state-graph example reaches a reserved and a delivered record;
the page of the README's CVE scenario, which carries no verdict of its own,
shows no_overlap violated at the step where it happens; docstring literals
are code; the claim step shows the kernel's space check with its numbers,
accepted and refused, pending_pos included on v6.10; record names sit outside
every band. Layout and ``#step=N`` need a browser: test_graphs_browser.py.
"""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.cli import cli_entry
from checker.graphs import report
from checker.graphs.graphml import read_graphml
from checker.graphs.html import trace_html
from checker.graphs.scenario import run_scenario, scenario_config
from checker.graphs.svg import CX, CY, ring_svg
from model.state import BUSY, FAILED, UNUSED
from tests.checker.graphs.conftest import WALK_CONFIGS, random_walk

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text()


def readme_cve_scenario() -> str:
    """The CVE-2024-41009 scenario as the README prints it (header line and statements)."""
    lines = README.splitlines()
    k = next(i for i, line in enumerate(lines) if line.strip().startswith("config: variant=v5.13"))
    return lines[k].strip() + "\n" + lines[k + 1].strip() + "\n"


def replay(text: str, **explicit):
    config, start = scenario_config(text, {}, explicit)
    return run_scenario(text, config, start)


def frames(page: str) -> list[str]:
    return re.findall(r'<section class="frame" data-step="\d+".*?</section>', page, re.S)


def test_the_readme_state_graph_example_reserves_writes_and_delivers_a_record(tmp_path):
    (line,) = [x.split("#")[0].strip() for x in README.splitlines() if x.strip().startswith("ringcheck states ")]
    assert line == report.TINY_COMMAND
    args = shlex.split(line)[1:]
    args[args.index("--format") + 1], args[args.index("--output") + 1] = "graphml", str(tmp_path / "g.graphml")
    assert cli_entry(args) == 0
    g = read_graphml(str(tmp_path / "g.graphml"))
    records = {d["r0"].split()[1] for _, d in g.nodes(data=True)}
    assert {"unused", "busy", "submitted"} <= records, records
    assert any(d["delivered"] == "r0" for _, d in g.nodes(data=True)), "the record is never delivered"
    assert any(d["terminal"] and d["delivered"] == "r0" for _, d in g.nodes(data=True))
    kept = read_graphml(str(ROOT / "reports" / "state-graph" / "tiny.graphml"))
    assert kept.number_of_nodes() == g.number_of_nodes() and kept.graph["config"] == report.TINY.describe()


def test_the_page_of_the_readme_scenario_shows_the_violation_where_it_happens():
    trace = replay(readme_cve_scenario())
    assert trace.property is None  # a scenario carries no verdict: the page must judge the states itself
    page = trace_html(trace)
    n = len(trace)
    assert f"violated no_overlap at step {n}" in page
    shown = frames(page)
    assert "VIOLATED no_overlap" in shown[n]
    assert not any("VIOLATED" in f for f in shown[:n])
    from checker.graphs.html import frame_violations
    assert [bool(v) for v in frame_violations(trace)] == [False] * n + [True]


def test_docstring_literals_are_shown_as_code(cve_41009):
    page = trace_html(cve_41009)
    assert "``" not in page
    assert "<code>value</code>" in page  # user.store_cons: Store an arbitrary ``value`` ...


def _claim_panel(page: str, step: int) -> str:
    return frames(page)[step]


def test_the_claim_step_shows_the_space_check_the_kernel_accepts():
    trace = replay(readme_cve_scenario())
    panel = _claim_panel(trace_html(trace), len(trace))
    assert "new_prod = prod + reclen(16) = 16 + 24 = 40" in panel
    assert "new_prod - cons = 40 - 16 = 24 &lt;= 31 (mask)" in panel
    assert "fits: the kernel accepts the record" in panel
    assert "pend" not in re.search(r'<p class="space">.*?</p>', panel, re.S).group(0)  # v5.13 has no pending_pos


def test_the_claim_step_on_v6_10_shows_pending_pos_and_the_refusal():
    trace = replay(readme_cve_scenario(), variant="v6.10")
    panel = _claim_panel(trace_html(trace), len(trace))
    assert "new_prod - cons = 40 - 16 = 24 &lt;= 31 (mask)" in panel
    assert "new_prod - pend = 40 - 0 = 40 &gt; 31 (mask)" in panel
    assert "the reservation is refused (reserve returns NULL)" in panel
    first = _claim_panel(trace_html(trace), 4)
    assert "new_prod - pend = 16 - 0 = 16 &lt;= 31 (mask)" in first and "fits" in first


@settings(max_examples=30, deadline=None)
@given(cfg=st.sampled_from(WALK_CONFIGS), choices=st.lists(st.integers(0, 10_000), max_size=30))
def test_the_space_check_shown_is_the_one_the_model_decides(cfg, choices):
    from checker.graphs.html import claim_arithmetic
    trace = random_walk(cfg, choices)
    for i, step in enumerate(trace.steps, 1):
        if step.action.step != "reserve.claim":
            continue
        before = trace.states[i - 1]
        rid = before.producers[int(step.action.actor[1:])].cur
        fits = all(ok for _, ok in claim_arithmetic(trace, i))
        assert fits == (trace.states[i].records[rid].status == BUSY)


def _radius(x: float, y: float) -> float:
    return math.hypot(x - CX, y - CY)


def assert_labels_clear_of_bands(svg: str) -> None:
    bands = [(m.start(), float(m.group(1))) for m in
             re.finditer(r'<path class="extent"[^>]* d="M[^A]*A([\d.]+),', svg)]
    labels = [(m.start(), m.group(1), _radius(float(m.group(2)), float(m.group(3)))) for m in
              re.finditer(r'<text class="extent-label" data-record="(r\d+)" x="([\d.-]+)" y="([\d.-]+)"', svg)]
    assert len(labels) == len({name for _, name, _ in labels})
    for at, name, r in labels:
        assert all(at > b for b, _ in bands), f"{name} is drawn under a band"
        # 6-wide bands, 10-pixel text centred on its point: the text starts beyond every band's outer edge
        assert all(r - 6 > radius + 3 for _, radius in bands), f"{name} at radius {r:.0f} sits on a band"


def test_record_names_are_not_hidden_by_other_records_bands(cve_41009):
    svg = ring_svg(cve_41009.config, cve_41009.final)
    assert svg.count('class="extent-label"') == 2
    assert_labels_clear_of_bands(svg)


@settings(max_examples=20, deadline=None)
@given(cfg=st.sampled_from(WALK_CONFIGS), choices=st.lists(st.integers(0, 10_000), max_size=30))
def test_record_names_clear_every_band_on_any_state(cfg, choices):
    trace = random_walk(cfg, choices)
    svg = ring_svg(cfg, trace.final)
    reserved = sum(1 for r in trace.final.records if r.status not in (UNUSED, FAILED))
    assert svg.count('class="extent-label"') == reserved
    assert_labels_clear_of_bands(svg)


def test_the_page_opens_at_the_step_in_its_address(cve_41009):
    page = trace_html(cve_41009)
    assert "location.hash" in page and "step=" in page

"""Lassos in every export: ITF ``loop``, the DOT back edge, the HTML page's cycle marker and wrap-around."""

from __future__ import annotations

import json
import re

import pytest

from checker.graphs import load_itf, render, trace_graph
from checker.graphs.html import trace_html
from checker.run import check
from model import Config
from tests.checker.graphs.cdp import Browser, BrowserUnavailable

WRAP = 0xffffffffffffffe0


@pytest.fixture(scope="module")
def spin():
    """The level consumer spinning at the 64-bit wrap: a 3-step cycle from state 21."""
    return check(Config(), ["consumer_progress"], start=WRAP).trace


@pytest.fixture(scope="module")
def asleep():
    """The edge consumer asleep for good at the wrap: a lasso whose cycle is a stutter."""
    return check(Config(consumer="edge"), ["eventually_delivered"], start=WRAP).trace


def test_itf_carries_loop_and_reads_back(spin, asleep):
    for trace in (spin, asleep):
        d = json.loads(render(trace, "itf"))
        assert d["loop"] == trace.loop
        back = load_itf(render(trace, "itf"))
        assert back.loop == trace.loop and back.states == trace.states
        back.replay()
    d = json.loads(render(spin, "itf"))
    assert len(d["states"]) == len(spin), "ITF's loop ends in the last state: the repeated state is not written"
    assert d["#meta"]["loop_action"] == str(spin.steps[-1].action)
    assert [s["action"] for s in d["states"][d["loop"] + 1:]] == [str(s.action) for s in spin.steps[spin.loop:-1]]
    d = json.loads(render(asleep, "itf"))
    assert d["loop"] == len(d["states"]) - 1 and "loop_action" not in d["#meta"]


def test_a_plain_trace_has_no_loop(cve_41009):
    t = cve_41009
    assert "loop" not in json.loads(render(t, "itf")) and "data-loop" not in trace_html(t)


def test_graph_and_dot_show_the_back_edge(spin, asleep):
    g = trace_graph(spin)
    assert g.number_of_nodes() == len(spin) and g.graph["loop"] == spin.loop
    back = [(u, v) for u, v, d in g.edges(data=True) if d["back_edge"]]
    assert back == [(len(spin) - 1, spin.loop)]
    dot = render(spin, "dot")
    assert re.search(rf"  {len(spin) - 1} -> {spin.loop} \[.*back to the cycle start.*style=\"bold,dashed\"", dot)
    assert "(cycle starts here)" in dot and 'peripheries="2"' in dot
    g = trace_graph(asleep)
    assert [(u, v) for u, v, d in g.edges(data=True) if d["back_edge"]] == [(asleep.loop, asleep.loop)]
    for fmt in ("graphml", "json", "svg"):
        assert render(spin, fmt)


def test_html_shows_where_the_cycle_starts(spin):
    page = trace_html(spin)
    n, loop = len(spin), spin.loop
    assert f'data-loop="{loop}"' in page and f"the cycle starts at step {loop}" in page
    sections = page.split('<section class="frame"')[1:]
    assert "the cycle starts here: steps 22 to 24 repeat forever" in sections[loop]
    assert "back at the state of step 21" in sections[n]
    assert sum("the cycle starts here" in s for s in sections) == 1
    items = re.findall(r"<li[^>]*>[^<]*</li>", page.split('<ol class="steps"')[1])
    assert "cycle starts here" in items[loop] and items[loop + 1].startswith("<li data-cycle")
    assert f"if (i > frames.length - 1) {{ i = {loop + 1}; }}" in page


def test_html_stutter_stays(asleep):
    page = trace_html(asleep)
    assert "the run stays in this state forever" in page
    assert f"i = {len(asleep)}; }}" in page


@pytest.mark.browser
def test_stepping_past_the_end_goes_around_the_cycle(spin, tmp_path):
    try:
        b = Browser()
    except BrowserUnavailable as e:
        pytest.skip(f"headless Chromium cannot run here: {e}")
    try:
        path = tmp_path / "lasso.html"
        path.write_text(trace_html(spin))
        page = b.open(path.as_uri())
        visible = "Array.from(document.querySelectorAll('.frame')).filter(f => !f.hidden).map(f => f.dataset.step)"
        page.press("End", 35)
        assert page.eval(visible) == [str(len(spin))]
        page.press("ArrowRight", 39)
        assert page.eval(visible) == [str(spin.loop + 1)], "past the end: around the loop"
    finally:
        b.close()

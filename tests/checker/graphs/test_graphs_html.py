"""The step-through HTML page and the SVG ring picture."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from checker.graphs.html import trace_html
from checker.graphs.svg import record_state, ring_svg, trace_svg
from checker.graphs.scenario import run_scenario
from model.config import Config


def test_no_external_url_at_all(cve_41009, cve_3489):
    for trace in (cve_41009, cve_3489):
        page = trace_html(trace)
        assert "http://" not in page and "https://" not in page
        assert not re.search(r"""(src|href)\s*=""", page), "nothing is fetched"
        assert "@import" not in page and "url(" not in page.replace("url(#", "")


def test_one_frame_per_step(cve_41009):
    page = trace_html(cve_41009)
    frames = re.findall(r'<section class="frame" data-step="(\d+)"', page)
    assert frames == [str(i) for i in range(len(cve_41009) + 1)]
    assert page.count("<svg") == len(cve_41009) + 1
    assert page.count(" hidden>") == len(cve_41009), "only frame 0 shows before the script runs"


def test_frames_show_the_step_and_its_changes(cve_41009):
    page = trace_html(cve_41009)
    sections = page.split('<section class="frame"')[1:]
    assert "step 0: initial state" in sections[0]
    for i, st in enumerate(cve_41009.steps, 1):
        assert f"step {i} of {len(cve_41009)}: {st.action}" in sections[i]
        for var, before, after in cve_41009.changes(i):
            assert f"<td>{var}</td>" in sections[i] or var.startswith("p0")
    assert "VIOLATED no_overlap" in sections[-1] and "VIOLATED" not in sections[-2]
    assert len(set(sections)) == len(sections)


def test_the_ring_shows_positions_headers_and_record_states():
    cfg = Config(variant="v6.10", ring_size=64, hold=2, records=3, discard=True)
    t = run_scenario("p0 reserve 16; p0 write; p0 reserve 8; p0 write; p0 submit r0; p0 discard r1;"
                     " c consume; p0 reserve 8", cfg)
    s = t.final
    assert [record_state(cfg, s, r) for r in range(3)] == ["consumed", "consumed", "busy"]
    svg = ring_svg(cfg, s)
    assert f"prod {s.producer_pos}" in svg and f"cons {s.consumer_pos}" in svg and "pend " in svg
    assert "hdr r2" in svg and "8|BUSY" in svg
    assert svg.count('class="word"') == cfg.slots
    from model.state import DISCARDED
    mid_state = next(x for x in t.states if x.records[1].status == DISCARDED)
    mid = ring_svg(cfg, mid_state)
    assert "r1 p0 discarded" in mid and "r0 p0 submitted" in mid


def test_clobbered_header_is_shown(cve_3489):
    svg = trace_svg(cve_3489)
    assert "VIOLATED in_bounds" in svg
    assert svg.count('data-record="r0"') > 4, "a record longer than the ring goes round more than once"


def test_svg_file_is_well_formed_standalone_xml(cve_41009):
    root = ET.fromstring(trace_svg(cve_41009))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_notebook_reprs(cve_41009):
    assert cve_41009._repr_svg_().startswith("<svg")
    html = cve_41009._repr_html_()
    assert "<html" not in html and html.count('class="frame"') == len(cve_41009) + 1
    assert "http" not in html


def test_the_cve_41009_overlap_is_outlined(cve_41009):
    final = trace_svg(cve_41009)
    assert 'class="overlap" data-offset="0"' in final and "claimed twice: offsets 0" in final
    before = ring_svg(cve_41009.config, cve_41009.states[-2])
    assert 'class="overlap"' not in before


def test_a_big_ring_is_drawn_in_runs_and_ranges():
    cfg = Config(variant="v5.13", consumer="adversarial", ring_size=0x4000, hold=2, sizes=(8, 0x2FF8))
    t = run_scenario("p0 reserve 0x2ff8; p0 write; p0.reserve.check(size=0x2ff8); user consumer_pos = 0x4000;"
                     " p0 reserve", cfg)
    svg = trace_svg(t)
    assert svg.count('class="word"') < 20, "equal neighbouring words are one sector"
    assert "claimed twice: offsets 0-" in svg
    assert len(svg) < 20_000


# ---------------------------------------------------------------- weak memory (issue 13)


def _sections(page: str) -> list[str]:
    return page.split('<section class="frame"')[1:]


def test_weak_page_names_the_model_and_has_a_panel_per_actor(stale_tso, stale_ra):
    for t in (stale_tso, stale_ra):
        page = trace_html(t)
        m = t.model()
        assert f"memory={t.config.memory}" in page.split("<title>")[1].split("</title>")[0]
        assert '<div class="memory-model">memory: ' + t.config.memory in page
        for section in _sections(page):
            actors = re.findall(r'<div class="actor" data-actor="([^"]+)">', section)
            assert actors == m.actor_names
            assert section.count("<th>would read now</th>") == len(m.actor_names)
        assert "http" not in page.replace("https://apalache", "")


def test_weak_page_marks_the_stale_read_and_the_flushes(stale_tso):
    page = trace_html(stale_tso)
    sections = _sections(page)
    stale = [i for i, s in enumerate(sections) if 'class="read stale"' in s]
    flushes = [i for i, s in enumerate(sections) if '<p class="flush">' in s]
    steps = stale_tso.steps
    assert flushes == [i for i, st in enumerate(steps, 1) if st.action.step == "flush"]
    frames = stale_tso.memory_frames()
    assert stale == [i for i, f in enumerate(frames) if f.stale] and len(stale) == 1
    marks = re.findall(r'<li(?: data-mark="([^"]*)")?>', page.split('<ol class="steps"')[1])
    assert [i for i, mk in enumerate(marks) if "stale" in mk] == stale
    assert [i for i, mk in enumerate(marks) if "flush" in mk] == flushes


def test_weak_page_shows_each_buffered_store(stale_tso):
    sections = _sections(trace_html(stale_tso))
    m = stale_tso.model()
    for s, section in zip(stale_tso.states, sections):
        for a, name in enumerate(m.actor_names):
            panel = section.split(f'data-actor="{name}">')[1].split("</table></div>")[0]
            buffer = m.weak.mm.panel(s.memory, a)["buffer"]
            assert panel.count("<li>") == len(buffer)
            assert ("<i>empty</i>" in panel) == (not buffer)


def test_sc_page_has_no_memory_section(cve_41009):
    page = trace_html(cve_41009)
    assert 'class="actor"' not in page and "memory-model" not in page and "data-mark=" not in page


def test_the_lost_wakeup_page_shows_the_buffered_store_at_the_stale_read(lost_wakeup):
    """Must-show 7 without a browser: the frame of the producer's stale wakeup decision."""
    sections = _sections(trace_html(lost_wakeup))
    frames = lost_wakeup.memory_frames()
    i = next(i for i, st in enumerate(lost_wakeup.steps, 1)
             if st.action.step == "commit.wakeup" and frames[i].stale)
    stale = re.findall(r'<span class="read stale">([^<]*)</span>', sections[i])
    assert stale and stale[0].startswith("consumer_pos=") and "STALE" in stale[0]
    consumer = sections[i].split('data-actor="c">')[1].split("</div>")[0]
    assert re.search(r'<ol class="buffer"><li>consumer_pos=\d+</li>', consumer)

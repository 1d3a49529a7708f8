"""The step-through page in a real browser: headless Debian Chromium over the DevTools pipe."""

from __future__ import annotations

import time

import pytest

from checker.graphs.html import trace_html
from tests.checker.graphs.cdp import Browser, BrowserUnavailable

pytestmark = pytest.mark.browser

VISIBLE = "Array.from(document.querySelectorAll('.frame')).filter(f => !f.hidden).map(f => f.dataset.step)"
PANEL = "document.querySelector('.frame:not([hidden]) .panel').innerText"


@pytest.fixture(scope="module")
def browser():
    try:
        b = Browser()
    except BrowserUnavailable as e:
        pytest.skip(f"headless Chromium cannot run here: {e}")
    yield b
    b.close()


@pytest.fixture
def page(browser, tmp_path, cve_41009):
    path = tmp_path / "cve.html"
    path.write_text(trace_html(cve_41009))
    return browser.open(path.as_uri())


def test_arrow_keys_step_through_the_trace(page, cve_41009):
    n = len(cve_41009)
    assert page.eval(VISIBLE) == ["0"]
    first_panel = page.eval(PANEL)
    first_shot = page.screenshot()
    assert "step 0: initial state" in first_panel
    page.press("ArrowRight", 39)
    assert page.eval(VISIBLE) == ["1"]
    assert f"step 1 of {n}: {cve_41009.steps[0].action}" in page.eval(PANEL)
    for _ in range(n + 3):
        page.press("ArrowRight", 39)
    assert page.eval(VISIBLE) == [str(n)], "stops at the last step"
    last_panel = page.eval(PANEL)
    assert last_panel != first_panel
    assert "VIOLATED no_overlap" in last_panel
    assert page.eval("document.querySelector('.counter').textContent") == f"step {n} / {n}"
    assert page.screenshot() != first_shot
    page.press("ArrowLeft", 37)
    assert page.eval(VISIBLE) == [str(n - 1)]
    page.press("Home", 36)
    assert page.eval(VISIBLE) == ["0"]


def test_buttons_navigate(page, cve_41009):
    n = len(cve_41009)
    page.eval("document.querySelector('button.last').click()")
    assert page.eval(VISIBLE) == [str(n)]
    page.eval("document.querySelector('button.prev').click()")
    assert page.eval(VISIBLE) == [str(n - 1)]
    page.eval("document.querySelector('button.first').click()")
    page.eval("document.querySelector('button.next').click()")
    assert page.eval(VISIBLE) == ["1"]


def test_last_frame_ring_differs_from_the_first(page, cve_41009):
    words = "Array.from(document.querySelectorAll('.frame:not([hidden]) text')).map(t => t.textContent).join('|')"
    first = page.eval(words)
    page.press("End", 35)
    last = page.eval(words)
    assert "hdr r1" in last and "hdr r1" not in first
    assert "prod 40" in last and "prod 0" in first


RECTS = ("(function () { var f = document.querySelector('.frame:not([hidden])');"
         " var d = f.querySelector('.diagram').getBoundingClientRect(), p = f.querySelector('.panel').getBoundingClientRect();"
         " return {d: [d.left, d.top, d.right, d.bottom], p: [p.left, p.top, p.right, p.bottom],"
         " width: document.documentElement.clientWidth}; })()")


@pytest.mark.parametrize("width,height", [(1024, 768), (1280, 800)])
def test_the_panel_stays_beside_the_ring_on_a_small_screen(browser, tmp_path, cve_41009, width, height):
    path = tmp_path / "cve.html"
    path.write_text(trace_html(cve_41009))
    page = browser.open(path.as_uri())
    page.set_viewport(width, height)
    page.press("End", 35)
    r = page.eval(RECTS)
    (dl, dt, dr, db), (pl, pt, pr, pb) = r["d"], r["p"]
    assert pl >= dr, f"the panel starts at x={pl}, left of the ring's right edge {dr}: it is not beside it"
    assert pt < db, f"the panel starts at y={pt}, below the ring (which ends at y={db})"
    assert pr <= r["width"] + 1, "the panel runs off the screen"
    assert dr - dl >= 400, "the ring was squeezed to nothing"
    assert len(page.screenshot()) > 1000


def test_the_page_opens_at_the_step_in_its_address(browser, tmp_path, cve_41009):
    path = tmp_path / "cve.html"
    path.write_text(trace_html(cve_41009))
    page = browser.open(path.as_uri() + "#step=7")
    assert page.eval(VISIBLE) == ["7"]
    assert page.eval("document.querySelector('.counter').textContent") == f"step 7 / {len(cve_41009)}"
    page.press("ArrowRight", 39)
    assert page.eval(VISIBLE) == ["8"]
    assert page.eval("location.hash") == "#step=8", "moving on updates the address, so it can be shared"
    page.eval("location.hash = '#step=2'")
    deadline = time.monotonic() + 5
    while page.eval(VISIBLE) != ["2"] and time.monotonic() < deadline:  # hashchange fires asynchronously
        time.sleep(0.02)
    assert page.eval(VISIBLE) == ["2"]


# ---------------------------------------------------------------- issue 13 must-show 7

STALE = "Array.from(document.querySelectorAll('.frame:not([hidden]) .read.stale')).map(e => e.textContent)"
BUFFERS = ("Object.fromEntries(Array.from(document.querySelectorAll('.frame:not([hidden]) .actor'))"
           ".map(a => [a.dataset.actor, Array.from(a.querySelectorAll('ol.buffer li')).map(li => li.textContent)]))")
STALE_STYLE = ("(() => { const e = document.querySelector('.frame:not([hidden]) .read.stale');"
               " const r = e.getBoundingClientRect(); const s = getComputedStyle(e);"
               " return [r.width > 0 && r.height > 0, s.backgroundColor, s.color]; })()")


@pytest.fixture
def lost_wakeup_page(browser, tmp_path, lost_wakeup):
    path = tmp_path / "lost-wakeup.html"
    path.write_text(trace_html(lost_wakeup))
    return browser.open(path.as_uri())


def test_stepping_through_the_lost_wakeup_shows_the_buffers_and_finds_the_stale_read(lost_wakeup_page,
                                                                                     lost_wakeup):
    page, n = lost_wakeup_page, len(lost_wakeup)
    actors = lost_wakeup.model().actor_names
    assert "memory: tso" in page.eval("document.querySelector('.memory-model').textContent")
    seen_stale, buffered_cons = [], []
    for i in range(n + 1):
        assert page.eval(VISIBLE) == [str(i)]
        buffers = page.eval(BUFFERS)
        assert sorted(buffers) == sorted(actors), "a panel per actor in every frame"
        if any("consumer_pos=" in e for e in buffers["c"]):
            buffered_cons.append(i)
        stale = page.eval(STALE)
        if stale:
            seen_stale.append((i, stale, buffers))
            visible, background, colour = page.eval(STALE_STYLE)
            assert visible and background == "rgb(255, 214, 214)" and colour == "rgb(176, 0, 32)"
        page.press("ArrowRight", 39)
    assert buffered_cons, "the consumer's consumer_pos store is seen waiting in its buffer"
    assert seen_stale, "the stale read is marked"
    i, texts, buffers = next((x for x in seen_stale if lost_wakeup.steps[x[0] - 1].action.actor != "c"),
                             seen_stale[0])
    action = lost_wakeup.steps[i - 1].action
    assert action.actor.startswith("p") and action.step == "commit.wakeup", \
        "the stale read is the producer's commit reading consumer_pos"
    assert any(t.startswith("consumer_pos=") and "STALE" in t for t in texts)
    assert any(e.startswith("consumer_pos=") for e in buffers["c"]), \
        "at that moment the consumer's store is still in its buffer"
    assert page.eval("document.querySelectorAll('ol.steps li[data-mark~=\"stale\"]').length") >= 1

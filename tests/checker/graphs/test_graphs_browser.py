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

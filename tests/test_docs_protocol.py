"""docs/protocol.md, the protocol reference the model, the README and the pages cite, is there and complete.

Every protocol step the model registers cites a section (``STEPS[...].protocol``,
e.g. ``3 reserve.4``); each citation must resolve to an anchor of
docs/protocol.md, whose sections 1-9 keep their numbers. The README links it,
the step-through page cites it, and nothing cites the old PROTOCOL.md, which
is not in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import model.adversary  # noqa: F401 (registers its steps)
import model.consumer  # noqa: F401
import model.producer  # noqa: F401
from checker import suite
from checker.graphs.attrs import PROTOCOL_DOC, protocol_ref
from checker.graphs.html import trace_html
from checker.run import check
from model.steps import STEPS

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / PROTOCOL_DOC


def anchors() -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', DOC.read_text()))


def test_the_reference_has_sections_1_to_9_in_order_each_with_its_anchor():
    text = DOC.read_text()
    numbers = [int(n) for n in re.findall(r"^## (\d+)\. ", text, re.M)]
    assert numbers == list(range(1, 10))
    for n in numbers:
        assert re.search(rf'<a id="{n}"></a>\n## {n}\. ', text), n


@pytest.mark.parametrize("name", sorted(STEPS))
def test_every_registered_step_cites_an_anchor_of_the_reference(name):
    ref = protocol_ref(STEPS[name].protocol)
    path, anchor = ref.split("#")
    assert path == "docs/protocol.md"
    assert anchor in anchors(), f"{name} cites {STEPS[name].protocol!r}: no anchor {anchor!r} in {path}"
    # the anchored paragraph names the step it explains
    text = DOC.read_text()
    after = text[text.index(f'<a id="{anchor}"></a>'):][:600]
    assert re.search(rf"`(\w+\.)?{re.escape(name)}`", after), f"the paragraph at #{anchor} does not name {name}"


def test_citations_resolve_to_the_section_number_they_start_with():
    for info in STEPS.values():
        section = info.protocol.split()[0].split(".")[0]
        assert protocol_ref(info.protocol).split("#")[1].startswith(section + "-") or \
            protocol_ref(info.protocol).split("#")[1] == section


def test_the_readme_links_the_reference_and_each_cited_anchor_exists():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(docs/protocol\.md(?:#([^)]+))?\)", readme)
    assert links, "the README does not link docs/protocol.md"
    assert {a for a in links if a} <= anchors()


def test_the_page_cites_the_reference_for_every_step():
    cve_41009 = check(suite.CVE_2024_41009).trace
    page = trace_html(cve_41009)
    cited = set(re.findall(r"docs/protocol\.md#([a-z0-9-]+)", page))
    assert cited and cited <= anchors()
    assert {protocol_ref(STEPS[st.action.step].protocol).split("#")[1] for st in cve_41009.steps} <= cited


def test_nothing_cites_the_missing_protocol_md():
    sources = [p for d in ("model", "specs", "checker", "reports", "docs") for p in (ROOT / d).rglob("*")
               if p.suffix in (".py", ".md", ".html", ".txt")]
    offenders = [str(p.relative_to(ROOT)) for p in sources + [ROOT / "README.md"] if "PROTOCOL.md" in p.read_text()]
    assert offenders == []

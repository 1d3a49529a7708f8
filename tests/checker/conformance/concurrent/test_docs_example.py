"""The README's concurrent example is complete, conforms with the counts it quotes, and its races are caught."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from checker.conformance.concurrent.explore import CONFORMS, FAILS, Setup, explore
from checker.conformance.concurrent.report import culprits
from checker.conformance.concurrent.scenario import SCENARIOS

DOC = Path(__file__).resolve().parents[4] / "README.md"


def example_module(edit: tuple[str, str] | None = None) -> types.ModuleType:
    text = DOC.read_text()
    if edit is not None:
        assert edit[0] in text
        text = text.replace(*edit)
    block = re.search(r"```python\n(\"\"\"my_concurrent_ring\.py.*?)```", text, re.S)
    assert block, "README.md lost its my_concurrent_ring.py example"
    module = types.ModuleType("my_concurrent_ring")
    exec(compile(block.group(1), str(DOC), "exec"), module.__dict__)  # noqa: S102
    return module


def quoted_counts() -> dict[str, tuple[int, int, int]]:
    """scenario -> (states, schedules, accesses) as the README's sample output quotes them."""
    text = DOC.read_text()
    part = text[text.index("### Concurrent implementations"):text.index("## The live Linux kernel")]
    found = re.findall(r"scenario: ([\w-]+) .*?\n.*?\nstats: +(\d+) states, (\d+) complete schedules judged, "
                       r"(\d+) accesses run", part)
    return {name: tuple(map(int, nums)) for name, *nums in found}


@pytest.mark.parametrize("scenario", ["two-producers", "produce-consume"])
def test_the_documented_concurrent_ring_conforms_with_the_quoted_counts(scenario: str) -> None:
    r = explore(Setup(example_module().MyConcurrentRing, SCENARIOS[scenario], "v5.13", "sc"))
    assert r.kind == CONFORMS, r.headline()
    assert quoted_counts()[scenario] == (r.stats.states, r.stats.schedules, r.stats.steps)


def test_the_documented_concurrent_ring_conforms_under_ra() -> None:
    r = explore(Setup(example_module().MyConcurrentRing, SCENARIOS["two-producers"], "v5.13", "ra"))
    assert r.failure is None, r.headline()


def test_dropping_the_lock_from_the_example_is_caught() -> None:
    broken = example_module(("        yield mem.lock()\n", ""))
    r = explore(Setup(broken.MyConcurrentRing, SCENARIOS["two-producers"], "v5.13", "sc"))
    assert r.kind == FAILS and r.failure is not None
    assert r.failure.violation.prop in ("no-overlap", "deadlock")


def test_publishing_before_the_header_in_the_example_is_caught() -> None:
    header = "        yield mem.store(mem.word(prod), size | BUSY)                  # the BUSY header first,\n"
    publish = "        yield mem.store(PRODUCER_POS, prod + reclen(size), RELEASE)   # then publish it\n"
    broken = example_module((header + publish, publish + header))
    r = explore(Setup(broken.MyConcurrentRing, SCENARIOS["produce-consume"], "v5.13", "sc"))
    assert r.kind == FAILS and r.failure is not None
    assert r.failure.violation.prop == "samples-intact"
    assert [str(c) for c in culprits(r.failure.execution)] == [
        "c preempts p0 in reserve(p0, size=8) after store producer_pos"]

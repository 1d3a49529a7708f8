"""Check (a) of issue 14: the compiled steps and predicates equal the Python model's on every reachable state.

The default suite runs the CVE configurations of the manifest and small
honest ones (every consumer, nmi, discard, wakeup flags, a start across the
64-bit wrap); the manifest's honest configurations, a million states and
more each, are ``slow``. A planted bug in one compiled step makes the check fail.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

import checker.compiled.steps as steps
from checker.compiled.crosscheck import cross_check
from model import Config
from tests.checker.test_manifest import STANDARD

WRAP = 2**64 - 24
SMALL = {
    "level P=2 E=1 discard nmi": (dict(consumer="level", producers=2, records=1, discard=True, nmi=True), 0),
    "edge P=2 E=1 wakeup flags, wrap": (dict(consumer="edge", producers=2, records=1, discard=True,
                                             wakeup_flags=True), WRAP),
    "level v5.8 hold 2 sizes 8,24,40": (dict(variant="v5.8", records=2, hold=2, sizes=(8, 24, 40)), 0),
    "edge v5.13 P=1 E=3 discard": (dict(variant="v5.13", consumer="edge", records=3, discard=True), 0),
    "adversarial v6.10 reach 16, wrap": (dict(consumer="adversarial", hold=2, adversary_reach=16), WRAP),
}


FAST_CVE = ("cve-2021-3489/v5.8", "cve-2021-3489/v5.13", "cve-2021-3489/v6.10", "cve-2024-41009/v6.10")


@pytest.mark.parametrize("name", FAST_CVE)
def test_manifest_cve_configuration(name):
    assert cross_check(Config(**STANDARD[name])) is None


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in STANDARD if n.startswith("cve") and n not in FAST_CVE])
def test_manifest_cve_configuration_slow(name):
    assert cross_check(Config(**STANDARD[name])) is None


@pytest.mark.parametrize("name", list(SMALL))
def test_small_configuration(name):
    kw, start = SMALL[name]
    assert cross_check(Config(**kw), start) is None


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in STANDARD if n.startswith("honest")])
def test_manifest_honest_configuration(name):
    assert cross_check(Config(**STANDARD[name])) is None


def _planted(folder: Path, old: str, new: str):
    """A copy of checker/compiled/steps.py with one line of one step changed.

    It is kept in pytest's cache folder, rewritten only when it changes, so
    that numba's cache spares later runs the compilation.
    """
    src = Path(steps.__file__).read_text()
    assert src.count(old) == 1
    path = folder / "planted_steps.py"
    sources = b"".join(p.read_bytes() for p in sorted(Path(steps.__file__).parent.glob("*.py")))
    text = f"# planted from sources {hashlib.sha256(sources).hexdigest()}\n" + src.replace(old, new)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    spec = importlib.util.spec_from_file_location("planted_steps", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["planted_steps"] = module          # numba's cache finds the module by name
    spec.loader.exec_module(module)
    return module


def test_a_planted_bug_in_one_compiled_step_is_caught(pytestconfig):
    # reserve_scan forgets to strip DISCARD_BIT before stepping pending past a discarded record
    buggy = _planted(pytestconfig.cache.mkdir("compiled-planted-bug"), "record_length(hdr_len & ~DISCARD_BIT)", "record_length(hdr_len)")
    cfg = Config(consumer="level", producers=1, records=2, discard=True)
    assert cross_check(cfg, step_module=steps) is None
    found = cross_check(cfg, step_module=buggy)
    assert found is not None and "reserve.scan" in found

"""Expected state counts of the standard configurations (tlaplus/Examples style).

An accidental change of the model shows up here as a changed count. The
must-show configurations of issue #2 are all here: the CVE configurations on
every variant, and the honest consumers at S=32 and S=64 with every
property, terminal ones included, holding complete.

Regenerate after a deliberate model change with
``python tests/checker/test_manifest.py --update`` and say why in the commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from checker.run import check
from model import Config

MANIFEST = Path(__file__).with_name("manifest.json")

STANDARD = {
    "cve-2021-3489/v5.8": dict(variant="v5.8", consumer="adversarial", ring_size=32, sizes=(8, 40)),
    "cve-2021-3489/v5.13": dict(variant="v5.13", consumer="adversarial", ring_size=32, sizes=(8, 40)),
    "cve-2021-3489/v6.10": dict(variant="v6.10", consumer="adversarial", ring_size=32, sizes=(8, 40)),
    "cve-2024-41009/v5.8": dict(variant="v5.8", consumer="adversarial", ring_size=32, records=2, hold=2, sizes=(8, 16)),
    "cve-2024-41009/v5.13": dict(variant="v5.13", consumer="adversarial", ring_size=32, records=2, hold=2, sizes=(8, 16)),
    "cve-2024-41009/v6.10": dict(variant="v6.10", consumer="adversarial", ring_size=32, records=2, hold=2, sizes=(8, 16)),
    "honest/level/S32": dict(variant="v6.10", consumer="level", ring_size=32, producers=2, records=2, sizes=(8, 16), discard=True),
    "honest/edge/S32": dict(variant="v6.10", consumer="edge", ring_size=32, producers=2, records=2, sizes=(8, 16), discard=True),
    "honest/level/S64": dict(variant="v6.10", consumer="level", ring_size=64, producers=2, records=2, sizes=(8, 16), discard=True),
}

LONG = {
    "long/level/S32-P2-E3": dict(variant="v6.10", consumer="level", ring_size=32, producers=2, records=3, sizes=(8, 16), discard=True),
    "long/level/S32-P3-E2/symmetry": dict(variant="v6.10", consumer="level", ring_size=32, producers=3, records=2, sizes=(8, 16), discard=True),
}
"""Configurations of tens of millions of states (``/symmetry``: counted with --symmetry), marked ``"long": true`` in the manifest: the suite does
not run them (the compiled core's figures in the README do); ``--update`` keeps their entries."""


def run_case(kw: dict) -> dict:
    v = check(Config(**kw), engine="python")        # the Python engine; tests/checker/compiled holds the compiled one to the same counts
    return {"verdict": v.kind, "property": v.property, "states": v.stats.states,
            "transitions": v.stats.transitions, "depth": v.stats.depth}


def expected() -> dict:
    return json.loads(MANIFEST.read_text())


LONG = {"honest/edge/S32": "about 30 s", "honest/level/S64": "about 65 s, 4.2M states"}
"""Configurations explored only under ``-m slow`` (.ci/run runs them; honest/level/S32 stays in the default run)."""


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in LONG else n for n in STANDARD])
def test_standard_configuration_matches_manifest(name):
    want = expected()[name]
    got = run_case(STANDARD[name])
    assert got == want
    if name.startswith("honest") or name.endswith("v6.10"):
        assert got["verdict"] == "holds"          # complete, every property, terminal ones included


if __name__ == "__main__" and "--update" in sys.argv:
    kept = {n: e for n, e in expected().items() if e.get("long")}
    MANIFEST.write_text(json.dumps({**{n: run_case(kw) for n, kw in STANDARD.items()}, **kept}, indent=1) + "\n")
    print(f"wrote {MANIFEST}")

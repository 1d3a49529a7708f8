"""Expected state counts of the standard configurations (tlaplus/Examples style).

An accidental change of the model shows up here as a changed count. The
must-show configurations of issue #2 are all here: the CVE configurations on
every variant, and the honest consumers at S=32 and S=64 with every
property, terminal ones included, holding complete.

Regenerate after a deliberate model change with
``python tests/checker/test_manifest.py --update`` and say why in the commit;
``--add [NAME ...]`` computes only entries the manifest does not have yet.

Weak memory (issue 13): ``WEAK`` are small configurations of the lost
wakeup and its fences (default test run); ``WEAK_SLOW`` the standard
configurations above under tso and ra that finish within minutes (slow).
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

LONG_RUNS = {
    "long/level/S32-P2-E3": dict(variant="v6.10", consumer="level", ring_size=32, producers=2, records=3, sizes=(8, 16), discard=True),
    "long/level/S32-P3-E2/symmetry": dict(variant="v6.10", consumer="level", ring_size=32, producers=3, records=2, sizes=(8, 16), discard=True),
    "long/level/S64-P3-E2/symmetry": dict(variant="v6.10", consumer="level", ring_size=64, producers=3, records=2, sizes=(8, 16), discard=True),
}
"""Configurations of tens of millions of states and more (``/symmetry``: counted with --symmetry; ``"store": "tree"``:
on the tree store, the only one they fit in), marked ``"long": true`` in the manifest: the suite does
not run them (the compiled core's figures in the README do); ``--update`` keeps their entries."""


_LOST = dict(variant="v6.10", consumer="edge", ring_size=64, producers=1, records=2, sizes=(8, 16))
_AFTER_STORE = ("c.consume.load_prod", "c.consume.read_header")

WEAK = {
    # issue 13: the lost wakeup under the real orderings, and its fences (bounds the runs never hit)
    "weak/lost-wakeup/edge/tso": dict(_LOST, memory="tso"),
    "weak/lost-wakeup/edge/ra": dict(_LOST, memory="ra"),
    "weak/lost-wakeup/level/tso": dict(_LOST, consumer="level", memory="tso"),
    "weak/lost-wakeup/level/ra": dict(_LOST, consumer="level", memory="ra"),
    "weak/fenced/edge/tso": dict(_LOST, memory="tso", buffer=8, fences=_AFTER_STORE),
    "weak/fenced/edge/ra": dict(_LOST, memory="ra", history=6, fences=_AFTER_STORE),
    "weak/fenced/level/tso": dict(_LOST, consumer="level", memory="tso", buffer=8, fences=("c.poll.wait",)),
    "weak/fenced/level/ra": dict(_LOST, consumer="level", memory="ra", history=6, fences=("c.poll.wait",)),
    "weak/plain-producer_pos/level/ra": dict(_LOST, consumer="level", memory="ra", history=6,
                                             fences=("c.poll.wait",),
                                             orders=("p0.reserve.claim:producer_pos=plain",)),
}
"""Weak-memory configurations (small: in the default test run)."""

WEAK_SLOW = {
    **{f"cve-2021-3489/v5.8/{memory}": dict(STANDARD["cve-2021-3489/v5.8"], memory=memory)
       for memory in ("tso", "ra")},
    "honest/level/S32/tso": dict(STANDARD["honest/level/S32"], memory="tso"),
}
"""The manifest's standard configurations under tso and ra that finished within 10 minutes on
the (loaded) machine (slow tests: 10-40 s of CPU each, honest/level/S32 under tso about 150 s:
every property holds up to bound buffer=2); the others are named, with their bounded figures,
in docs/weak-memory-figures.md."""

RQSPINLOCK = {
    # issue 15: v6.15, the lock that can fail (an NMI over the holder; the 250 ms timeout)
    "v6.15/nmi/level/S32": dict(variant="v6.15", consumer="level", ring_size=32, producers=2, records=1,
                                sizes=(8, 16), nmi=True),
    "v6.15/lock-timeout/level/S32": dict(variant="v6.15", consumer="level", ring_size=32, producers=2, records=1,
                                         sizes=(8, 16), lock_timeout=True),
}
"""Small v6.15 configurations (the Python engine; the compiled core has no rqspinlock)."""


USER = {
    # issue 15: the user ring buffer (map user): libbpf's producer with discards, one and two drains,
    # and hostile user space against one and two drains
    "user/libbpf/S32": dict(map="user", ring_size=32, records=2, hold=2, sizes=(0, 8), discard=True),
    "user/libbpf/S32/drains2": dict(map="user", ring_size=32, records=2, hold=2, sizes=(0, 8), discard=True,
                                    drains=2, wakeup_flags=True),
    "user/adversarial/S16": dict(map="user", ring_size=16, user_producer="adversarial", sizes=(8,)),
    "user/adversarial/S16/drains2": dict(map="user", ring_size=16, user_producer="adversarial", sizes=(8,),
                                         drains=2),
}
"""User ring configurations (small: in the default test run; every property holds, complete)."""


_OVERWRITE = dict(variant="v6.19-overwrite", ring_size=32, producers=1, records=3, sizes=(8, 16), discard=True)
OVERWRITE = {
    # issue 15: overwrite mode's consumers (docs/overwrite.md); every one is explored to the end or to a violation
    "overwrite/safe/S32-P1-E3": dict(_OVERWRITE, consumer="overwrite-safe"),
    "overwrite/safe/S32-P2-E1": dict(_OVERWRITE, consumer="overwrite-safe", producers=2, records=1),
    "overwrite/level/S32-P1-E3": dict(_OVERWRITE, consumer="level"),
    "overwrite/adversarial/S32-P1-E2-hold2": dict(_OVERWRITE, consumer="adversarial", records=2, hold=2),
}
"""Overwrite mode (v6.19-overwrite), Python engine (the compiled core does not have it)."""

ALL = {**STANDARD, **WEAK, **WEAK_SLOW, **RQSPINLOCK, **USER, **OVERWRITE}


def run_case(kw: dict) -> dict:
    v = check(Config(**kw), engine="python")        # the Python engine; tests/checker/compiled holds the compiled one to the same counts
    return {"verdict": v.kind, "property": v.property, "states": v.stats.states,
            "transitions": v.stats.transitions, "depth": v.stats.depth}


def expected() -> dict:
    return json.loads(MANIFEST.read_text())


LONG = {"honest/level/S32": "about 20 s, 1.1M states", "honest/edge/S32": "about 30 s",
        "honest/level/S64": "about 65 s, 4.2M states"}
"""Configurations the Python engine explores only under ``-m slow`` (.ci/run runs them), so that the
README's test command stays under five minutes. The default run keeps the Python engine's counts for
every smaller configuration and the compiled core's for honest/level/S32 (tests/checker/compiled)."""


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in LONG else n for n in STANDARD])
def test_standard_configuration_matches_manifest(name):
    want = expected()[name]
    got = run_case(STANDARD[name])
    assert got == want
    if name.startswith("honest") or name.endswith("v6.10"):
        assert got["verdict"] == "holds"          # complete, every property, terminal ones included


_HEAVY = ("weak/fenced/edge/ra", "weak/fenced/level/ra")
"""Over 3 s of CPU each, and already run by tests/model/test_weak.py's must-show tests: slow here."""


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in _HEAVY else n for n in WEAK])
def test_weak_memory_configuration_matches_manifest(name):
    got = run_case(WEAK[name])
    assert got == expected()[name]
    if "/fenced/" in name:
        assert got["verdict"] == "holds"          # complete: the bounds were never hit


@pytest.mark.parametrize("name", list(USER))
def test_user_ring_configuration_matches_manifest(name):
    got = run_case(USER[name])
    assert got == expected()[name] and got["verdict"] == "holds"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(WEAK_SLOW))
def test_standard_configuration_under_weak_memory_matches_manifest(name):
    assert run_case(WEAK_SLOW[name]) == expected()[name]


@pytest.mark.parametrize("name", list(RQSPINLOCK))
def test_rqspinlock_configuration_matches_manifest(name):
    got = run_case(RQSPINLOCK[name])
    assert got == expected()[name] and got["verdict"] == "holds"


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n.startswith("overwrite/safe/S32-P1")
                                  else n for n in OVERWRITE])
def test_overwrite_configuration_matches_manifest(name):
    got = run_case(OVERWRITE[name])
    assert got == expected()[name]
    assert (got["verdict"] == "holds") == ("/level/" not in name)


def test_every_long_entry_of_the_manifest_names_its_configuration():
    long = {n for n, e in expected().items() if e.get("long")}
    assert long == set(LONG_RUNS)
    for name in long:
        assert expected()[name].get("symmetry", False) == name.endswith("/symmetry")


if __name__ == "__main__" and "--update" in sys.argv:
    kept = {n: e for n, e in expected().items() if e.get("long")}
    MANIFEST.write_text(json.dumps({**{n: run_case(kw) for n, kw in ALL.items()}, **kept}, indent=1) + "\n")
    print(f"wrote {MANIFEST}")
elif __name__ == "__main__" and "--add" in sys.argv:
    old = expected()
    new = {n: run_case(kw) for n, kw in ALL.items() if n not in old and n in sys.argv[2:] or
           n not in old and len(sys.argv) == 2}
    MANIFEST.write_text(json.dumps({**old, **new}, indent=1) + "\n")
    print(f"added {', '.join(new) or 'nothing'} to {MANIFEST}")

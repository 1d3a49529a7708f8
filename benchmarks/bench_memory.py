"""Benchmark of the memory models (not a test): the same configurations under sc, tso and ra.

Each (configuration, memory model) pair runs in a fresh process, so that its
peak memory is its own, with a per-run timeout (the search's own limit, plus
a hard kill of the process at twice that). Prints a markdown table for the
README: verdict, distinct states, transitions, depth, wall-clock seconds, CPU
seconds (user + system of the child: on a shared machine the wall clock says
more about the neighbours than about the checker) and peak MB.

    python benchmarks/bench_memory.py [--timeout SECONDS] [--only NAME] [--memory sc,tso,ra]
                                      [--buffer N] [--history N]

The weak models use their defaults (``--buffer 2`` for tso, ``--history 3``
for ra, ``model.config``) unless given, and no ordering overrides: the
kernel's and libbpf's orderings as they are. A bound that cut a behaviour
shows in the verdict ("holds up to bound buffer=2"); larger bounds give the
complete verdicts where the state space allows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

MEMORY_MODELS = ("sc", "tso", "ra")

CASES = {
    # the CVE configurations (adversarial user space is a fourth kind of actor with its own buffer)
    "cve-2024-41009 v6.10": dict(variant="v6.10", consumer="adversarial", ring_size=32, records=2, hold=2,
                                 sizes=[8, 16]),
    "cve-2021-3489 v6.10": dict(variant="v6.10", consumer="adversarial", ring_size=32, sizes=[8, 40]),
    # one producer, the two honest consumers; S=64 is issue 13's lost-wakeup configuration (must-show 3)
    "honest level S=32 P=1 E=2": dict(variant="v6.10", consumer="level", ring_size=32, producers=1, records=2,
                                      sizes=[8, 16]),
    "honest edge S=32 P=1 E=2": dict(variant="v6.10", consumer="edge", ring_size=32, producers=1, records=2,
                                     sizes=[8, 16]),
    "honest level S=64 P=1 E=2": dict(variant="v6.10", consumer="level", ring_size=64, producers=1, records=2,
                                      sizes=[8, 16]),
    "honest edge S=64 P=1 E=2 (lost wakeup)": dict(variant="v6.10", consumer="edge", ring_size=64, producers=1,
                                                   records=2, sizes=[8, 16]),
    # two producers, discard: the manifest's standard honest configurations
    "honest level S=32 P=2 E=1": dict(variant="v6.10", consumer="level", ring_size=32, producers=2, records=1,
                                      sizes=[8, 16], discard=True),
    "honest level S=32 P=2 E=2": dict(variant="v6.10", consumer="level", ring_size=32, producers=2, records=2,
                                      sizes=[8, 16], discard=True),
}

CHILD = """
import json, resource, sys
from model import Config
from checker.run import check
from checker.search import Limits
kw, timeout = json.loads(sys.argv[1]), float(sys.argv[2])
cfg = Config(**{**kw, "sizes": tuple(kw["sizes"])})
v = check(cfg, limits=Limits(timeout=timeout))
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"verdict": v.headline() if v.kind != "violated" else f"violated: {v.property}",
                  "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 2), **v.stats.to_dict()}))
"""


def run(kw: dict, timeout: float) -> dict:
    """One configuration in a fresh process; a crash or a hard timeout becomes an ``error`` verdict."""
    try:
        p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(kw), str(timeout)],
                           capture_output=True, text=True, timeout=2 * timeout + 60)
    except subprocess.TimeoutExpired:
        return {"verdict": f"error: killed after {2 * timeout + 60:.0f}s"}
    if p.returncode != 0:
        lines = p.stderr.strip().splitlines() or ["no output"]
        return {"verdict": "error: " + lines[-1]}
    return json.loads(p.stdout)


def row(name: str, memory: str, r: dict) -> str:
    """One markdown table row."""
    cells = [name, memory, r["verdict"]] + [str(r.get(k, "")) for k in
                                             ("states", "transitions", "depth", "seconds", "cpu_seconds",
                                              "peak_mb")]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=300.0, help="per run, seconds (default 300)")
    ap.add_argument("--only", help="run only the configurations whose name contains this")
    ap.add_argument("--memory", default=",".join(MEMORY_MODELS),
                    help="comma-separated memory models to run (default sc,tso,ra)")
    ap.add_argument("--buffer", type=int, help="tso store-buffer entries per actor (default: the Config's)")
    ap.add_argument("--history", type=int, help="ra messages kept per location (default: the Config's)")
    args = ap.parse_args()
    models = [m.strip() for m in args.memory.split(",") if m.strip()]
    bad = [m for m in models if m not in MEMORY_MODELS]
    if bad:
        ap.error(f"--memory: {bad[0]!r} is not one of {', '.join(MEMORY_MODELS)}")
    print("| configuration | memory | verdict | distinct states | transitions | depth | seconds | CPU s | peak MB |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for name, kw in CASES.items():
        if args.only and args.only not in name:
            continue
        for memory in models:
            extra = {} if memory == "sc" else {"memory": memory}
            if memory == "tso" and args.buffer:
                extra["buffer"] = args.buffer
            if memory == "ra" and args.history:
                extra["history"] = args.history
            print(row(name, memory, run({**kw, **extra}, args.timeout)), flush=True)


if __name__ == "__main__":
    main()

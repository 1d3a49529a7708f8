"""Benchmark of the explicit-state engine (not a test): states/s, time to verdict, peak memory.

Each configuration runs in a fresh process so that its peak memory is its own.
Prints a markdown table for the README.

    python benchmarks/bench_explicit.py [--timeout SECONDS] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CASES = {
    # issue #2 must-show 2 and 3: the CVE-2024-41009 configuration, broken and fixed
    "cve-2024-41009 v5.13 (violated)": dict(variant="v5.13", consumer="adversarial", ring_size=32, records=2, hold=2, sizes=[8, 16]),
    "cve-2024-41009 v6.10": dict(variant="v6.10", consumer="adversarial", ring_size=32, records=2, hold=2, sizes=[8, 16]),
    "cve-2021-3489 v6.10": dict(variant="v6.10", consumer="adversarial", ring_size=32, sizes=[8, 40]),
    # must-show 4: honest consumers, two producers, discard
    "honest level S=32 P=2 E=2": dict(variant="v6.10", consumer="level", ring_size=32, producers=2, records=2, sizes=[8, 16], discard=True),
    "honest edge S=32 P=2 E=2": dict(variant="v6.10", consumer="edge", ring_size=32, producers=2, records=2, sizes=[8, 16], discard=True),
    "honest level S=64 P=2 E=2": dict(variant="v6.10", consumer="level", ring_size=64, producers=2, records=2, sizes=[8, 16], discard=True),
    # larger ones
    "honest level S=32 P=2 E=3": dict(variant="v6.10", consumer="level", ring_size=32, producers=2, records=3, sizes=[8, 16], discard=True),
    "honest level S=64 P=3 E=2": dict(variant="v6.10", consumer="level", ring_size=64, producers=3, records=2, sizes=[8, 16], discard=True),
    # the optional producer-symmetry reduction on the two-producer and three-producer cases
    "honest level S=64 P=2 E=2 --symmetry": dict(variant="v6.10", consumer="level", ring_size=64, producers=2, records=2, sizes=[8, 16], discard=True, symmetry=True),
    "honest level S=64 P=3 E=2 --symmetry": dict(variant="v6.10", consumer="level", ring_size=64, producers=3, records=2, sizes=[8, 16], discard=True, symmetry=True),
}

CHILD = """
import json, sys
from model import Config
from checker.run import check
from checker.search import Limits
kw, timeout = json.loads(sys.argv[1]), float(sys.argv[2])
symmetry = kw.pop("symmetry", False)
v = check(Config(**{**kw, "sizes": tuple(kw["sizes"])}), limits=Limits(timeout=timeout), symmetry=symmetry)
print(json.dumps({"verdict": v.headline() if v.kind != "violated" else f"violated: {v.property}",
                  **v.stats.to_dict()}))
"""


def run(kw: dict, timeout: float) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(kw), str(timeout)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return {"verdict": "error: " + p.stderr.strip().splitlines()[-1]}
    return json.loads(p.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=600.0, help="per configuration, seconds")
    ap.add_argument("--only", help="run only the cases whose name contains this")
    args = ap.parse_args()
    print("| configuration | verdict | distinct states | transitions | depth | seconds | states/s | transitions/s | peak MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, kw in CASES.items():
        if args.only and args.only not in name:
            continue
        r = run(kw, args.timeout)
        print(f"| {name} | {r['verdict']} | {r.get('states', '')} | {r.get('transitions', '')} | "
              f"{r.get('depth', '')} | {r.get('seconds', '')} | {r.get('states_per_second', '')} | "
              f"{round(r['transitions'] / r['seconds']) if r.get('seconds') else ''} | "
              f"{r.get('peak_mb', '')} |", flush=True)


if __name__ == "__main__":
    main()

"""Benchmark of the compiled core's two stores (not a test): flat against tree, on one and on N threads.

Each run is a fresh ``ringcheck check --engine compiled --json`` process
(warm numba cache, so the compile is not timed); the kinds of run alternate
within each repeat, since this machine's speed drifts over an hour. Prints a
markdown table for the README: the search's seconds (median), the peak
resident set (the child's maximum), bytes per stored state, and the state
count, which must be equal across the kinds (the script exits if not).

    python benchmarks/bench_store.py [--repeat 3] [--threads 2] [--only NAME] [--symmetry]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_vs_spin import run_ringcheck  # noqa: E402  (same process runner and JSON reading)

ROWS = {
    "level S=32 P=2 E=2": dict(consumer="level", ring_size=32, producers=2, records=2),
    "level S=64 P=2 E=2": dict(consumer="level", ring_size=64, producers=2, records=2),
    "level S=64 P=4 E=1": dict(consumer="level", ring_size=64, producers=4, records=1),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each kind per row (medians are printed)")
    ap.add_argument("--threads", type=int, default=2, help="the threaded runs' --threads")
    ap.add_argument("--only", help="run only the rows whose name contains this")
    ap.add_argument("--symmetry", action="store_true", help="every run with --symmetry")
    args = ap.parse_args()
    kinds = {"flat 1": ["--store", "flat"], f"flat {args.threads}": ["--store", "flat", "--threads", str(args.threads)],
             "tree 1": ["--store", "tree"], f"tree {args.threads}": ["--store", "tree", "--threads", str(args.threads)]}
    sym = ["--symmetry"] if args.symmetry else []
    cache = tempfile.mkdtemp(prefix="ringcheck-bench-cache-")
    print(f"symmetry {'on' if args.symmetry else 'off'}; medians of {args.repeat}; search seconds, peak MB, bytes/state")
    print("| config (v6.10, sizes 8,16, discard, hold 1) | states | " + " | ".join(kinds) + " |")
    print("|---|---:|" + "---:|" * len(kinds))
    for name, kw in ROWS.items():
        if args.only and args.only not in name:
            continue
        run_ringcheck(kw, cache, ["--store", "tree", *sym])               # fills the cache for both stores
        run_ringcheck(kw, cache, ["--store", "flat", *sym])
        runs: dict[str, list[dict]] = {k: [] for k in kinds}
        for _ in range(args.repeat):
            for kind, extra in kinds.items():
                runs[kind].append(run_ringcheck(kw, cache, [*extra, *sym]))
        counts = {(r["verdict"], r["states"], r["transitions"]) for rs in runs.values() for r in rs}
        if len(counts) != 1:
            sys.exit(f"bench_store: {name}: the stores or thread counts found different counts: {counts}")
        cells = []
        for kind in kinds:
            rs = runs[kind]
            cells.append(f"{statistics.median(r['seconds'] for r in rs):.2f} s, "
                         f"{statistics.median(r['peak'] for r in rs):.0f} MB, "
                         f"{statistics.median(r['bytes_per_state'] for r in rs):.0f} B")
        print(f"| {name} | {runs['flat 1'][0]['states']:,} | " + " | ".join(cells) + " |", flush=True)
    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()

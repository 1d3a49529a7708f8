"""The compiled core against SPIN on the same configurations (not a test): wall time, peak memory, ratio.

For each row it alternates ringcheck and SPIN runs and prints the medians:

* ringcheck warm: ``ringcheck check --engine compiled`` as a fresh process,
  numba's cache already filled (a second run); cold: the same with an empty
  cache (``NUMBA_CACHE_DIR`` pointed at a fresh folder), so it compiles first;
* SPIN pan: the search alone, ``./pan`` of a kept build; pipeline: the whole
  ``run.sh`` (spin -a, gcc, pan).

Wall times are whole processes; peak memory is the child's maximum resident
set (``wait4``). SPIN's states are not ringcheck's (it folds local steps),
so the table shows both counts and compares verdicts and times.

    python benchmarks/bench_vs_spin.py --spin ../shared/anchors/spin [--repeat 3] [--long] [--threads 2]

With ``--threads N`` (N > 1) each row also gets warm runs of ``--threads N``
(the parallel compiled BFS; same counts), in their own columns beside the
one-thread ones, and the long rows run on N threads. ``--symmetry`` runs the
long rows with symmetry reduction over producers (SPIN's figures are without);
``--store tree`` runs them on the tree store (one thread: ``--threads`` then
applies to the short rows only).

Each time is printed as wall (CPU: user + system of the child), since on a
shared machine the CPU seconds say more than the wall seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = {
    "level S=32 P=2 E=2": dict(consumer="level", ring_size=32, producers=2, records=2),
    "edge S=32 P=2 E=2": dict(consumer="edge", ring_size=32, producers=2, records=2),
    "level S=64 P=2 E=2": dict(consumer="level", ring_size=64, producers=2, records=2),
}
LONG_ROWS = {
    "level S=32 P=2 E=3": dict(consumer="level", ring_size=32, producers=2, records=3),
    "level S=32 P=3 E=2": dict(consumer="level", ring_size=32, producers=3, records=2),
    "level S=64 P=3 E=2": dict(consumer="level", ring_size=64, producers=3, records=2),
    "level S=64 P=4 E=1": dict(consumer="level", ring_size=64, producers=4, records=1),
}
SPIN_CONSUMER = {"level": 0, "edge": 1}


def timed(argv: list[str], env: dict | None = None, cwd: str | None = None) -> tuple[float, float, str, float]:
    """(wall seconds, peak resident MB, stdout, CPU seconds: user + system) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def ringcheck_argv(kw: dict, extra: list[str]) -> list[str]:
    return [sys.executable, "-c", "from checker.cli import entry_point; entry_point()", "check", "--variant", "v6.10", "--ring-size", str(kw["ring_size"]),
            "--producers", str(kw["producers"]), "--records", str(kw["records"]), "--hold", "1",
            "--sizes", "8,16", "--discard", "--consumer", kw["consumer"], "--engine", "compiled", "--json", *extra]


def run_ringcheck(kw: dict, cache_dir: str, extra: list[str] = ()) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    wall, peak, out, cpu = timed(ringcheck_argv(kw, list(extra)), env)
    d = json.loads(out)
    return {"wall": wall, "cpu": cpu, "peak": peak, "verdict": d["verdict"], "bound": d["bound"], **d["stats"]}


def spin_params(kw: dict) -> list[str]:
    return [f"S={kw['ring_size']}", f"P={kw['producers']}", f"E={kw['records']}", "HOLD=1", "SIZES=8,16",
            "DISCARD=1", "VARIANT=2", f"CONSUMER={SPIN_CONSUMER[kw['consumer']]}"]


def run_spin_pipeline(spin: Path, kw: dict, keep: str | None = None) -> dict:
    argv = ["bash", str(spin / "run.sh"), *spin_params(kw)] + ([f"KEEP={keep}"] if keep else [])
    wall, peak, out, cpu = timed(argv)
    fields = dict(x.split("=", 1) for x in out.split() if "=" in x)
    return {"wall": wall, "cpu": cpu, "peak": peak, "verdict": fields.get("verdict"),
            "states": fields.get("states")}


def run_pan(build: str) -> dict:
    if not (Path(build) / "pan").exists():
        sys.exit(f"bench_vs_spin: SPIN's run.sh built no pan in {build}")
    wall, peak, out, cpu = timed(["./pan", "-m1000000", "-w24"], cwd=build)
    return {"wall": wall, "cpu": cpu, "peak": peak}


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spin", help="the SPIN anchor folder (run.sh, ringbuf.pml); without it, ringcheck only")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each kind per row (medians are printed)")
    ap.add_argument("--long", action="store_true", help="also the large rows, ringcheck only, once each")
    ap.add_argument("--only", help="run only the rows whose name contains this")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per long row")
    ap.add_argument("--threads", type=int, default=1, help="also warm runs on N threads (N > 1), and the long rows")
    ap.add_argument("--symmetry", action="store_true", help="the long rows with --symmetry")
    ap.add_argument("--store", choices=["flat", "tree"], default="flat", help="the long rows with --store")
    ap.add_argument("--max-memory", metavar="SIZE", help="the long rows' --max-memory (e.g. 22G; default ringcheck's)")
    args = ap.parse_args()
    spin = Path(args.spin) if args.spin else None
    if spin is not None and not (spin / "run.sh").exists():
        sys.exit(f"bench_vs_spin: {spin}/run.sh not found")
    if spin is not None and not (shutil.which("spin") and shutil.which("gcc")):
        sys.exit("bench_vs_spin: --spin needs the spin and gcc commands (apt-get install spin)")
    warm_cache = tempfile.mkdtemp(prefix="ringcheck-numba-warm-")
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at the start")
    threads = ["--threads", str(args.threads)] if args.threads > 1 else []
    more = f" | warm {args.threads} threads wall (CPU) | warm {args.threads} threads / pan" if threads else ""
    print("| config (v6.10, sizes 8,16, discard, hold 1) | ringcheck states | verdict | warm wall (CPU) "
          "| cold wall (CPU) | peak MB | SPIN states | pan wall (CPU) | pipeline wall (CPU) | SPIN peak MB "
          f"| warm / pan (CPU) | cold / pipeline (CPU){more} |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if threads else ""))
    for name, kw in ROWS.items():
        if args.only and args.only not in name:
            continue
        run_ringcheck(kw, warm_cache)                      # fills the warm cache
        build = tempfile.mkdtemp(prefix="ringcheck-spin-") if spin else None
        if spin:
            run_spin_pipeline(spin, kw, keep=build)
        warm, cold, pan, pipe, par = [], [], [], [], []
        for _ in range(args.repeat):
            warm.append(run_ringcheck(kw, warm_cache))
            if threads:
                par.append(run_ringcheck(kw, warm_cache, threads))
            if spin:
                pan.append(run_pan(build))
            cold_cache = tempfile.mkdtemp(prefix="ringcheck-numba-cold-")
            cold.append(run_ringcheck(kw, cold_cache))
            shutil.rmtree(cold_cache, ignore_errors=True)
            if spin:
                pipe.append(run_spin_pipeline(spin, kw))
        w, c = med([r["wall"] for r in warm]), med([r["wall"] for r in cold])
        wc, cc = med([r["cpu"] for r in warm]), med([r["cpu"] for r in cold])
        peak = max(r["peak"] for r in warm + cold)
        row = (f"| {name} | {warm[0]['states']:,} | {warm[0]['verdict']} | {w:.2f} s ({wc:.2f} s) "
               f"| {c:.2f} s ({cc:.2f} s) | {peak:.0f} |")
        if spin:
            pw, pp = med([r["wall"] for r in pan]), med([r["wall"] for r in pipe])
            pc, ppc = med([r["cpu"] for r in pan]), med([r["cpu"] for r in pipe])
            speak = max(r["peak"] for r in pan + pipe)
            row += (f" {int(pipe[0]['states']):,} | {pw:.2f} s ({pc:.2f} s) | {pp:.2f} s ({ppc:.2f} s) | {speak:.0f} "
                    f"| {w / pw:.2f}x ({wc / pc:.2f}x) | {c / pp:.2f}x ({cc / ppc:.2f}x) |")
        else:
            row += " | | | | | |"
        if threads:
            if any(r["states"] != warm[0]["states"] for r in par):
                sys.exit(f"bench_vs_spin: {name}: --threads {args.threads} found other state counts")
            tw, tc = med([r["wall"] for r in par]), med([r["cpu"] for r in par])
            row += f" {tw:.2f} s ({tc:.2f} s) | " + (f"{tw / pw:.2f}x |" if spin else " |")
        print(row, flush=True)
        if build:
            shutil.rmtree(build, ignore_errors=True)
    if args.long:
        print()
        long_threads = [] if args.store == "tree" else threads
        print(f"long rows: threads {1 if args.store == 'tree' else args.threads}, "
              f"symmetry {'on' if args.symmetry else 'off'}, store {args.store}")
        print("| config (v6.10, sizes 8,16, discard, hold 1) | verdict | states | transitions | depth | wall | "
              "CPU | search s | peak MB | bytes/state |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, kw in LONG_ROWS.items():
            if args.only and args.only not in name:
                continue
            r = run_ringcheck(kw, warm_cache, ["--timeout", str(args.timeout), *long_threads, "--store", args.store,
                                               *(["--max-memory", args.max_memory] if args.max_memory else []),
                                               *(["--symmetry"] if args.symmetry else [])])
            verdict = "holds (complete)" if r["verdict"] == "holds" else f"{r['verdict']} {r['bound'] or ''}"
            print(f"| {name} | {verdict} | {r['states']:,} | {r['transitions']:,} | {r['depth']} | "
                  f"{r['wall']:.0f} s | {r['cpu']:.0f} s | {r['seconds']:.0f} | {r['peak']:.0f} | "
                  f"{r.get('bytes_per_state', '')} |", flush=True)
    shutil.rmtree(warm_cache, ignore_errors=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

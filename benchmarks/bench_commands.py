"""Benchmark of the other engines (not a test): time to verdict and peak memory per command.

Runs each ``ringcheck`` command in a fresh process and prints a markdown table:
BMC of the two CVEs, the proofs, the cross-check, the exhaustive conformance
check of the bundled reference, and the live-kernel differential check.

    python benchmarks/bench_commands.py [--only NAME] [--kernel-scripts N] [--long]

``--long`` adds the 4-live-record delivery proof, which takes about an hour on two cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

RINGCHECK = [sys.executable, "-c", "from checker.cli import entry_point; entry_point()"]


LONG = {
    "prove v6.10 delivery, level consumer, 4 live records (1 x 4, hold 2)": [
        "prove", "--variant", "v6.10", "--consumer", "level", "--records", "4", "--hold", "2"],
}
"""Runs too long for a routine benchmark; their kept logs are in reports/proofs/."""


def commands(kernel_scripts: int) -> dict[str, list[str]]:
    return {
        "bmc CVE-2024-41009 (v5.13, S=0x4000)": [
            "bmc", "--property", "no_overlap", "--depth", "12", "--variant", "v5.13", "--ring-size", "0x4000",
            "--consumer", "adversarial", "--records", "2", "--hold", "2", "--sizes", "0x2ff8"],
        "bmc CVE-2021-3489 (v5.8, S=32)": [
            "bmc", "--property", "in_bounds", "--depth", "6", "--variant", "v5.8", "--ring-size", "32",
            "--consumer", "adversarial", "--sizes", "8,40"],
        "prove v6.10 memory safety, S=2^k, k<=32": ["prove", "--variant", "v6.10"],
        "prove v5.13 (no_overlap fails)": ["prove", "--variant", "v5.13"],
        "prove v5.8 (in_bounds fails)": ["prove", "--variant", "v5.8"],
        "prove v6.10 delivery, level consumer (1 x 2, hold 2)": [
            "prove", "--variant", "v6.10", "--consumer", "level"],
        "prove v6.10 memory safety by k-induction, K=2, strengthened (1 x 2)": [
            "prove", "--variant", "v6.10", "--k-induction", "2"],
        "crosscheck (default configurations, every reachable state)": ["crosscheck"],
        "conform --standard (bundled reference)": ["conform", "--standard"],
        f"kernel diff --scripts {kernel_scripts}": ["kernel", "diff", "--scripts", str(kernel_scripts)],
    }


def run(argv: list[str]) -> tuple[int, float, float]:
    """(exit code, wall seconds, peak MB of the child)."""
    t0 = time.perf_counter()
    pid = subprocess.Popen(RINGCHECK + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), time.perf_counter() - t0, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="run only the commands whose name contains this")
    ap.add_argument("--kernel-scripts", type=int, default=10000)
    ap.add_argument("--long", action="store_true", help="also the proofs that take about an hour")
    args = ap.parse_args()
    print("| command | exit | seconds | peak MB |")
    print("|---|---:|---:|---:|")
    for name, argv in (commands(args.kernel_scripts) | (LONG if args.long else {})).items():
        if args.only and args.only not in name:
            continue
        code, secs, mb = run(argv)
        print(f"| `ringcheck {' '.join(argv)}` ({name}) | {code} | {secs:.1f} | {mb:.0f} |", flush=True)


if __name__ == "__main__":
    main()

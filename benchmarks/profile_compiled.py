"""Where the compiled BFS spends its time (not a test): each stage timed alone over every reachable state.

Runs the compiled BFS once to fill the visited set, then times, over all its
states, passes that do a growing prefix of the per-state work (unpack;
+ successors; + packing; + predicates; + lookups in a fresh table), so each
stage's cost is the difference between two passes. CPU seconds
(process_time), best of ``--repeat``.

    python benchmarks/profile_compiled.py [--ring-size 32] [--consumer level] [--records 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from numba import njit

from checker.compiled.engine import run_compiled
from checker.compiled.layout import C_MAXSUCC, C_NFLAT, C_NWORDS, build_layout, pack_changed, unpack
from checker.compiled.predicates import PROPERTY_ID, first_violated
from checker.compiled.steps import is_terminal, successors
from checker.compiled.visited import find_or_insert, table_size_for
from checker.search import Search
from model import Config


@njit(cache=False)
def _pass(C, FT, props, states, n, stage, table, out):
    K = C[C_NWORDS]
    nf = C[C_NFLAT]
    cap = C[C_MAXSUCC]
    F = np.zeros(nf, np.int64)
    T = np.zeros(nf, np.int64)
    OUT = np.zeros((cap, nf), np.int64)
    ACT = np.zeros(cap, np.int64)
    W = np.zeros(K, np.int64)
    acc = 0
    m_new = 0
    for s in range(n):
        unpack(C, FT, states[s], F)
        if stage == 0:
            acc += F[0]
            continue
        m = successors(C, F, OUT, ACT, T)
        if stage == 1:
            acc += m
            continue
        for i in range(m):
            inputs = pack_changed(C, FT, F, states[s], OUT[i], W)
            acc += W[0]
            if stage >= 3:
                terminal = is_terminal(C, OUT[i])
                if terminal or inputs != 0:
                    acc += first_violated(C, OUT[i], terminal, props)
            if stage >= 4:
                if find_or_insert(table, out, m_new, W, K) < 0:
                    m_new += 1
    return acc + m_new


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ring-size", type=int, default=32)
    ap.add_argument("--consumer", default="level")
    ap.add_argument("--records", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    cfg = Config(variant="v6.10", ring_size=a.ring_size, producers=2, records=a.records, hold=1,
                 sizes=(8, 16), discard=True, consumer=a.consumer)
    search = Search.for_config(cfg)
    t = time.process_time()
    v = run_compiled(search, "bfs")
    print(f"search: {v.stats.states:,} states, {v.stats.transitions:,} transitions, "
          f"{time.process_time() - t:.3f} s CPU (first run, includes loading)")
    lay = build_layout(cfg, search.model.start)
    import checker.compiled.engine as e                 # run again, keeping the visited set's arrays
    captured = {}
    orig = e.Visited

    class Keep(orig):
        def __init__(self, *args):
            super().__init__(*args)
            captured["v"] = self
    e.Visited = Keep
    t = time.process_time()
    v = run_compiled(Search.for_config(cfg), "bfs")
    print(f"search again: {time.process_time() - t:.3f} s CPU")
    e.Visited = orig
    vis = captured["v"]
    n = v.stats.states
    states = vis.states[:n]
    props = np.array([PROPERTY_ID[p.name] for p in search.properties], dtype=np.int64)
    names = ["unpack", "+successors", "+pack_changed", "+predicates", "+lookup/insert"]
    prev = 0.0
    for stage in range(5):
        best = 1e9
        for _ in range(a.repeat):
            table = np.zeros(table_size_for(n), np.int32)
            out = np.empty((n, lay.nwords), np.int64)
            _pass(lay.C, lay.FT, props, states, 1, stage, table, out)       # compiles on the first call
            t = time.process_time()
            _pass(lay.C, lay.FT, props, states, n, stage, table, out)
            best = min(best, time.process_time() - t)
        print(f"{names[stage]:>16}: {best:.3f} s  (stage {best - prev:+.3f} s)")
        prev = best


if __name__ == "__main__":
    main()

"""Seeded random simulation: random walks, for configurations too big to exhaust.

A simulation never proves anything: without a violation its verdict is
``bounded``, naming the limit that ended it. It always ends: it takes
``limits.walks`` walks (default ``DEFAULT_WALKS``) of at most
``limits.max_depth`` steps (default ``DEFAULT_WALK_DEPTH``), and stops sooner
at the timeout, ``max_states`` or the memory budget. A small model cannot
keep it going: ``max_states`` above the number of reachable states is simply
never reached, and the walks run out.
"""

from __future__ import annotations

import random

from checker.search import DEADLOCK, Clock, Search
from checker.verdict import BOUNDED, VIOLATED, Verdict
from model.state import State

DEFAULT_WALKS = 1000
DEFAULT_WALK_DEPTH = 200
CHECK_EVERY = 256
"""Steps between two looks at the clock and the memory inside one long walk."""


def simulate(search: Search, seed: int = 0, walks: int | None = None) -> Verdict:
    """Random walks from the initial state; the same seed gives the same walks."""
    model = search.model
    limits = search.limits
    coverage = search.coverage
    rng = random.Random(seed)
    stats = search.stats
    clock = Clock(search, stats)
    seen: set[State] = set()
    walk_depth = limits.max_depth or DEFAULT_WALK_DEPTH
    walks = walks or limits.walks or DEFAULT_WALKS
    done = 0
    inits = model.initial_states()

    def bounded(bound: str) -> Verdict:
        stats.states = len(seen)
        return search.verdict(BOUNDED, stats, "random", bound=f"{bound} ({done} walks, seed {seed})")

    while done < walks:
        root = s = rng.choice(inits)
        seen.add(s)
        path: list = []
        for n in range(1, walk_depth + 1):
            succ = model.successors(s)
            stats.transitions += len(succ)
            if coverage is not None:
                coverage.count(succ)
            if not succ:
                if search.check_deadlock and not model.is_terminal(s):
                    stats.states = len(seen)
                    return search.verdict(VIOLATED, stats, "random", prop=DEADLOCK,
                                          reason="no step is possible but the run is not finished",
                                          path=path, initial=root)
                break
            a, s = rng.choice(succ)
            path.append((a, s))
            if s not in seen:
                seen.add(s)
                if coverage is not None:
                    coverage.new(a)
            stats.depth = max(stats.depth, len(path))
            bad = search.violation(s, model.is_terminal(s))
            if bad:
                stats.states = len(seen)
                return search.verdict(VIOLATED, stats, "random", prop=bad[0], reason=bad[1],
                                      path=path, initial=root)
            if n % CHECK_EVERY == 0:
                stats.states = len(seen)
                bound = clock.tick()
                if bound:
                    return bounded(bound)
        done += 1
        stats.states = len(seen)
        bound = clock.tick()
        if bound:
            return bounded(bound)
    return search.verdict(BOUNDED, stats, "random", bound=f"random walks={done} of depth<={walk_depth}, seed {seed}")

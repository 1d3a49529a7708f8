"""Seeded random simulation: long random walks, for configurations too big to exhaust.

A simulation never proves anything: without a violation its verdict is
``bounded``, naming how many walks of what length were taken.
"""

from __future__ import annotations

import random

from checker.search import DEADLOCK, Clock, Search
from checker.verdict import BOUNDED, VIOLATED, Stats, Verdict
from model.state import State

DEFAULT_WALKS = 1000
DEFAULT_WALK_DEPTH = 200


def simulate(search: Search, seed: int = 0, walks: int | None = None) -> Verdict:
    """Random walks from the initial state; the same seed gives the same walks."""
    model = search.model
    limits = search.limits
    rng = random.Random(seed)
    stats = Stats()
    clock = Clock(search, stats)
    seen: set[State] = set()
    walk_depth = limits.max_depth or DEFAULT_WALK_DEPTH
    if walks is None:
        walks = DEFAULT_WALKS if limits.max_states is None and limits.timeout is None else 1 << 62
    done = 0
    inits = model.initial_states()
    while done < walks:
        root = s = rng.choice(inits)
        seen.add(s)
        path: list = []
        for _ in range(walk_depth):
            succ = model.successors(s)
            stats.transitions += len(succ)
            if not succ:
                if search.check_deadlock and not model.is_terminal(s):
                    stats.states = len(seen)
                    return search.verdict(VIOLATED, stats, "random", prop=DEADLOCK,
                                          reason="no step is possible but the run is not finished",
                                          path=path, initial=root)
                break
            a, s = rng.choice(succ)
            path.append((a, s))
            seen.add(s)
            stats.depth = max(stats.depth, len(path))
            bad = search.violation(s, model.is_terminal(s))
            if bad:
                stats.states = len(seen)
                return search.verdict(VIOLATED, stats, "random", prop=bad[0], reason=bad[1],
                                      path=path, initial=root)
        done += 1
        stats.states = len(seen)
        if clock.tick():
            return search.verdict(BOUNDED, stats, "random", bound=f"timeout={limits.timeout}s ({done} walks, seed {seed})")
        if limits.max_states is not None and stats.states >= limits.max_states:
            return search.verdict(BOUNDED, stats, "random", bound=f"max_states={limits.max_states} ({done} walks, seed {seed})")
    return search.verdict(BOUNDED, stats, "random", bound=f"random walks={done} of depth<={walk_depth}, seed {seed}")

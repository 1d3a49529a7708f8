"""Depth-first search: little memory beyond the visited set; traces are not shortest."""

from __future__ import annotations

from checker.search import DEADLOCK, Clock, Search
from checker.verdict import BOUNDED, HOLDS, VIOLATED, Verdict
from model.state import State


def dfs(search: Search) -> Verdict:
    """Explore depth first; with a depth limit the verdict is bounded if the limit ever cut a path."""
    model = search.model
    limits = search.limits
    stats = search.stats
    clock = Clock(search, stats)
    coverage = search.coverage
    visited: set[State] = set()
    cut = False
    count = 0
    for root in model.initial_states():
        visited.add(root)
        bad = search.violation(root, model.is_terminal(root))
        if bad:
            return search.verdict(VIOLATED, stats, "dfs", prop=bad[0], reason=bad[1], path=[], initial=root)
        path: list = []
        succ = model.successors(root)
        stats.transitions += len(succ)
        if coverage is not None:
            coverage.count(succ)
        if not succ and search.check_deadlock and not model.is_terminal(root):
            return search.verdict(VIOLATED, stats, "dfs", prop=DEADLOCK,
                                  reason="no step is possible but the run is not finished",
                                  path=[], initial=root)
        stack = [iter(succ)]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                if path:
                    path.pop()
                continue
            a, t = step
            if t in visited:
                continue
            visited.add(t)
            if coverage is not None:
                coverage.new(a)
            path.append((a, t))
            stats.depth = max(stats.depth, len(path))
            terminal = model.is_terminal(t)
            stats.terminal += terminal
            bad = search.violation(t, terminal)
            if bad:
                stats.states = len(visited)
                return search.verdict(VIOLATED, stats, "dfs", prop=bad[0], reason=bad[1], path=path, initial=root)
            count += 1
            if count & 255 == 0:
                stats.states = len(visited)
                bound = clock.tick()
                if bound:
                    stats.queue = len(stack)
                    return search.verdict(BOUNDED, stats, "dfs", bound=bound)
            if limits.max_depth is not None and len(path) >= limits.max_depth:
                cut = True
                path.pop()
                continue
            succ = model.successors(t)
            stats.transitions += len(succ)
            if coverage is not None:
                coverage.count(succ)
            if not succ and search.check_deadlock and not model.is_terminal(t):
                stats.states = len(visited)
                return search.verdict(VIOLATED, stats, "dfs", prop=DEADLOCK,
                                      reason="no step is possible but the run is not finished",
                                      path=path, initial=root)
            stack.append(iter(succ))
    stats.states = len(visited)
    clock.tick()
    if cut:
        return search.verdict(BOUNDED, stats, "dfs", bound=f"max_depth={limits.max_depth}")
    return search.verdict(HOLDS, stats, "dfs")


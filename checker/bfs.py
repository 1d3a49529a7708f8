"""Breadth-first search: complete, and the first violation found has a shortest trace.

With ``max_violations`` above one the search goes on after a violation (the
violating state is not expanded, as in the state graph) and collects up to
that many violating states, each with a shortest trace to it.
"""

from __future__ import annotations

from checker.search import DEADLOCK, Clock, Search
from checker.verdict import BOUNDED, HOLDS, VIOLATED, Verdict
from model.actions import Action
from model.state import State
from model.symmetry import canonicalize, concretize
from specs.property import same_inputs

DEADLOCK_REASON = "no step is possible but the run is not finished"
CHECK_WORK = 1024
"""Successors generated between two looks at the clock, max_states and memory (about 250 expansions
at the usual branching; counting successors, not expansions, keeps the adversary's wide states covered)."""


def _path(parents: dict, s: State) -> list[tuple[Action, State]]:
    path = []
    while True:
        entry = parents[s]
        if entry is None:
            break
        prev, a = entry
        path.append((a, s))
        s = prev
    path.reverse()
    return path


def bfs(search: Search) -> Verdict:
    """Explore level by level; stop at the violations asked for, a limit, or exhaustion."""
    model = search.model
    limits = search.limits
    stats = search.stats
    clock = Clock(search, stats)
    coverage = search.coverage
    init = model.initial_states()
    parents: dict[State, tuple[State, Action] | None] = {}

    cfg = model.config
    symmetric = search.symmetry and cfg.producers > 1

    def violated(s: State, prop: str, why: str) -> bool:
        """Record the violation at ``s``; True when the search should stop."""
        path, root = _path(parents, s), _path_root(parents, s)
        if symmetric:
            path = concretize(model, root, path)
            final = path[-1][1] if path else root
            if prop != DEADLOCK:
                prop, why = search.violation(final, model.is_terminal(final)) or (prop, why)
        return search.found(prop, why, path, root)

    def stop(kind: str, bound: str | None = None, queue: int = 0) -> Verdict:
        stats.states = len(parents)
        stats.queue = queue
        return search.verdict(kind, stats, "bfs", bound=bound)

    frontier: list[State] = []
    for s in init:
        parents[s] = None
        bad = search.violation(s, model.is_terminal(s))
        if bad:
            if violated(s, *bad):
                return stop(VIOLATED)
            continue
        frontier.append(s)
    stats.states = len(parents)
    max_states = limits.max_states
    max_depth = limits.max_depth
    depth = 0
    work = 0
    while frontier:
        if max_depth is not None and depth >= max_depth:
            return stop(BOUNDED, f"max_depth={max_depth}", len(frontier))
        nxt: list[State] = []
        for i, s in enumerate(frontier):
            succ = model.successors(s)
            stats.transitions += len(succ)
            if coverage is not None:
                coverage.count(succ)
            if not succ and search.check_deadlock and not model.is_terminal(s):
                if violated(s, DEADLOCK, DEADLOCK_REASON):
                    return stop(VIOLATED, queue=len(frontier) - i - 1 + len(nxt))
            for a, t in succ:
                if symmetric:
                    t = canonicalize(cfg, t)[0]
                known = len(parents)
                parents.setdefault(t, (s, a))
                if len(parents) == known:
                    continue
                if coverage is not None:
                    coverage.new(a)
                stats.depth = depth + 1
                terminal = model.is_terminal(t)
                stats.terminal += terminal
                bad = None if not terminal and same_inputs(s, t) else search.violation(t, terminal)
                if bad:
                    if violated(t, *bad):
                        return stop(VIOLATED, queue=len(frontier) - i - 1 + len(nxt))
                    continue
                nxt.append(t)
            work += 1 + len(succ)
            if work >= CHECK_WORK:
                work = 0
                stats.states = len(parents)
                bound = clock.tick()
                if bound:
                    return stop(BOUNDED, bound, len(frontier) - i - 1 + len(nxt))
        stats.states = len(parents)
        if max_states is not None and stats.states >= max_states and nxt:
            return stop(BOUNDED, f"max_states={max_states}", len(nxt))
        frontier = nxt
        depth += 1
    clock.tick()
    return stop(HOLDS)


def _path_root(parents: dict, s: State) -> State:
    while parents[s] is not None:
        s = parents[s][0]
    return s

"""Breadth-first search: complete, and the first violation found has a shortest trace."""

from __future__ import annotations

from checker.search import DEADLOCK, Clock, Search
from checker.verdict import BOUNDED, HOLDS, VIOLATED, Stats, Verdict
from model.actions import Action
from model.state import State
from model.symmetry import canonicalize, concretize
from specs.property import same_inputs


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
    """Explore level by level; stop at the first violation, a limit, or exhaustion."""
    model = search.model
    limits = search.limits
    stats = Stats()
    clock = Clock(search, stats)
    init = model.initial_states()
    parents: dict[State, tuple[State, Action] | None] = {}

    cfg = model.config
    symmetric = search.symmetry and cfg.producers > 1

    def violated(s: State, prop: str, why: str) -> Verdict:
        path, root = _path(parents, s), _path_root(parents, s)
        if symmetric:
            path = concretize(model, root, path)
            final = path[-1][1] if path else root
            if prop != DEADLOCK:
                prop, why = search.violation(final, model.is_terminal(final)) or (prop, why)
        return search.verdict(VIOLATED, stats, "bfs", prop=prop, reason=why, path=path, initial=root)

    frontier: list[State] = []
    for s in init:
        parents[s] = None
        bad = search.violation(s, model.is_terminal(s))
        if bad:
            return violated(s, *bad)
        frontier.append(s)
    stats.states = len(parents)
    max_states = limits.max_states
    max_depth = limits.max_depth
    depth = 0
    count = 0
    while frontier:
        if max_depth is not None and depth >= max_depth:
            return search.verdict(BOUNDED, stats, "bfs", bound=f"max_depth={max_depth}")
        nxt: list[State] = []
        for s in frontier:
            succ = model.successors(s)
            stats.transitions += len(succ)
            if not succ and search.check_deadlock and not model.is_terminal(s):
                return violated(s, DEADLOCK, "no step is possible but the run is not finished")
            for a, t in succ:
                if symmetric:
                    t = canonicalize(cfg, t)[0]
                known = len(parents)
                parents.setdefault(t, (s, a))
                if len(parents) == known:
                    continue
                stats.depth = depth + 1
                terminal = model.is_terminal(t)
                stats.terminal += terminal
                bad = None if not terminal and same_inputs(s, t) else search.violation(t, terminal)
                if bad:
                    stats.states = len(parents)
                    return violated(t, *bad)
                nxt.append(t)
            count += 1
            if count & 255 == 0:
                stats.states = len(parents)
                if clock.tick():
                    return search.verdict(BOUNDED, stats, "bfs", bound=f"timeout={limits.timeout}s")
                if max_states is not None and stats.states >= max_states:
                    return search.verdict(BOUNDED, stats, "bfs", bound=f"max_states={max_states}")
        stats.states = len(parents)
        if max_states is not None and stats.states >= max_states and nxt:
            return search.verdict(BOUNDED, stats, "bfs", bound=f"max_states={max_states}")
        frontier = nxt
        depth += 1
    clock.tick()
    return search.verdict(HOLDS, stats, "bfs")


def _path_root(parents: dict, s: State) -> State:
    while parents[s] is not None:
        s = parents[s][0]
    return s

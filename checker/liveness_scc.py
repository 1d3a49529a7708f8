"""Fair cycles in an explored graph: Tarjan's SCCs under weak fairness, and a lasso through one.

For one property, restrict the expanded graph to the nodes where its
obligation is pending. A strongly connected component ``C`` of that subgraph
(a single node counts: a behaviour may stutter anywhere) holds a weakly fair
cycle exactly when every fair unit ``u`` is disabled in some node of ``C`` or
labels some edge inside ``C``: a cycle through all of ``C`` and those edges is
then fair, and no cycle inside ``C`` can do better than all of ``C``. So a
property is violated iff some reachable component passes that test.

Tarjan's algorithm is written with an explicit stack (no recursion limit;
millions of nodes). The lasso is a BFS-shortest stem to the fair component
nearest the initial state (node ids are in BFS order, so the component with
the smallest id), then a short cycle from that entry node: greedily the
nearest node or edge that settles a still-unsatisfied fair unit, then back.
"""

from __future__ import annotations

from array import array
from typing import Iterator

from checker.liveness_graph import Graph
from checker.liveness_visibility import EdgeLoads, unseen


def sccs(g: Graph, member: bytearray, allowed: bytearray | None = None) -> Iterator[list[int]]:
    """The strongly connected components of the subgraph of expanded nodes with ``member[i]`` set
    (and, with ``allowed``, only the edges ``e`` with ``allowed[e]`` set)."""
    n = g.expanded
    start, target = g.start, g.target
    index = array("l", [-1]) * n
    low = array("l", [0]) * n
    on_stack = bytearray(n)
    stack: list[int] = []
    counter = 0
    for root in range(n):
        if not member[root] or index[root] >= 0:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = 1
        work = [(root, start[root])]
        while work:
            v, e = work[-1]
            end = start[v + 1]
            descended = False
            while e < end:
                w = target[e]
                e += 1
                if w >= n or not member[w] or (allowed is not None and not allowed[e - 1]):
                    continue
                if index[w] < 0:
                    work[-1] = (v, e)
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = 1
                    work.append((w, start[w]))
                    descended = True
                    break
                if on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            if descended:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = 0
                    comp.append(w)
                    if w == v:
                        break
                yield comp


def unfair_units(g: Graph, comp: list[int], inside: bytearray, fair: int,
                 allowed: bytearray | None = None) -> int:
    """The fair units (mask) enabled in every node of ``comp`` that label no edge inside it (0: fair)."""
    always = fair
    taken = 0
    for v in comp:
        always &= g.enabled[v]
        for e in g.edges(v):
            if inside[g.target[e]] and (allowed is None or allowed[e]):
                taken |= g.label[e]
    return always & ~taken


def _inner_edges(g: Graph, comp: list[int], inside: bytearray, allowed: bytearray | None) -> list[int]:
    return [e for v in comp for e in g.edges(v) if inside[g.target[e]] and (allowed is None or allowed[e])]


def fair_component(g: Graph, k: int, fair: int, loads: EdgeLoads | None = None) -> list[int] | None:
    """The fair component of property ``k``'s pending subgraph nearest the initial state, or None.

    With ``loads`` (``--memory ra``), a component must also be eventually visible
    (``checker.liveness_visibility``): the edges of a pair loaded stale and never
    newest inside it are removed and what is left is split again. The component
    returned then lists the edges a good cycle may use in ``g.cycle_edges``.
    """
    bit = 1 << k
    member = bytearray(1 if g.pending[i] & bit else 0 for i in range(g.expanded))
    inside = bytearray(len(g.nodes))
    best: list[int] | None = None
    best_entry = g.expanded
    g.cycle_edges = None
    work: list[tuple[list[int], bytearray | None]] = [(c, None) for c in sccs(g, member)]
    while work:
        comp, allowed = work.pop()
        entry = min(comp)
        if entry >= best_entry:
            continue
        for v in comp:
            inside[v] = 1
        if unfair_units(g, comp, inside, fair, allowed) == 0:
            inner = _inner_edges(g, comp, inside, allowed) if loads is not None else []
            bad = unseen([loads(e) for e in inner]) if loads is not None else set()
            if not bad:
                best, best_entry = comp, entry
                g.cycle_edges = allowed
            else:
                cut = bytearray(len(g.target)) if allowed is None else bytearray(allowed)
                if allowed is None:
                    for e in inner:
                        cut[e] = 1
                for e in inner:
                    if loads(e)[0] & bad:
                        cut[e] = 0
                sub_member = bytearray(g.expanded)
                for v in comp:
                    sub_member[v] = 1
                for v in comp:
                    inside[v] = 0
                work.extend((c, cut) for c in sccs(g, sub_member, cut))
                continue
        for v in comp:
            inside[v] = 0
    return best


def _path_to_goal(g: Graph, src: int, inside: bytearray, needs: int, goal_node: int | None,
                  allowed: bytearray | None = None, goal_edge=None) -> list[int]:
    """Edges of a shortest path inside the component from ``src`` to ``goal_node``, or (when None) to
    the nearest edge labelled with a unit in ``needs`` (or passing ``goal_edge``) or node where such a
    unit is disabled; only ``allowed`` edges when given."""
    prev: dict[int, int] = {src: -1}
    queue = [src]
    for x in queue:
        for e in g.edges(x):
            y = g.target[e]
            if not inside[y] or (allowed is not None and not allowed[e]):
                continue
            if goal_node is None and (g.label[e] & needs or (goal_edge is not None and goal_edge(e))):
                return _unwind(g, prev, x) + [e]
            if y in prev:
                continue
            prev[y] = e
            if y == goal_node or (goal_node is None and ~g.enabled[y] & needs):
                return _unwind(g, prev, y)
            queue.append(y)
    raise AssertionError("liveness: no path inside a strongly connected component")


def _unwind(g: Graph, prev: dict[int, int], y: int) -> list[int]:
    path = []
    while prev[y] >= 0:
        e = prev[y]
        path.append(e)
        y = g.source_of(e)
    path.reverse()
    return path


def fair_cycle(g: Graph, comp: list[int], fair: int, loads: EdgeLoads | None = None) -> tuple[int, list[int]]:
    """(entry node, edges of a fair cycle from it back to it); no edges means stuttering at the entry.

    With ``loads``, only the edges ``fair_component`` left (``g.cycle_edges``), and the cycle is
    extended until every pair it loads stale it also loads newest (eventual visibility)."""
    entry = min(comp)
    allowed = g.cycle_edges if loads is not None else None
    inside = bytearray(len(g.nodes))
    for v in comp:
        inside[v] = 1
    needs = fair & g.enabled[entry]
    cycle: list[int] = []
    cur = entry
    while True:
        while needs:
            for e in _path_to_goal(g, cur, inside, needs, None, allowed):
                cycle.append(e)
                needs &= ~g.label[e]
                cur = g.target[e]
                needs &= g.enabled[cur]
        lacking = unseen([loads(e) for e in cycle]) if loads is not None else set()
        if lacking:
            for e in _path_to_goal(g, cur, inside, 0, None, allowed, lambda e: bool(loads(e)[1] & lacking)):
                cycle.append(e)
                cur = g.target[e]
            continue
        if cur == entry:
            return entry, cycle
        cycle += _path_to_goal(g, cur, inside, 0, entry, allowed)
        cur = entry


def stem(g: Graph, node: int) -> list[int]:
    """Edges of the BFS-tree path from the initial node to ``node`` (a shortest one)."""
    path = []
    while g.parent[node] >= 0:
        path.append(g.parent_edge[node])
        node = g.parent[node]
    path.reverse()
    return path

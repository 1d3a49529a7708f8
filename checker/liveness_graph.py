"""The reachable graph a liveness check needs, explored breadth first into flat arrays.

Safety engines keep only a visited set; finding cycles needs the edges too.
``explore`` numbers nodes in BFS order (so a smaller id is never deeper) and
keeps, compactly enough for millions of states:

* ``start``/``target``: the successors of node ``i`` are
  ``target[start[i]:start[i+1]]``, in the order ``model.successors`` lists
  them, so edge ``e`` of node ``i`` *is* ``model.successors(state)[e - start[i]]``
  (actions are recovered from that, not stored);
* ``label[e]``: the fair units (bit mask) edge ``e``'s action belongs to;
* ``enabled[i]``: the fair units with an action enabled in node ``i``;
* ``pending[i]``: bit ``k`` set when property ``k``'s obligation is pending;
* ``parent``/``parent_edge``: a BFS tree, for shortest stems.

A node is the model state, or ``(state, monitor values)`` when a property
carries a monitor (``space_returns``): the graph is then the product. Nodes
``0 .. expanded-1`` are expanded (their edges and enabled units are exact); a
limit leaves the rest unexpanded, and then nothing is claimed about them.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from checker.search import Clock, Limits, Search
from checker.verdict import Stats
from model.actions import Action
from model.ringbuf import RingBufModel
from model.state import State
from specs.liveness import LivenessProperty, unit_matches


@dataclass
class Graph:
    """The explored graph (see the module docstring)."""

    model: RingBufModel
    props: list[LivenessProperty]
    units: list[str]
    monitored: list[int]
    """Indices (in ``props``) of the properties with a monitor, in the order of a node's monitor tuple."""
    nodes: list = field(default_factory=list)
    start: array = field(default_factory=lambda: array("q"))
    target: array = field(default_factory=lambda: array("l"))
    label: array = field(default_factory=lambda: array("L"))
    enabled: array = field(default_factory=lambda: array("L"))
    pending: array = field(default_factory=lambda: array("L"))
    parent: array = field(default_factory=lambda: array("l"))
    parent_edge: array = field(default_factory=lambda: array("q"))
    depth: array = field(default_factory=lambda: array("l"))
    expanded: int = 0
    bound: str | None = None
    """The limit that stopped the exploration, None when every node was expanded."""
    cycle_edges: bytearray | None = None
    """Set by ``fair_component`` under eventual visibility: the edges its component may use (None: all)."""

    def state(self, i: int) -> State:
        """The model state of node ``i``."""
        n = self.nodes[i]
        return n[0] if self.monitored else n

    def monitor(self, i: int, k: int) -> object:
        """Property ``k``'s monitor value at node ``i`` (None for properties without one)."""
        if k not in self.monitored:
            return None
        return self.nodes[i][1][self.monitored.index(k)]

    def edges(self, i: int) -> range:
        """Edge indices of node ``i`` (empty for an unexpanded node)."""
        return range(self.start[i], self.start[i + 1]) if i < self.expanded else range(0)

    def edge_step(self, i: int, e: int) -> tuple[Action, State]:
        """The (action, next state) edge ``e`` of node ``i`` stands for."""
        return self.model.successors(self.state(i))[e - self.start[i]]

    def source_of(self, e: int) -> int:
        """The node edge ``e`` leaves (binary search in ``start``)."""
        lo, hi = 0, self.expanded - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.start[mid] <= e:
                lo = mid
            else:
                hi = mid - 1
        return lo


def unit_mask(units: list[str], action: Action) -> int:
    """Bit ``i`` set when ``action`` belongs to ``units[i]``."""
    return sum(1 << i for i, u in enumerate(units) if unit_matches(u, action))


def _pending_bits(g: Graph, s: State, monitors: tuple) -> int:
    cfg = g.model.config
    bits = 0
    for k, p in enumerate(g.props):
        mon = monitors[g.monitored.index(k)] if k in g.monitored else None
        if p.pending(cfg, s, mon) is not None:
            bits |= 1 << k
    return bits


def explore(search: Search, props: list[LivenessProperty], units: list[str], stats: Stats) -> Graph:
    """Breadth-first exploration of the (product) graph within ``search.limits``."""
    model = search.model
    cfg = model.config
    limits: Limits = search.limits
    g = Graph(model, props, units, [k for k, p in enumerate(props) if p.monitor_step])
    clock = Clock(search, stats)
    ids: dict = {}
    masks: dict[tuple[str, str], int] = {}
    shared: dict[tuple, tuple] = {}
    """One tuple object per distinct monitor value (there are few), not one per node."""

    def add(node: object, s: State, monitors: tuple, parent: int, edge: int, depth: int) -> int:
        j = ids.get(node)
        if j is None:
            j = ids[node] = len(g.nodes)
            g.nodes.append(node)
            g.parent.append(parent)
            g.parent_edge.append(edge)
            g.depth.append(depth)
            g.pending.append(_pending_bits(g, s, monitors))
            stats.terminal += model.is_terminal(s)
        return j

    for s in model.initial_states():
        monitors = tuple(props[k].monitor_init(cfg, s) for k in g.monitored)
        add((s, monitors) if g.monitored else s, s, monitors, -1, -1, 0)
    i = 0
    while i < len(g.nodes):
        if limits.max_depth is not None and g.depth[i] >= limits.max_depth:
            g.bound = f"max_depth={limits.max_depth}"
            break
        if limits.max_states is not None and len(g.nodes) >= limits.max_states:
            g.bound = f"max_states={limits.max_states}"
            break
        if i & 255 == 0:
            stats.states = len(g.nodes)
            stats.depth = g.depth[i]
            if clock.tick():
                g.bound = f"timeout={limits.timeout}s"
                break
        node = g.nodes[i]
        s = node[0] if g.monitored else node
        g.start.append(len(g.target))
        enabled = 0
        succ = model.successors(s)
        for a, t in succ:
            key = (a.actor, a.step)
            m = masks.get(key)
            if m is None:
                m = masks[key] = unit_mask(units, a)
            enabled |= m
            if g.monitored:
                mons = tuple(props[k].monitor_step(cfg, s, a, t, mon) for k, mon in zip(g.monitored, node[1]))
                mons = shared.setdefault(mons, mons)
                nxt: object = (t, mons)
            else:
                mons, nxt = (), t
            j = ids.get(nxt)
            if j is None:
                j = add(nxt, t, mons, i, len(g.target), g.depth[i] + 1)
            g.target.append(j)
            g.label.append(m)
        g.enabled.append(enabled)
        stats.transitions += len(succ)
        i += 1
    g.expanded = i
    g.start.append(len(g.target))
    stats.states = len(g.nodes)
    stats.depth = g.depth[len(g.nodes) - 1] if g.nodes else 0
    clock.tick()
    return g

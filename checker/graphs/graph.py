"""A counterexample or teaching trace as a networkx DiGraph, one node per state.

Node ``i`` is the state after step ``i`` (node 0 the initial state); it holds
the attributes of ``attrs.state_attrs`` plus ``index`` and ``level`` (both
``i``: a trace is a path, so its BFS level is its position), ``initial``,
``terminal`` and ``violating``, and on the violating (last) node the property
and its one-line reason. Edge ``i-1 -> i`` holds the action, actor, step
name, the kernel or libbpf function the step stands for and the variables it
changed (``Trace.changes``). Graph attributes carry the configuration, so
every exporter can name what was checked.

A lasso's last state is its loop state again, so it gets no node of its own:
the closing step is a *back edge* to node ``loop`` (``back_edge`` true), and a
cycle of no steps is a ``stutter`` self-loop; node ``loop`` has ``loop_start``
and is the violating one (the obligation stays pending from there on).
"""

from __future__ import annotations

import json

import networkx as nx

from checker.graphs.attrs import state_attrs, state_label, step_attrs
from checker.trace import Trace


def trace_graph(trace: Trace) -> nx.DiGraph:
    """The trace as a path graph with every state and step annotated."""
    cfg = trace.config
    model = trace.model()
    g = nx.DiGraph(name=f"trace: {cfg.describe()}", kind="trace", config=cfg.describe(),
                   config_json=json.dumps(cfg.to_dict(), sort_keys=True), start=trace.start,
                   property=trace.property or "", reason=trace.reason or "")
    states = trace.states
    last = len(states) - 1
    loop = trace.loop
    if loop is not None:
        g.graph["loop"] = loop
        states = states[:-1] if loop < last else states
    for i, s in enumerate(states):
        violating = bool(trace.property) and i == (last if loop is None else loop)
        extra = {} if loop is None else {"loop_start": i == loop}
        g.add_node(i, index=i, level=i, label=state_label(cfg, s), initial=i == 0,
                   terminal=model.is_terminal(s), violating=violating,
                   property=trace.property if violating else "",
                   reason=(trace.reason or "") if violating else "",
                   **extra, **state_attrs(cfg, s))
    for i, st in enumerate(trace.steps, 1):
        closing = loop is not None and loop < last and i == last
        extra = {} if loop is None else {"back_edge": closing}
        g.add_edge(i - 1, loop if closing else i, index=i, **extra, **step_attrs(st.action, trace.changes(i)))
    if loop is not None and loop == last:
        g.add_edge(loop, loop, index=last + 1, back_edge=True, action="(stutter: stays here forever)",
                   actor="", step="stutter", function="", protocol="", changed="")
    return g

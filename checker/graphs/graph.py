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

Under tso/ra (``checker.trace_memory``) a node also holds ``memory`` (the
frame as JSON: every actor's buffer or view, the values it would read, the
memory or messages) and its buffers or views as text, appended to ``label``;
an edge holds ``reads`` (the loads of the step, stale ones marked STALE),
``stale_read`` and ``flush``. Under sc nothing is added.
"""

from __future__ import annotations

import json

import networkx as nx

from checker.graphs.attrs import state_attrs, state_label, step_attrs
from checker.trace import Trace, config_dict
from checker.trace_memory import read_text, state_lines


def trace_graph(trace: Trace) -> nx.DiGraph:
    """The trace as a path graph with every state and step annotated."""
    cfg = trace.config
    model = trace.model()
    g = nx.DiGraph(name=f"trace: {cfg.describe()}", kind="trace", config=cfg.describe(),
                   config_json=json.dumps(config_dict(cfg), sort_keys=True), start=trace.start,
                   property=trace.property or "", reason=trace.reason or "")
    states = trace.states
    frames = trace.memory_frames()
    last = len(states) - 1
    loop = trace.loop
    if loop is not None:
        g.graph["loop"] = loop
        states = states[:-1] if loop < last else states
    for i, s in enumerate(states):
        violating = bool(trace.property) and i == (last if loop is None else loop)
        label = state_label(cfg, s)
        extra: dict[str, object] = {} if loop is None else {"loop_start": i == loop}
        if frames is not None:
            lines = state_lines(frames[i], cfg.memory)
            label += "\n" + "\n".join(lines)
            extra.update(memory=json.dumps(frames[i].to_dict(), sort_keys=True, separators=(",", ":")),
                         memory_text="; ".join(lines))
        g.add_node(i, index=i, level=i, label=label, initial=i == 0,
                   terminal=model.is_terminal(s), violating=violating,
                   property=trace.property if violating else "",
                   reason=(trace.reason or "") if violating else "",
                   **extra, **state_attrs(cfg, s))
    for i, st in enumerate(trace.steps, 1):
        closing = loop is not None and loop < last and i == last
        extra = {} if loop is None else {"back_edge": closing}
        if frames is not None:
            f = frames[i]
            extra.update(reads=", ".join(read_text(r) for r in f.reads), stale_read=f.stale,
                         flush=f"{f.flush.location}={f.flush.value}" if f.flush else "")
        g.add_edge(i - 1, loop if closing else i, index=i, **extra, **step_attrs(st.action, trace.changes(i)))
    if loop is not None and loop == last:
        extra = {} if frames is None else {"reads": "", "stale_read": False, "flush": ""}
        g.add_edge(loop, loop, index=last + 1, back_edge=True, action="(stutter: stays here forever)",
                   actor="", step="stutter", function="", protocol="", changed="", **extra)
    return g

"""Traces and state graphs as graphs and pictures: networkx, GraphML, DOT, node-link, ITF, HTML, SVG.

Public API (what a notebook or test imports):

- ``trace_graph(trace)``: a trace as a networkx DiGraph (graph.py);
- ``state_graph(config, max_states)``: the whole reachable state graph (statespace.py);
- ``render(trace, fmt)`` / ``render_graph(g, fmt)`` for fmt in ``TRACE_FORMATS`` (export.py);
- ``decode_trace`` / ``load_itf``: ITF back to a Trace (itf.py);
- ``run_scenario`` / ``trace_scenario``: the scenario language (scenario.py);
- ``write_report``: regenerate reports/ (report.py).
"""

from checker.graphs.export import GRAPH_FORMATS, TRACE_FORMATS, render, render_graph
from checker.graphs.graph import trace_graph
from checker.graphs.itf import decode_trace, load_itf
from checker.graphs.scenario import ScenarioError, run_scenario, trace_scenario
from checker.graphs.statespace import StateGraphTooLarge, state_graph

__all__ = ["GRAPH_FORMATS", "ScenarioError", "StateGraphTooLarge", "TRACE_FORMATS", "decode_trace",
           "load_itf", "render", "render_graph", "run_scenario", "state_graph", "trace_graph",
           "trace_scenario"]

"""One entry point for every output format, so the CLI and the report share it.

``render(trace, fmt)`` gives the text of a trace in format ``fmt``;
``render_graph(g, fmt)`` the text of any graph (trace or state graph) in the
graph formats. ``EXTENSIONS`` are the file name endings the report uses.
"""

from __future__ import annotations

import networkx as nx

from checker.graphs.dot import dot_text
from checker.graphs.graph import trace_graph
from checker.graphs.graphml import graphml_text
from checker.graphs.html import trace_html
from checker.graphs.itf import itf_text
from checker.graphs.nodelink import nodelink_text
from checker.graphs.svg import trace_svg
from checker.trace import Trace

GRAPH_FORMATS = ("graphml", "dot", "json")
TRACE_FORMATS = GRAPH_FORMATS + ("itf", "html", "svg")
EXTENSIONS = {"graphml": ".graphml", "dot": ".dot", "json": ".nodelink.json", "itf": ".itf.json",
              "html": ".html", "svg": ".svg"}


def render_graph(g: nx.DiGraph, fmt: str) -> str:
    """A graph as GraphML, DOT or node-link JSON text."""
    if fmt == "graphml":
        return graphml_text(g)
    if fmt == "dot":
        return dot_text(g)
    if fmt == "json":
        return nodelink_text(g)
    raise ValueError(f"format {fmt!r} is not one of {', '.join(GRAPH_FORMATS)}")


def render(trace: Trace, fmt: str) -> str:
    """A trace in one of TRACE_FORMATS (a user ring trace: ``checker.graphs.user_page``)."""
    if trace.config.map == "user":
        from checker.graphs.user_page import render_user
        return render_user(trace, fmt)
    if fmt in GRAPH_FORMATS:
        return render_graph(trace_graph(trace), fmt)
    if fmt == "itf":
        return itf_text(trace)
    if fmt == "html":
        return trace_html(trace)
    if fmt == "svg":
        return trace_svg(trace)
    raise ValueError(f"format {fmt!r} is not one of {', '.join(TRACE_FORMATS)}")

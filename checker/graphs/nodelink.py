"""Node-link JSON export: the form d3.js and ``networkx.node_link_graph`` read.

The JSON object has ``directed``, ``multigraph``, ``graph`` (the configuration),
``nodes`` (each with ``id`` and the state attributes) and ``edges`` (each with
``source``, ``target`` and the step attributes): what networkx 3.4+ writes
with ``edges="edges"``. It is built here rather than by networkx so that the
bytes do not depend on the networkx version (reports/ is compared byte for
byte).
"""

from __future__ import annotations

import json

import networkx as nx


def nodelink_dict(g: nx.DiGraph) -> dict:
    """The graph as a node-link dictionary."""
    return {
        "directed": True,
        "multigraph": False,
        "graph": dict(g.graph),
        "nodes": [{**d, "id": n} for n, d in g.nodes(data=True)],
        "edges": [{**d, "source": u, "target": v} for u, v, d in g.edges(data=True)],
    }


def nodelink_text(g: nx.DiGraph) -> str:
    """The graph as node-link JSON text (deterministic)."""
    return json.dumps(nodelink_dict(g), indent=1) + "\n"


def nodelink_graph(d: dict) -> nx.DiGraph:
    """Inverse of ``nodelink_dict``."""
    g = nx.DiGraph(**d.get("graph", {}))
    for node in d["nodes"]:
        attrs = {k: v for k, v in node.items() if k != "id"}
        g.add_node(node["id"], **attrs)
    for edge in d["edges"]:
        attrs = {k: v for k, v in edge.items() if k not in ("source", "target")}
        g.add_edge(edge["source"], edge["target"], **attrs)
    return g

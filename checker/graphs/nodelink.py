"""Node-link JSON export: the form d3.js and ``networkx.node_link_graph`` read.

The JSON object has ``directed``, ``multigraph``, ``graph`` (the configuration),
``nodes`` (each with ``id`` and the state attributes) and ``edges`` (each with
``source``, ``target`` and the step attributes).
"""

from __future__ import annotations

import json

import networkx as nx


def nodelink_dict(g: nx.DiGraph) -> dict:
    """The graph as a node-link dictionary."""
    return nx.node_link_data(g, edges="edges")


def nodelink_text(g: nx.DiGraph) -> str:
    """The graph as node-link JSON text (deterministic)."""
    return json.dumps(nodelink_dict(g), indent=1) + "\n"


def nodelink_graph(d: dict) -> nx.DiGraph:
    """Inverse of ``nodelink_dict``."""
    return nx.node_link_graph(d, edges="edges")

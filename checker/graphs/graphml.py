"""GraphML export (opens in yEd, Gephi and Cytoscape), via networkx.

Every attribute of ``graph.trace_graph`` / ``statespace.state_graph`` is a
string, integer or boolean, so GraphML keeps its type and
``networkx.read_graphml`` gives back an equal graph (the tests check this);
node ids come back as strings unless ``node_type=int`` is passed.
"""

from __future__ import annotations

import networkx as nx


def graphml_text(g: nx.DiGraph) -> str:
    """The graph as a GraphML document (deterministic: same graph, same bytes)."""
    body = "\n".join(nx.generate_graphml(g, encoding="utf-8", prettyprint=True))
    return "<?xml version='1.0' encoding='utf-8'?>\n" + body + "\n"


def read_graphml(path: str) -> nx.DiGraph:
    """Read a GraphML file written by ``graphml_text`` back, with integer node ids.

    networkx adds empty ``node_default`` / ``edge_default`` graph attributes on
    reading; they are dropped so that the graph equals the one written.
    """
    g = nx.read_graphml(path, node_type=int)
    for key in ("node_default", "edge_default"):
        if g.graph.get(key) == {}:
            del g.graph[key]
    return g

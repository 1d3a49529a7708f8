"""GraphML export that strict readers accept (yEd, Gephi, Cytoscape, rustworkx, networkx).

networkx's own writer puts Python's ``True``/``False`` in boolean data and
types every integer ``long``; GraphML takes its types from Java, where the
only boolean literals are ``true``/``false`` and a ``long`` is a signed 64-bit
integer, so strict readers (rustworkx 0.18) refuse both a ``True`` and a
position above 2**63-1. This writer therefore types each attribute from all
of its values:

* booleans: ``boolean``, written ``true`` / ``false``;
* integers: ``long`` when every value fits in a signed 64-bit integer;
  otherwise (a u64 position beyond 2**63-1, as after ``--start
  0xffffffffffffffe0``) the attribute is a ``string`` of decimal digits and
  its key says so in its ``desc`` (``U64_DESC``), so that ``read_graphml``
  turns it back into an integer;
* floats: ``double``; strings: ``string``.

The output is deterministic (same graph, same bytes), and ``read_graphml``
gives back an equal graph (the tests check this, and load every export with
rustworkx as a second reader).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

NS = "http://graphml.graphdrawing.org/xmlns"
SCHEMA = "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"
U64_DESC = "integer beyond a signed 64-bit long, written as decimal digits"
"""The ``desc`` of a key whose integers do not fit GraphML's ``long`` and are written as strings."""

LONG_MIN, LONG_MAX = -(1 << 63), (1 << 63) - 1


def graphml_type(values: Iterable[Any]) -> tuple[str, bool]:
    """(GraphML attr.type, whether integers are written as decimal strings) for all values of one key."""
    kinds = {type(v) for v in values}
    if kinds <= {bool}:
        return "boolean", False
    if kinds <= {int}:
        big = any(not LONG_MIN <= v <= LONG_MAX for v in values)
        return ("string", True) if big else ("long", False)
    if kinds <= {int, float}:
        return "double", False
    if kinds <= {str}:
        return "string", False
    raise TypeError(f"GraphML export: attribute values of types {sorted(k.__name__ for k in kinds)}")


def graphml_value(v: Any) -> str:
    """The text of one data element (``true``/``false`` for booleans)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _keys(scopes: list[tuple[str, list[Mapping[str, Any]]]]) -> list[tuple[str, str, str, bool]]:
    """(scope, name, attr.type, as_string) per attribute, in first-seen order per scope."""
    out = []
    for scope, items in scopes:
        names: dict[str, list[Any]] = {}
        for data in items:
            for k, v in data.items():
                names.setdefault(str(k), []).append(v)
        out += [(scope, name, *graphml_type(vals)) for name, vals in names.items()]
    return out


def graphml_text(g: nx.DiGraph) -> str:
    """The graph as a GraphML document (deterministic: same graph, same bytes)."""
    ET.register_namespace("", NS)
    q = lambda tag: f"{{{NS}}}{tag}"  # noqa: E731 (a tag in the GraphML namespace)
    root = ET.Element(q("graphml"), {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                                  "xsi:schemaLocation": f"{NS} {SCHEMA}"})
    keys = _keys([("graph", [g.graph]), ("node", [d for _, d in g.nodes(data=True)]),
                  ("edge", [d for _, _, d in g.edges(data=True)])])
    ids = {}
    for i, (scope, name, typ, as_string) in enumerate(keys):
        ids[scope, name] = f"d{i}"
        key = ET.SubElement(root, q("key"), {"id": f"d{i}", "for": scope, "attr.name": name, "attr.type": typ})
        if as_string:
            ET.SubElement(key, q("desc")).text = U64_DESC
    graph = ET.SubElement(root, q("graph"), {"edgedefault": "directed" if g.is_directed() else "undirected"})

    def data(parent: ET.Element, scope: str, attrs: Mapping[str, Any]) -> None:
        for k, v in attrs.items():
            ET.SubElement(parent, q("data"), {"key": ids[scope, str(k)]}).text = graphml_value(v)

    data(graph, "graph", g.graph)
    for n, d in g.nodes(data=True):
        data(ET.SubElement(graph, q("node"), {"id": str(n)}), "node", d)
    for u, v, d in g.edges(data=True):
        data(ET.SubElement(graph, q("edge"), {"source": str(u), "target": str(v)}), "edge", d)
    ET.indent(root, "  ")
    return "<?xml version='1.0' encoding='utf-8'?>\n" + ET.tostring(root, encoding="unicode") + "\n"


def _string_integer_keys(path: str) -> set[tuple[str, str]]:
    """(scope, attr.name) of the keys ``graphml_text`` marked as integers written as strings."""
    out = set()
    for key in ET.parse(path).getroot().iter(f"{{{NS}}}key"):
        desc = key.find(f"{{{NS}}}desc")
        if desc is not None and desc.text == U64_DESC:
            out.add((key.get("for"), key.get("attr.name")))
    return out


def read_graphml(path: str) -> nx.DiGraph:
    """Read a GraphML file written by ``graphml_text`` back, with integer node ids.

    networkx adds empty ``node_default`` / ``edge_default`` graph attributes on
    reading; they are dropped so that the graph equals the one written. The
    integers written as strings (``U64_DESC``) become integers again.
    """
    g = nx.read_graphml(path, node_type=int)
    for key in ("node_default", "edge_default"):
        if g.graph.get(key) == {}:
            del g.graph[key]
    for scope, name in _string_integer_keys(path):
        items = {"graph": [g.graph], "node": [d for _, d in g.nodes(data=True)],
                 "edge": [d for _, _, d in g.edges(data=True)]}[scope]
        for d in items:
            if name in d:
                d[name] = int(d[name])
    return g

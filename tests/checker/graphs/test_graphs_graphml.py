"""GraphML that a strict second reader accepts: rustworkx loads every export with the same values.

rustworkx 0.18 refuses ``True``/``False`` as booleans and GraphML's ``long`` is
signed 64-bit, so these tests load our files with rustworkx (not networkx
alone) and include positions beyond 2**63-1 (a run started near the 64-bit
wrap), which ``graphml_text`` writes as decimal strings under a marked key.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
import rustworkx as rx
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.graphs.graph import trace_graph
from checker.graphs.graphml import graphml_text, read_graphml
from checker.graphs.statespace import state_graph
from model.config import Config

ROOT = Path(__file__).resolve().parents[3]
TINY = Config(ring_size=16, records=1, sizes=(8,))
NEAR_WRAP = (1 << 64) - 32
LONG_MAX = (1 << 63) - 1


def load_with_rustworkx(text: str, tmp_path: Path) -> rx.PyDiGraph:
    path = tmp_path / "g.graphml"
    path.write_text(text)
    (graph,) = rx.read_graphml(str(path))
    return graph


def expected(items: list[dict]) -> list[dict]:
    """What rustworkx gives for the attributes we wrote: an integer attribute with a value beyond a
    signed long comes as decimal strings (every value of it), an empty string (an empty data element)
    as None."""
    big = {k for d in items for k, v in d.items()
           if isinstance(v, int) and not isinstance(v, bool) and v > LONG_MAX}
    return [{k: None if v == "" else str(v) if k in big else v for k, v in d.items()} for d in items]


def assert_rustworkx_reads(g: nx.DiGraph, tmp_path: Path) -> rx.PyDiGraph:
    """rustworkx loads the export with the same nodes, edges and attribute values (and types)."""
    r = load_with_rustworkx(graphml_text(g), tmp_path)
    assert r.num_nodes() == g.number_of_nodes() and r.num_edges() == g.number_of_edges()
    by_id = {int(r[i]["id"]): i for i in r.node_indices()}
    nodes = list(g.nodes)
    for n, want in zip(nodes, expected([g.nodes[n] for n in nodes])):
        got = dict(r[by_id[n]])
        del got["id"]
        assert got == want, n
        assert all(type(got[k]) is type(v) for k, v in want.items()), n
    edges = list(g.edges)
    for (u, v), want in zip(edges, expected([g.edges[e] for e in edges])):
        assert r.get_edge_data(by_id[u], by_id[v]) == want
    assert r.attrs == expected([g.graph])[0]
    return r


def test_rustworkx_reads_a_trace_with_booleans(cve_41009, tmp_path):
    g = trace_graph(cve_41009)
    assert any(isinstance(v, bool) for _, d in g.nodes(data=True) for v in d.values())
    text = graphml_text(g)
    assert ">True<" not in text and ">False<" not in text and ">true<" in text
    assert_rustworkx_reads(g, tmp_path)


def test_positions_beyond_a_signed_long_are_strings_that_read_back_as_integers(tmp_path):
    g = state_graph(TINY, start=NEAR_WRAP)
    assert max(d["producer_pos"] for _, d in g.nodes(data=True)) > LONG_MAX
    text = graphml_text(g)
    assert 'attr.name="producer_pos" attr.type="string">' in text and "<desc>" in text
    r = assert_rustworkx_reads(g, tmp_path)
    assert isinstance(r.attrs["start"], str) and int(r.attrs["start"]) == NEAR_WRAP
    path = tmp_path / "back.graphml"
    path.write_text(text)
    assert nx.utils.graphs_equal(g, read_graphml(str(path)))
    assert read_graphml(str(path)).nodes[0]["producer_pos"] == NEAR_WRAP


def test_positions_that_fit_stay_long(tmp_path):
    g = state_graph(TINY)
    assert 'attr.name="producer_pos" attr.type="long"' in graphml_text(g)
    assert_rustworkx_reads(g, tmp_path)


@settings(max_examples=10, deadline=None)
@given(start=st.sampled_from([0, LONG_MAX - 15, LONG_MAX + 1, NEAR_WRAP]),
       cfg=st.sampled_from([TINY, Config(ring_size=16, records=1, sizes=(8,), consumer="adversarial")]))
def test_any_state_graph_loads_in_rustworkx(tmp_path_factory, start, cfg):
    assert_rustworkx_reads(state_graph(cfg, start=start - start % 8), tmp_path_factory.mktemp("g"))


@pytest.mark.parametrize("path", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "reports").rglob("*.graphml")))
def test_the_kept_reports_load_in_rustworkx(path):
    (graph,) = rx.read_graphml(str(ROOT / path))
    assert graph.num_nodes() > 0


GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
TYPES = {"boolean": lambda v: v in ("true", "false"),
         "int": lambda v: re.fullmatch(r"-?\d+", v) is not None and -(1 << 31) <= int(v) < 1 << 31,
         "long": lambda v: re.fullmatch(r"-?\d+", v) is not None and -(1 << 63) <= int(v) <= LONG_MAX,
         "float": lambda v: _is_float(v), "double": lambda v: _is_float(v), "string": lambda v: True}


def _is_float(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def assert_graphml_structure(text: str) -> None:
    """What the GraphML schema asks of our documents (checked by hand: the schema is not fetched): keys
    before the graph, each with a known scope and type, desc before default, node ids unique, edges between
    declared nodes, every data element naming a declared key of its scope, with a value of that key's type."""
    root = ET.fromstring(text.split("\n", 1)[1])
    assert root.tag == GRAPHML + "graphml"
    kids = [c.tag for c in root]
    assert kids == [GRAPHML + "key"] * (len(kids) - 1) + [GRAPHML + "graph"]
    keys = {}
    for key in root.findall(GRAPHML + "key"):
        assert key.get("for") in ("graph", "node", "edge", "all") and key.get("attr.type") in TYPES
        assert [c.tag for c in key] in ([], [GRAPHML + "desc"], [GRAPHML + "default"],
                                        [GRAPHML + "desc", GRAPHML + "default"])
        assert key.get("id") not in keys
        keys[key.get("id")] = key
    graph = root.find(GRAPHML + "graph")
    assert graph.get("edgedefault") in ("directed", "undirected")
    ids = [n.get("id") for n in graph.findall(GRAPHML + "node")]
    assert len(ids) == len(set(ids))
    for e in graph.findall(GRAPHML + "edge"):
        assert e.get("source") in ids and e.get("target") in ids
    for scope, elements in (("graph", [graph]), ("node", graph.findall(GRAPHML + "node")),
                            ("edge", graph.findall(GRAPHML + "edge"))):
        for el in elements:
            for d in el.findall(GRAPHML + "data"):
                key = keys[d.get("key")]
                assert key.get("for") in (scope, "all")
                assert TYPES[key.get("attr.type")](d.text or ""), (key.get("attr.name"), d.text)


def test_exports_follow_the_graphml_schema_rules(cve_41009):
    for g in (trace_graph(cve_41009), state_graph(TINY), state_graph(TINY, start=NEAR_WRAP)):
        assert_graphml_structure(graphml_text(g))

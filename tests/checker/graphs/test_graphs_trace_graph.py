"""The trace as a networkx graph, and its GraphML, node-link and DOT forms."""

from __future__ import annotations

import json

import networkx as nx
import pydot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.graphs.dot import dot_text
from checker.graphs.graph import trace_graph
from checker.graphs.graphml import graphml_text, read_graphml
from checker.graphs.nodelink import nodelink_graph, nodelink_text
from model.codec import state_from_dict
from model.steps import STEPS
from tests.checker.graphs.conftest import WALK_CONFIGS, random_walk


def test_one_node_per_state_one_edge_per_step(cve_41009):
    g = trace_graph(cve_41009)
    assert list(g.nodes) == list(range(len(cve_41009) + 1))
    assert list(g.edges) == [(i - 1, i) for i in range(1, len(cve_41009) + 1)]
    for i, s in enumerate(cve_41009.states):
        d = g.nodes[i]
        assert state_from_dict(json.loads(d["state"])) == s
        assert (d["consumer_pos"], d["producer_pos"], d["pending_pos"]) == (
            s.consumer_pos, s.producer_pos, s.pending_pos)
        assert d["p0_pc"] and "mem_0" in d and d["r0"].startswith("owner=p0 ")


def test_edges_name_the_kernel_function_and_the_changes(cve_41009):
    g = trace_graph(cve_41009)
    for i, st_ in enumerate(cve_41009.steps, 1):
        d = g.edges[i - 1, i]
        assert d["action"] == str(st_.action)
        assert d["actor"] == st_.action.actor
        assert d["function"] == STEPS[st_.action.step].function
        for var, before, after in cve_41009.changes(i):
            assert f"{var}: {before} -> {after}" in d["changed"]
    assert "producer_pos: 16 -> 40" in g.edges[9, 10]["changed"]


def test_only_the_last_state_is_marked_violating(cve_41009):
    g = trace_graph(cve_41009)
    bad = [n for n, d in g.nodes(data=True) if d["violating"]]
    assert bad == [len(cve_41009)]
    assert g.nodes[bad[0]]["property"] == "no_overlap"
    assert g.nodes[bad[0]]["reason"] == cve_41009.reason
    assert g.nodes[0]["initial"] and not g.nodes[1]["initial"]


def assert_same_graph(a: nx.DiGraph, b: nx.DiGraph) -> None:
    assert list(a.nodes) == list(b.nodes)
    assert list(a.edges) == list(b.edges)
    for n in a.nodes:
        assert a.nodes[n] == b.nodes[n], n
    for e in a.edges:
        assert a.edges[e] == b.edges[e], e
    assert a.graph == b.graph


def test_graphml_reads_back_into_an_equal_graph(cve_41009, tmp_path):
    g = trace_graph(cve_41009)
    path = tmp_path / "t.graphml"
    path.write_text(graphml_text(g))
    back = read_graphml(str(path))
    assert_same_graph(g, back)
    assert nx.utils.graphs_equal(g, back)


def test_graphml_is_deterministic(cve_41009):
    assert graphml_text(trace_graph(cve_41009)) == graphml_text(trace_graph(cve_41009))


def test_nodelink_reads_back_into_an_equal_graph(cve_3489):
    g = trace_graph(cve_3489)
    assert_same_graph(g, nodelink_graph(json.loads(nodelink_text(g))))


@settings(max_examples=15, deadline=None)
@given(cfg=st.sampled_from(WALK_CONFIGS), choices=st.lists(st.integers(0, 10_000), max_size=25))
def test_any_trace_survives_graphml(tmp_path_factory, cfg, choices):
    g = trace_graph(random_walk(cfg, choices))
    path = tmp_path_factory.mktemp("g") / "t.graphml"
    path.write_text(graphml_text(g))
    assert_same_graph(g, read_graphml(str(path)))


def test_dot_parses_with_pydot(cve_41009):
    text = dot_text(trace_graph(cve_41009))
    (graph,) = pydot.graph_from_dot_data(text)
    names = {n.get_name() for n in graph.get_nodes()}
    assert {str(i) for i in range(len(cve_41009) + 1)} <= names
    edges = [(e.get_source(), e.get_destination()) for e in graph.get_edges()]
    assert edges == [(str(i - 1), str(i)) for i in range(1, len(cve_41009) + 1)]
    labels = [e.get("label").strip('"') for e in graph.get_edges()]
    assert labels == [str(s.action) for s in cve_41009.steps]
    assert len(graph.get_subgraphs()) == len(cve_41009) + 1, "one rank=same group per BFS level"


def test_dot_colours_edges_by_step(cve_41009):
    (graph,) = pydot.graph_from_dot_data(dot_text(trace_graph(cve_41009)))
    colour = {}
    for e, st_ in zip(graph.get_edges(), cve_41009.steps):
        colour.setdefault(st_.action.step, set()).add(e.get("color"))
    assert all(len(c) == 1 for c in colour.values())
    assert len({next(iter(c)) for c in colour.values()}) == len(colour)


def test_dot_marks_the_violation_in_red(cve_41009):
    text = dot_text(trace_graph(cve_41009))
    last = [line for line in text.splitlines() if line.startswith(f"  {len(cve_41009)} [")][0]
    assert "VIOLATED no_overlap" in last and '#d62728' in last


@pytest.mark.parametrize("fixture", ["cve_41009", "cve_3489"])
def test_dot_escapes_survive(request, fixture):
    trace = request.getfixturevalue(fixture)
    (graph,) = pydot.graph_from_dot_data(dot_text(trace_graph(trace)))
    assert graph.get_name().strip('"') == "trace"


def test_nodelink_is_what_networkx_reads(cve_41009):
    g = trace_graph(cve_41009)
    back = nx.node_link_graph(json.loads(nodelink_text(g)), edges="edges")
    assert list(back.nodes) == list(g.nodes) and list(back.edges) == list(g.edges)
    assert all(back.nodes[n] == g.nodes[n] for n in g.nodes)
    assert all(back.edges[e] == g.edges[e] for e in g.edges)

"""The whole reachable state graph of a tiny configuration."""

from __future__ import annotations

import networkx as nx
import pydot
import pytest

from checker.graphs.dot import dot_text
from checker.graphs.statespace import StateGraphTooLarge, state_graph
from checker.run import check
from model.config import Config
from model.ringbuf import RingBufModel

TINY = Config(variant="v6.10", ring_size=16, records=1, sizes=(8,))
BROKEN = Config(variant="v5.8", consumer="adversarial", ring_size=16, records=1, sizes=(8, 16))


def test_levels_are_bfs_distances_and_states_match_the_checker():
    g = state_graph(TINY)
    dist = nx.single_source_shortest_path_length(g, 0)
    assert all(g.nodes[n]["level"] == dist[n] for n in g.nodes)
    assert [g.nodes[n]["level"] for n in g.nodes] == sorted(g.nodes[n]["level"] for n in g.nodes)
    v = check(TINY)
    assert v.kind == "holds"
    assert g.number_of_nodes() == v.stats.states


def test_initial_terminal_marked_and_every_edge_is_an_enabled_action():
    g = state_graph(TINY)
    m = RingBufModel(TINY)
    assert [n for n, d in g.nodes(data=True) if d["initial"]] == [0]
    terminal = [n for n, d in g.nodes(data=True) if d["terminal"]]
    assert terminal and all(g.out_degree(n) == 0 for n in terminal)
    import json
    from model.codec import state_from_dict
    state = {n: state_from_dict(json.loads(d["state"])) for n, d in g.nodes(data=True)}
    for u, v, d in g.edges(data=True):
        assert any(str(a) in d["action"].split(" | ") and s == state[v] for a, s in m.successors(state[u]))


def test_violating_states_are_marked_and_not_expanded():
    g = state_graph(BROKEN)
    bad = [n for n, d in g.nodes(data=True) if d["violating"]]
    assert bad
    for n in bad:
        assert g.nodes[n]["property"] and g.nodes[n]["reason"]
        assert g.out_degree(n) == 0


def test_size_guard_refuses_with_a_one_line_message_and_can_be_raised():
    n = state_graph(TINY).number_of_nodes()
    with pytest.raises(StateGraphTooLarge) as e:
        state_graph(TINY, max_states=n - 1)
    assert "\n" not in str(e.value) and "--max-states" in str(e.value)
    assert state_graph(TINY, max_states=n).number_of_nodes() == n


def test_dot_has_one_rank_per_level():
    g = state_graph(TINY)
    (graph,) = pydot.graph_from_dot_data(dot_text(g))
    levels = {d["level"] for _, d in g.nodes(data=True)}
    assert len(graph.get_subgraphs()) == len(levels)
    assert len(graph.get_edges()) == g.number_of_edges()


def test_weak_state_graph_tells_states_apart_by_their_memory():
    cfg = TINY.with_(memory="tso")
    g = state_graph(cfg, 5000)
    assert g.number_of_nodes() == check(cfg).stats.states
    seen = {}
    for _, d in g.nodes(data=True):
        key = (d["state"], d["memory"])
        assert key not in seen, "two nodes with the same state and memory"
        seen[key] = d
    same_ring = len({d["state"] for d in seen.values()})
    assert same_ring < len(seen), "some states differ only in their store buffers"
    assert any("=" in d["memory_text"] for d in seen.values()), "a buffered store is shown"
    assert pydot.graph_from_dot_data(dot_text(g))

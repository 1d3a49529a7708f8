"""A user ring trace as text, JSON, HTML and graphs (issue 15): the attack of reports/user/."""

import json

import pytest

from checker.graphs.export import render
from checker.graphs.report import user_attack_trace
from checker.graphs.statespace import state_graph
from checker.trace import Trace, TraceError
from model import Config


def test_the_attack_replays_and_the_kernel_refuses_it():
    t = user_attack_trace()
    t.replay()
    assert t.final.consumer_pos == 0 and t.final.busy == 0 and t.final.delivered == ()
    text = t.format()
    assert "ret=-7" in text and "app.user.store_word(slot=0,len=9)" in text


def test_the_trace_file_round_trips():
    t = user_attack_trace()
    back = Trace.from_dict(json.loads(json.dumps(t.to_dict())))
    assert back.states == t.states and back.config == t.config
    back.replay()


def test_the_page_shows_every_step_and_the_refusal():
    page = render(user_attack_trace(), "html")
    assert page.count('<section class=step id="step-') == len(user_attack_trace()) + 1
    assert "bpf_user_ringbuf_drain returned -7 (E2BIG): the kernel refused the sample" in page
    assert "docs/protocol.md#5-drain-read-header" in page


@pytest.mark.parametrize("fmt", ["svg", "itf"])
def test_kernel_ring_pictures_are_refused_in_one_line(fmt):
    with pytest.raises(TraceError, match=f"--format {fmt}"):
        render(user_attack_trace(), fmt)


def test_a_user_ring_state_graph_draws():
    g = state_graph(Config(map="user", records=1, sizes=(8,)))
    assert g.number_of_nodes() > 10 and all("busy" in d and "state" in d for _, d in g.nodes(data=True))
    assert render(user_attack_trace(), "dot").startswith("digraph")

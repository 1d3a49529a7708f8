"""Liveness under weak memory (issue 18 on top of issue 13): tso's flushes are fair, ra's loads eventually see.

The configuration is the v6.10 honest level consumer, S=32, one producer,
two records, sizes 8 and 16, with bounds the runs never hit (--buffer 8,
--history 6), so a "holds" is complete.
"""

from __future__ import annotations

import pytest

import model.producer
from checker.liveness import LassoError, validate_lasso
from checker.run import check
from checker.search import SearchError
from model import Config, RingBufModel
from model.shared import Direct
from specs import LIVENESS_ORDER, get_property

TSO = Config(memory="tso", buffer=8)
RA = Config(memory="ra", history=6)


@pytest.mark.parametrize("cfg", [TSO, RA], ids=["tso", "ra"])
def test_every_liveness_property_holds_complete(cfg):
    v = check(cfg, list(LIVENESS_ORDER))
    assert v.kind == "holds", v.headline()
    assert v.bound is None and v.stats.states > 1000
    if cfg.memory == "tso":
        assert "c.flush" in v.fairness["space_returns"] and "p0.flush" in v.fairness["no_starvation"]
    else:
        assert any("eventual visibility (ra)" in n for n in v.notes)


def _stale_loads(cfg, trace):
    m = RingBufModel(cfg)
    return [st.action for s, st in zip(trace.states[trace.loop:], trace.steps[trace.loop:])
            if any(e.kind == "load" and e.stale for e in m.effects(s, st.action) or [])]


def test_without_eventual_visibility_ra_has_a_spurious_stale_read_lasso():
    v = check(RA, ["consumer_progress"], visibility=False)
    assert v.kind == "violated" and v.trace.loop is not None
    stale = _stale_loads(RA, v.trace)
    assert stale and all(a.actor == "c" for a in stale), "the consumer keeps reading a stale message"
    assert any(k.startswith("read_") and val > 0 for a in stale for k, val in a.args)
    with pytest.raises(LassoError, match="never reads its newest message"):
        validate_lasso(RingBufModel(RA), v.trace, get_property("consumer_progress", liveness=True),
                       v.fairness["consumer_progress"], visibility=True)
    validate_lasso(RingBufModel(RA), v.trace, get_property("consumer_progress", liveness=True),
                   v.fairness["consumer_progress"], visibility=False)


class _KeepBusy:
    """A memory accessor whose header rmw writes back what it read: the commit never clears BUSY."""

    def __init__(self, mem):
        self.mem = mem

    def __getattr__(self, name):
        return getattr(self.mem, name)

    def rmw(self, var, update, slot=-1):
        return self.mem.rmw(var, (lambda w: w) if var == "header.len" else update, slot)


@pytest.mark.parametrize("cfg", [TSO, RA], ids=["tso", "ra"])
def test_a_commit_that_never_clears_busy_is_still_caught(monkeypatch, cfg):
    real = model.producer.commit_xchg

    def broken(c, s, p, rec, discard=False, flags=0, mem=None):
        return real(c, s, p, rec, discard, flags, mem=_KeepBusy(Direct(s) if mem is None else mem))

    monkeypatch.setattr(model.producer, "commit_xchg", broken)
    v = check(cfg, ["eventually_delivered"])
    assert v.kind == "violated" and "submitted record 0 is not delivered" in v.reason
    assert v.trace.loop is not None and len(v.trace) > v.trace.loop
    assert {st.action.actor for st in v.trace.steps[v.trace.loop:]} == {"c"}


def test_the_bounded_lasso_search_is_refused_under_weak_memory():
    with pytest.raises(SearchError, match="SCC engine"):
        check(TSO, ["eventually_delivered"], strategy="bmc")


def test_a_weak_lasso_exports_with_its_cycle_and_its_memory():
    from checker.graphs import load_itf, render
    from checker.graphs.html import trace_html
    from checker.trace import Trace

    trace = check(RA, ["consumer_progress"], visibility=False).trace
    back = load_itf(render(trace, "itf"))
    assert back.loop == trace.loop and back.states == trace.states
    back.replay()
    again = Trace.from_dict(trace.to_dict())
    assert again.loop == trace.loop and again.states == trace.states
    page = trace_html(trace)
    assert f'data-loop="{trace.loop}"' in page and "cycle starts here" in page
    assert "Memory (ra)" in page and 'class="read stale"' in page
    dot = render(trace, "dot")
    assert "back to the cycle start" in dot and "STALE" in dot

"""Eventual visibility: the fairness condition a release/acquire memory needs for liveness.

Under ``--memory ra`` there is no flush to be fair to: a store is a message
at once, but a plain or acquire load may read any message at or above its
actor's view, so an actor can read a stale message again and again. A cycle
in which the consumer keeps reading the BUSY header a producer has long since
overwritten is a run of the model, but not of any machine: stores become
visible to a load that keeps looking (C11's [intro.progress], the Linux
memory model's "stores propagate in finite time").

The condition, for an infinite run: for every actor ``A`` and location ``x``,
if ``A`` loads ``x`` infinitely often, then infinitely many of those loads read
the newest message of ``x`` (the message choice 0 of ``model.shared``: an
action argument ``read_x=c`` with ``c > 0`` names an older one). For a lasso
``stem . cycle^omega`` this is exactly: every (A, x) loaded somewhere in the
cycle has a load in the cycle that reads the newest message. It is a Streett
condition (stale loads of (A, x) "request", newest loads "respond"), checked
per strongly connected component: if some pair has stale-load edges in the
component and no newest-load edge, no good cycle can use those edges
infinitely often, so they are removed and the component split again
(``checker.liveness_scc.fair_component``). Finite state makes this exact:
every infinite run of the finite graph ends inside one component and uses
some set of its edges infinitely often.

It is stronger than "every message is eventually read or overtaken" (an
actor that always lags exactly one store behind a writer that writes on every
round satisfies that, not this); in the ring buffer's cycles the positions do
not move (a cycle returns to the same state), so a location written in a
cycle is rewritten with the values it had, and what the condition rules out
is an actor that never catches up with a store.
"""

from __future__ import annotations

from checker.liveness_graph import Graph
from model.ringbuf import RingBufModel
from model.state import State
from model.actions import Action


def needs_visibility(model: RingBufModel) -> bool:
    """Does this model's memory let a load read a stale message with no flush to be fair to (ra)?"""
    return model.config.memory == "ra"


def load_pairs(model: RingBufModel, s: State, action: Action) -> tuple[frozenset, frozenset]:
    """(pairs (actor, location) the step loads stale, pairs it loads the newest message of)."""
    stale, newest = set(), set()
    for e in model.effects(s, action) or []:
        if e.kind == "load":
            (stale if e.stale else newest).add((action.actor, e.loc))
        elif e.kind == "rmw":
            newest.add((action.actor, e.loc))
    return frozenset(stale), frozenset(newest)


class EdgeLoads:
    """``load_pairs`` of the graph's edges, computed on demand (only edges inside candidate components)."""

    def __init__(self, g: Graph) -> None:
        self.g = g
        self.cache: dict[int, tuple[frozenset, frozenset]] = {}

    def __call__(self, e: int) -> tuple[frozenset, frozenset]:
        got = self.cache.get(e)
        if got is None:
            g = self.g
            src = g.source_of(e)
            action, _ = g.edge_step(src, e)
            got = self.cache[e] = load_pairs(g.model, g.state(src), action)
        return got


def unseen(pairs: list[tuple[frozenset, frozenset]]) -> set:
    """The (actor, location) pairs loaded stale on these edges and never loaded newest on them."""
    stale: set = set()
    newest: set = set()
    for s, n in pairs:
        stale |= s
        newest |= n
    return stale - newest


def cycle_is_visible(model: RingBufModel, states: list[State], actions: list[Action]) -> set:
    """For a lasso's cycle (its states and steps), the pairs that break eventual visibility (empty: none)."""
    return unseen([load_pairs(model, s, a) for s, a in zip(states, actions)])

"""The liveness engine: fair lassos by SCC decomposition of the explored graph.

``check_liveness`` explores the reachable graph once (``liveness_graph``;
the product with a property's monitor where it has one), then for each
property in turn looks for a weakly fair cycle on which its obligation stays
pending (``liveness_scc``). A counterexample is a lasso (stem + cycle), turned
into a ``Trace`` with ``loop`` set and *replayed in the Python model before it
is returned*: the steps must replay, the last state must be the loop state,
the obligation must be pending in every cycle state and the cycle must be
weakly fair for every fair unit, re-derived from ``model.successors``. A lasso
that fails any of this is an internal error (``LassoError``), never printed.

A limit (states, depth, time) leaves part of the graph unexpanded. A fair
cycle among the expanded nodes is still a real counterexample (their edges and
enabled actions are exact); otherwise the verdict is "holds up to bound B",
never complete.

Reductions: the producer-symmetry reduction is refused (renaming producers
does not preserve which producer's fairness a cycle satisfies, and it is not
proved sound here); DFS and random simulation cannot find fair cycles and are
refused too (``checker.run``).
"""

from __future__ import annotations

import builtins
import dataclasses
import time
from dataclasses import dataclass, field

from checker.liveness_graph import Graph, explore
from checker.liveness_scc import fair_component, fair_cycle, stem
from checker.liveness_visibility import EdgeLoads, cycle_is_visible, needs_visibility
from checker.search import Search, SearchError
from checker.trace import Step, Trace, TraceError
from checker.verdict import BOUNDED, HOLDS, VIOLATED, Stats, Verdict
from model.config import Config
from model.ringbuf import RingBufModel
from model.steps import STEPS
from specs.liveness import FLUSH, LivenessProperty, actor_units, actors_of, fair_units, unit_matches

STRATEGY = "scc"


class LassoError(RuntimeError):
    """A lasso the engine built does not replay in the model: a bug in the engine, not a verdict."""


@dataclass
class LivenessVerdict(Verdict):
    """A verdict that also names, per property, the fair units it was checked under."""

    fairness: dict[str, list[str]] = field(default_factory=dict)

    def headline(self) -> str:
        """The verdict in words, with the weak-fairness assumptions."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for name, units in self.fairness.items():
            groups.setdefault(tuple(units), []).append(name)
        if len(groups) == 1:
            fair = "weak fairness of " + (", ".join(next(iter(groups))) or "nothing")
        else:
            fair = "weak fairness: " + "; ".join(f"{', '.join(names)}: {', '.join(units) or 'nothing'}"
                                                  for units, names in groups.items())
        return f"{super().headline()} [{fair}]"

    def to_dict(self) -> dict:
        """The ``--json`` object: as for safety, plus ``fairness``, ``notes`` and the trace's ``loop``."""
        d = super().to_dict()
        d["fairness"] = self.fairness
        d["notes"] = self.notes
        if self.trace is not None:
            d["loop"] = self.trace.loop
        return d

    @builtins.property
    def lasso(self) -> tuple[list[Step], list[Step]] | None:
        """(stem steps, cycle steps) of a counterexample."""
        if self.trace is None or self.trace.loop is None:
            return None
        return self.trace.steps[:self.trace.loop], self.trace.steps[self.trace.loop:]


# ---------------------------------------------------------------- fairness


def parse_fair(cfg: Config, names: list[str]) -> list[str]:
    """The fair units ``--fair`` names: actors, ``producers``, ``actor.step``, or ``none``."""
    actors = actors_of(cfg)
    units: list[str] = []
    for raw in names:
        name = raw.strip()
        if name in ("", "none"):
            continue
        if name == "producers":
            picked = [a for a in actors if a.startswith("p")]
        elif name in actors:
            picked = [name]
        elif "." in name and name.split(".", 1)[0] in actors and name.split(".", 1)[1] in (*STEPS, FLUSH):
            units.append(name)
            continue
        else:
            raise SearchError(f"fair: {name!r} is not an actor of this configuration ({', '.join(actors)}), "
                              "'producers', actor.step or 'none'")
        units += [u for a in picked for u in actor_units(cfg, a)]
    return list(dict.fromkeys(units))


def property_fairness(cfg: Config, props: list[LivenessProperty],
                      fair: list[str] | None) -> dict[str, list[str]]:
    """Per property, its fair units: its own assumptions, or the ``fair`` override for all of them."""
    override = None if fair is None else parse_fair(cfg, fair)
    return {p.name: list(override) if override is not None else fair_units(cfg, p.fair) for p in props}


def _mask(units: list[str], chosen: list[str]) -> int:
    return sum(1 << units.index(u) for u in chosen)


# ---------------------------------------------------------------- lassos


def _steps(g: Graph, edges: list[int]) -> list[Step]:
    return [Step(*g.edge_step(g.source_of(e), e)) for e in edges]


def lasso_trace(g: Graph, k: int, comp: list[int], fair: int, loads: EdgeLoads | None = None) -> Trace:
    """The lasso through component ``comp`` as a Trace with ``loop`` set (not yet replayed)."""
    entry, cycle = fair_cycle(g, comp, fair, loads)
    head = stem(g, entry)
    root = entry
    while g.parent[root] >= 0:
        root = g.parent[root]
    cfg = g.model.config
    steps = _steps(g, head) + _steps(g, cycle)
    why = g.props[k].pending(cfg, g.state(entry), g.monitor(entry, k))
    how = (f"the {len(cycle)}-step cycle from state {len(head)} repeats without discharging it" if cycle
           else f"the run stays in state {len(head)} forever (no weakly fair actor is enabled there)")
    return Trace(cfg, g.state(root), steps, g.props[k].name, f"{why}, forever: {how}", g.model.start,
                 loop=len(head))


def validate_lasso(model: RingBufModel, trace: Trace, prop: LivenessProperty, units: list[str],
                   visibility: bool = False) -> None:
    """Replay ``trace`` in the model and check it is a fair lasso keeping ``prop`` pending; LassoError if not."""
    cfg = model.config
    try:
        trace.replay()
    except TraceError as e:
        raise LassoError(f"liveness: the {prop.name} lasso does not replay: {e}") from None
    if trace.loop is None:
        raise LassoError(f"liveness: the {prop.name} counterexample has no loop")
    states = trace.states
    monitors = [prop.monitor_init(cfg, states[0]) if prop.monitor_init else None]
    for i, st in enumerate(trace.steps):
        step = prop.monitor_step
        monitors.append(step(cfg, states[i], st.action, st.state, monitors[-1]) if step else None)
    loop = trace.loop
    if monitors[loop] != monitors[-1]:
        raise LassoError(f"liveness: the {prop.name} lasso returns to state {loop} with another monitor value")
    for i in range(loop, len(states)):
        if prop.pending(cfg, states[i], monitors[i]) is None:
            raise LassoError(f"liveness: {prop.name} is not pending in state {i} of its own cycle")
    cycle_steps = trace.steps[loop:]
    cycle_states = states[loop:]
    for u in units:
        taken = any(unit_matches(u, st.action) for st in cycle_steps)
        disabled = any(not any(unit_matches(u, a) for a in model.actions(s)) for s in cycle_states)
        if not (taken or disabled):
            raise LassoError(f"liveness: the {prop.name} cycle is not weakly fair to {u} "
                             "(enabled throughout, never taken)")
    if visibility:
        bad = cycle_is_visible(model, cycle_states, [st.action for st in cycle_steps])
        if bad:
            actor, loc = sorted(bad)[0]
            raise LassoError(f"liveness: in the {prop.name} cycle {actor} loads {loc} and never reads its "
                             "newest message (not eventually visible)")


# ---------------------------------------------------------------- the engine


def liveness_verdict(search: Search, kind: str, stats: Stats, strategy: str, fairness: dict[str, list[str]],
                     notes: list[str], bound: str | None = None, lasso: Trace | None = None) -> LivenessVerdict:
    """The verdict, built through ``Search.verdict`` so whatever it adds (a model's own bounds) applies."""
    path = None if lasso is None else [(st.action, st.state) for st in lasso.steps]
    base = search.verdict(kind, stats, strategy, prop=lasso and lasso.property, reason=lasso and lasso.reason,
                          bound=bound, path=path, initial=lasso and lasso.initial)
    if base.trace is not None and lasso is not None:
        base.trace.loop = lasso.loop
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(Verdict)}
    return LivenessVerdict(**{**fields, "notes": notes}, fairness=fairness)


def vacuity_notes(cfg: Config, props: list[LivenessProperty]) -> tuple[list[LivenessProperty], list[str]]:
    """(the properties judged in ``cfg``, a note for each of the others)."""
    notes = [f"{p.name} holds vacuously: {p.not_judged(cfg)}" for p in props if p.not_judged(cfg)]
    return [p for p in props if not p.not_judged(cfg)], notes


def check_liveness(search: Search, props: list[LivenessProperty],
                   fair: list[str] | None = None, visibility: bool = True) -> LivenessVerdict:
    """Check ``props`` on ``search.model`` under weak fairness (each property's own, or ``fair`` for all).

    Under ``--memory ra`` fair runs are also eventually visible (``checker.liveness_visibility``);
    ``visibility=False`` drops that condition (to show it is needed: a stale-read cycle is then a lasso).
    """
    if search.symmetry:
        raise SearchError("symmetry: the producer-symmetry reduction is not shown sound for liveness under "
                          "per-producer fairness; run without --symmetry")
    model = search.model
    cfg = model.config
    fairness = property_fairness(cfg, props, fair)
    units = list(dict.fromkeys(actors_of(cfg) + [u for us in fairness.values() for u in us]))
    stats = Stats()
    t0 = time.perf_counter()
    judged, notes = vacuity_notes(cfg, props)
    visible = visibility and needs_visibility(model)
    if visible:
        notes.append("eventual visibility (ra): a fair run's actor that loads a location infinitely often "
                     "reads its newest message infinitely often")
    elif needs_visibility(model):
        notes.append("eventual visibility NOT assumed: a cycle may keep reading a stale message")
    g = explore(search, judged, units, stats)
    loads = EdgeLoads(g) if visible else None
    if g.monitored:
        distinct = len({node[0] for node in g.nodes})
        notes.append(f"states counts nodes of the product with the monitor of "
                     f"{', '.join(judged[k].name for k in g.monitored)}: {distinct} distinct model states")
    def verdict(kind: str, bound: str | None = None, lasso: Trace | None = None) -> LivenessVerdict:
        stats.seconds = time.perf_counter() - t0
        return liveness_verdict(search, kind, stats, STRATEGY, fairness, notes, bound, lasso)

    found: Trace | None = None
    for k, p in enumerate(judged):
        comp = fair_component(g, k, _mask(units, fairness[p.name]), loads)
        if comp is None:
            continue
        if found is not None:
            notes.append(f"{p.name} is violated too (run it alone for its lasso)")
            continue
        found = lasso_trace(g, k, comp, _mask(units, fairness[p.name]), loads)
        validate_lasso(model, found, p, fairness[p.name], visible)
    if found is not None:
        return verdict(VIOLATED, lasso=found)
    if g.bound is not None:
        return verdict(BOUNDED, bound=g.bound)
    return verdict(HOLDS)

"""k-bounded lasso search with z3: the shortest fair lasso of at most K steps, or "holds up to bound".

The unrolling of ``checker.smt.bmc`` (states s0..sk from the initial state,
one symbolic action per step) is asked, for k = 0, 1, ..., K, whether some
loop index l <= k closes a lasso ending at sk:

* ``l < k``: sk equals sl (every field, and the monitor bit where the
  property has one), so steps l+1..k repeat forever; ``l = k``: the run
  stutters in sk;
* the obligation's SMT twin (``specs.liveness``) holds in every state sl..sk;
* weak fairness: every fair unit takes one of the steps l+1..k or is disabled
  in one of sl..sk (``unit_enabled`` below, the SMT twin of "some action of
  this actor is enabled").

The first k that answers sat gives a lasso of fewest steps overall (the
explicit engine gives the shortest stem instead). It is decoded, then
replayed and checked in the Python model by ``checker.liveness.validate_lasso``
exactly like the explicit engine's lassos. Unsat up to K is "holds up to bound
depth=K", never complete: lassos longer than K are not looked for.
"""

from __future__ import annotations

import time

import z3

from checker.liveness import (LassoError, LivenessVerdict, liveness_verdict, property_fairness, vacuity_notes,
                               validate_lasso)
from checker.search import Search, SearchError
from checker.verdict import BOUNDED, VIOLATED, Stats
from checker.smt import require_encoded
from checker.smt.bmc import decode_trace
from checker.smt.producer import lock_fails_when_held
from checker.smt.codec import encode_state
from checker.smt.transition import Kind, SymAction, action_kinds, unroll_step
from checker.trace import Trace
from model.actions import Action
from model.config import Config
from model.ringbuf import build_model
from model.state import (C_DELIVER, C_LOAD_CONS, C_LOAD_PROD, C_READ_HDR, C_STORE, C_WAIT, P_CLAIM,
                         P_IDLE, P_LOAD_CONS, P_LOCK, P_SCAN, P_WAKEUP, P_WRITE)
from specs import smt as Z
from specs.liveness import LivenessProperty, unit_matches

STRATEGY = "bmc"

_BUSY_PCS = (P_LOAD_CONS, P_SCAN, P_CLAIM, P_WRITE, P_WAKEUP)
_AWAKE = (C_LOAD_CONS, C_LOAD_PROD, C_READ_HDR, C_DELIVER, C_STORE, C_WAIT)


def actor_enabled(cfg: Config, s: Z.SymState, actor: str) -> z3.BoolRef:
    """Some action of ``actor`` is enabled in ``s`` (the guards of ``checker.smt.transition``, arguments
    chosen: any size of ``cfg.sizes`` will do, any held record)."""
    if actor.startswith("p"):
        pr = s.producers[int(actor[1:])]
        starts = z3.And(z3.ULT(pr.attempts, cfg.records), z3.ULT(pr.held_n, cfg.hold))
        commits = z3.UGT(pr.held_n, 0)
        lock = z3.And(pr.pc == P_LOCK, z3.Or(s.lock == -1, lock_fails_when_held(cfg, pr)))
        return z3.Or(z3.And(pr.pc == P_IDLE, z3.Or(starts, commits)), lock, *[pr.pc == pc for pc in _BUSY_PCS])
    if actor == "c":
        return z3.Or([s.consumer.pc == pc for pc in _AWAKE])
    if actor == "irq":
        return s.irq_pending
    return z3.BoolVal(True)


def unit_enabled(cfg: Config, s: Z.SymState, unit: str) -> z3.BoolRef:
    """Fair unit ``unit`` (an actor, or ``actor.step``) has an action enabled in ``s``."""
    if "." not in unit:
        return actor_enabled(cfg, s, unit)
    actor, step = unit.split(".", 1)
    if step == "flush":
        return z3.BoolVal(False)
    raise SearchError(f"fair: {unit!r}: the lasso search encodes fairness of whole actors only")


def _took(kinds: list[Kind], a: SymAction, unit: str) -> z3.BoolRef:
    idx = [i for i, k in enumerate(kinds) if unit_matches(unit, Action(k.actor, k.step))]
    return z3.Or([a.kind == i for i in idx]) if idx else z3.BoolVal(False)


def lasso_bmc(cfg: Config, prop: LivenessProperty, depth: int, units: list[str],
              start: int = 0) -> tuple[Trace | None, int, float]:
    """(a lasso of fewest steps <= ``depth``, replayed, or None; the depth reached; seconds)."""
    t0 = time.perf_counter()
    require_encoded(cfg, "strategy bmc (the lasso search)")
    for u in units:
        unit_enabled(cfg, Z.fresh_state(cfg, "probe", 1), u)  # refuse an unencoded unit before any work
    ring = Z.Ring.of(cfg)
    kinds = action_kinds(cfg)
    model = build_model(cfg, start)
    cap = max(depth, 1)
    s0 = model.initial_states()[0]
    states = [encode_state(cfg, s0, cap)]
    owed = [z3.BoolVal(bool(prop.monitor_init(cfg, s0))) if prop.monitor_init else z3.BoolVal(False)]
    actions: list[SymAction] = []
    pending = [prop.pending_smt(cfg, ring, states[0], owed[0])]
    enabled = [{u: unit_enabled(cfg, states[0], u) for u in units}]
    solver = z3.SolverFor("QF_BV")
    for k in range(depth + 1):
        if k > 0:
            a = SymAction.fresh(f"a{k}")
            step, s = unroll_step(cfg, ring, states[-1], a, f"s{k}", cap, kinds)
            solver.add(step)
            if prop.monitor_smt:
                took = (lambda a: lambda actor, name: _took(kinds, a, f"{actor}.{name}"))(a)
                nxt = z3.Bool(f"owed{k}")
                solver.add(nxt == prop.monitor_smt(cfg, ring, states[-1], took, s, owed[-1]))
                owed.append(nxt)
            else:
                owed.append(z3.BoolVal(False))
            actions.append(a)
            states.append(s)
            pending.append(prop.pending_smt(cfg, ring, s, owed[-1]))
            enabled.append({u: unit_enabled(cfg, s, u) for u in units})
        closes = []
        for loop in range(k + 1):
            same = (z3.BoolVal(True) if loop == k else
                    z3.And(Z.state_eq(ring, states[loop], states[k]), owed[loop] == owed[k]))
            fair = [z3.Or([_took(kinds, actions[i - 1], u) for i in range(loop + 1, k + 1)] +
                          [z3.Not(enabled[i][u]) for i in range(loop, k + 1)]) for u in units]
            closes.append(z3.And([same] + pending[loop:k + 1] + fair))
        solver.push()
        solver.add(z3.Or(closes))
        res = solver.check()
        if res == z3.sat:
            m = solver.model()
            loop = next(i for i, c in enumerate(closes) if z3.is_true(m.eval(c, model_completion=True)))
            trace = decode_trace(cfg, m, states, actions, kinds, start)
            trace.loop = loop
            trace.property = prop.name
            why = prop.pending(cfg, trace.states[loop], _explicit_owed(cfg, prop, trace, loop))
            how = (f"the {k - loop}-step cycle from state {loop} repeats without discharging it" if loop < k
                   else f"the run stays in state {loop} forever (no weakly fair actor is enabled there)")
            trace.reason = f"{why}, forever: {how}"
            validate_lasso(model, trace, prop, units)
            return trace, k, time.perf_counter() - t0
        if res != z3.unsat:
            raise LassoError(f"liveness bmc: z3 answered {res} at depth {k} ({solver.reason_unknown()})")
        solver.pop()
    return None, depth, time.perf_counter() - t0


def _explicit_owed(cfg: Config, prop: LivenessProperty, trace: Trace, upto: int) -> object:
    """The explicit monitor's value at state ``upto`` of ``trace``."""
    if not prop.monitor_init:
        return None
    owed = prop.monitor_init(cfg, trace.initial)
    for i in range(upto):
        owed = prop.monitor_step(cfg, trace.states[i], trace.steps[i].action, trace.states[i + 1], owed)
    return owed


def check_liveness_bmc(search: Search, props: list[LivenessProperty],
                       fair: list[str] | None = None) -> LivenessVerdict:
    """Search each property's lassos of at most ``search.limits.max_depth`` steps; never complete."""
    limits = search.limits
    if limits.max_depth is None:
        raise SearchError("strategy: the lasso search (--strategy bmc) needs --max-depth K, the longest lasso")
    if limits.max_states is not None or limits.timeout is not None:
        raise SearchError("strategy: the lasso search is bounded by --max-depth only")
    if search.symmetry:
        raise SearchError("symmetry: the lasso search does not reduce by symmetry; run without --symmetry")
    cfg = search.model.config
    fairness = property_fairness(cfg, props, fair)
    judged, notes = vacuity_notes(cfg, props)
    stats = Stats()
    for p in judged:
        trace, k, seconds = lasso_bmc(cfg, p, limits.max_depth, fairness[p.name], search.model.start)
        stats.seconds += seconds
        stats.depth = max(stats.depth, k)
        if trace is not None:
            return liveness_verdict(search, VIOLATED, stats, STRATEGY, fairness, notes, lasso=trace)
    notes.append("no lasso of at most the bound's steps; longer ones were not looked for")
    return liveness_verdict(search, BOUNDED, stats, STRATEGY, fairness, notes, bound=f"depth={limits.max_depth}")

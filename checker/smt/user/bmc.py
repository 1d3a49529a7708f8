"""Bounded model checking of the user ring: unroll its transition relation and ask z3 for a violation.

As ``checker.smt.bmc`` for the kernel ring: the unrolling starts from the
explicit model's initial state (as constants), adds one symbolic action and
state per step, and asks at each depth whether the property can fail there,
so the first satisfiable depth gives a shortest counterexample. The z3 model
is decoded into a ``checker.trace.Trace`` and replayed in ``UserRingModel``
with the same per-sample checks (``checks``: a test deletes one on both
sides); a trace that does not replay, or whose last state the Python
predicate accepts, raises ``checker.smt.bmc.ReplayMismatch``.
"""

from __future__ import annotations

import time

import z3

from checker import interrupt
from checker.smt import budget
from checker.smt.bmc import NO_LIMIT_S, BmcResult, ReplayMismatch
from checker.smt.codec import Evaluator
from checker.smt.user.codec import decode_user_state, encode_user_state
from checker.smt.user.transition import ARG_NAMES, SymAction, action_kinds, decode_action, is_terminal, unroll_step
from checker.trace import Step, Trace
from checker.verdict import BOUNDED, INTERRUPTED, VIOLATED, Stats, Verdict, peak_mb
from model.config import Config
from model.userring.drain import PEEK_CHECKS, Check
from model.userring.model import UserRingModel
from specs import get_property
from specs.smt import Ring


def bmc_user(cfg: Config, prop: str, depth: int, start: int = 0, checks: tuple[Check, ...] = PEEK_CHECKS,
             progress=None, max_seconds: float | None = None) -> BmcResult:
    """Search for a violation of ``prop`` within ``depth`` steps of the user ring model (module docstring).

    ``max_seconds`` bounds the search (then the verdict holds up to the last depth answered, and says
    so); Ctrl-C or SIGTERM gives ``interrupted`` with the depths answered so far.
    """
    if depth < 0:
        raise ValueError("depth must be >= 0")
    budget.check_seconds("max-seconds", max_seconds)
    p = get_property(prop)
    if not p.applies(cfg) or p.smt is None:
        raise ValueError(f"bmc: {prop} is not a property of the user ring buffer with an SMT encoding")
    t0 = time.perf_counter()
    per_depth: list[float] = []

    def cut_short(kind: str, bound: str, reason: str | None = None) -> BmcResult:
        done = len(per_depth) - 1
        stats = Stats(0, max(done, 0), max(done, 0), time.perf_counter() - t0, peak_mb())
        answered = f"depths 0..{done} answered" if done >= 0 else "no depth answered"
        return BmcResult(Verdict(kind, cfg, stats, [prop], reason=reason, bound=f"{bound} ({answered})",
                                 strategy="bmc"), per_depth)

    try:
        with budget.run_limit(max_seconds):
            return _unroll(cfg, p, depth, start, checks, progress, t0, per_depth)
    except budget.OutOfTime as stop:
        return cut_short(BOUNDED, stop.bound)
    except interrupt.Interrupted as stop:
        return cut_short(INTERRUPTED, f"interrupted by {stop.signal_name}", stop.signal_name)


def _unroll(cfg: Config, p, depth: int, start: int, checks: tuple[Check, ...], progress, t0: float,
            per_depth: list[float]) -> BmcResult:
    ring = Ring.of(cfg)
    kinds = action_kinds(cfg)
    model = UserRingModel(cfg, start, checks)
    cap = max(depth, 1)
    states = [encode_user_state(cfg, model.initial_states()[0], cap)]
    actions: list[SymAction] = []
    solver = z3.SolverFor("QF_BV")
    for k in range(depth + 1):
        tk = time.perf_counter()
        if k > 0:
            a = SymAction.fresh(f"a{k}")
            step, s = unroll_step(cfg, ring, states[-1], a, f"s{k}", cap, kinds, checks=checks)
            solver.add(step)
            actions.append(a)
            states.append(s)
        solver.push()
        solver.add(z3.Not(p.smt(cfg, ring, states[-1], is_terminal(cfg, states[-1]))))
        solver.set("timeout", budget.ms(budget.left(NO_LIMIT_S)))
        res = solver.check()
        if res == z3.unknown:
            interrupt.raise_if_requested()
            budget.check_run(slack=0.1)
        per_depth.append(time.perf_counter() - tk)
        if progress:
            progress(k, res, per_depth[-1])
        if res == z3.sat:
            trace = decode_user_trace(cfg, solver.model(), states, actions, kinds, start)
            trace.property = p.name
            trace.reason = replay_user_or_raise(trace, model, p.name)
            stats = Stats(0, k, k, time.perf_counter() - t0, peak_mb())
            return BmcResult(Verdict(VIOLATED, cfg, stats, [p.name], p.name, trace.reason, trace=trace,
                                     strategy="bmc"), per_depth)
        if res != z3.unsat:
            raise RuntimeError(f"z3 answered {res} at depth {k} ({solver.reason_unknown()})")
        solver.pop()
    stats = Stats(0, depth, depth, time.perf_counter() - t0, peak_mb())
    return BmcResult(Verdict(BOUNDED, cfg, stats, [p.name], bound=f"depth={depth}", strategy="bmc"), per_depth)


def decode_user_trace(cfg: Config, m: z3.ModelRef, states, actions: list[SymAction], kinds, start: int) -> Trace:
    """The explicit trace a z3 model of the unrolling denotes."""
    ev = Evaluator(m)
    trace = Trace(cfg, decode_user_state(cfg, ev, states[0]), start=start)
    for a, s in zip(actions, states[1:]):
        kind = kinds[ev.u(a.kind)]
        action = decode_action(kind, {n: ev.u(a.args[n]) for n in ARG_NAMES})
        trace.steps.append(Step(action, decode_user_state(cfg, ev, s)))
    return trace


def replay_user_or_raise(trace: Trace, model: UserRingModel, prop: str) -> str:
    """Replay ``trace`` in ``model`` step by step; the Python predicate's reason in its last state.

    ReplayMismatch names the first step z3 took that the explicit model does not offer or leads elsewhere
    from, or says that the predicate holds where z3 says it fails.
    """
    s = trace.initial
    if s not in model.initial_states():
        raise ReplayMismatch("bmc: the z3 initial state is not the user ring model's initial state")
    for i, st in enumerate(trace.steps, 1):
        nxt = model.apply(s, st.action)
        if nxt is None:
            enabled = (", ".join(map(str, model.actions(s))) or "none") if model.config.slots <= 4096 else \
                "not listed at this ring size"
            raise ReplayMismatch(f"bmc: step {i}: z3 took {st.action}, which the explicit model does not "
                                 f"offer (enabled: {enabled[:300]})")
        if nxt != st.state:
            want, got = nxt._asdict(), st.state._asdict()
            diff = [f"{k}: model {want[k]} / z3 {got[k]}" for k in want if want[k] != got[k]]
            raise ReplayMismatch(f"bmc: step {i} ({st.action}) differs: " + "; ".join(diff[:6]))
        s = nxt
    cfg = model.config
    reason = get_property(prop).check(cfg, s, model.is_terminal(s))
    if reason is None:
        raise ReplayMismatch(f"bmc: z3 says {prop} fails after {len(trace)} steps, "
                             "but the Python predicate holds in that state")
    return reason

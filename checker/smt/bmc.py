"""Bounded model checking: unroll the transition relation k steps and ask z3 for a violation.

The unrolling starts from the explicit model's initial state (as constants),
adds one fresh symbolic action and state per step, and after each step asks
whether the property can fail there; the first depth that is satisfiable
gives the shortest counterexample. The z3 model is decoded into a
``checker.trace.Trace`` (actions and states) and replayed in the explicit
model. A trace that does not replay, or whose last state the Python
predicate accepts, means the two encodings disagree: that raises
``ReplayMismatch`` with the first differing step, never a quiet verdict.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import z3

from checker import interrupt
from checker.smt import budget, require_encoded
from checker.smt.codec import Evaluator, decode_state, encode_state
from checker.smt.transition import ARG_NAMES, SymAction, action_kinds, decode_action, unroll_step
from checker.trace import Step, Trace
from checker.verdict import BOUNDED, INTERRUPTED, VIOLATED, Stats, Verdict, peak_mb
from model.codec import state_view
from model.config import Config
from model.ringbuf import build_model
from specs import get_property
from specs.smt import Ring, is_terminal


NO_LIMIT_S = 7 * 86400.0
"""A query's z3 timeout when no run limit is given (z3 reads 0 as none; this keeps one number for both)."""


class ReplayMismatch(RuntimeError):
    """A z3 counterexample that the explicit model does not reproduce (a bug in one of the encodings)."""


@dataclass
class BmcResult:
    """The verdict plus what the solver did at each depth."""

    verdict: Verdict
    depth_seconds: list[float]


def bmc(cfg: Config, prop: str, depth: int, start: int = 0, progress=None, from_depth: int = 0,
        max_seconds: float | None = None) -> BmcResult:
    """Search for a violation of ``prop`` within ``depth`` steps from the initial state.

    The property is asked at every depth from ``from_depth`` on (0: all, so the
    trace found is a shortest one; a larger value only skips solver calls).
    ``max_seconds`` bounds the whole search: when it passes, the verdict holds
    up to the last depth answered, and says so. On Ctrl-C or SIGTERM
    (``checker.interrupt``) the verdict is ``interrupted``, with the depths
    answered so far.
    """
    if depth < 0 or from_depth < 0:
        raise ValueError("depth must be >= 0")
    require_encoded(cfg, "bmc")
    budget.check_seconds("max-seconds", max_seconds)
    p = get_property(prop)
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
            return _unroll(cfg, p, depth, start, progress, from_depth, t0, per_depth)
    except budget.OutOfTime as stop:
        return cut_short(BOUNDED, stop.bound)
    except interrupt.Interrupted as stop:
        return cut_short(INTERRUPTED, f"interrupted by {stop.signal_name}", stop.signal_name)


def _unroll(cfg: Config, p, depth: int, start: int, progress, from_depth: int, t0: float,
            per_depth: list[float]) -> BmcResult:
    """``bmc``'s search; ``per_depth`` gets each depth's seconds as it is answered."""
    prop = p.name
    ring = Ring.of(cfg)
    kinds = action_kinds(cfg)
    model = build_model(cfg, start)
    cap = max(depth, 1)
    states = [encode_state(cfg, model.initial_states()[0], cap)]
    actions: list[SymAction] = []
    solver = z3.SolverFor("QF_BV")
    for k in range(depth + 1):
        tk = time.perf_counter()
        if k > 0:
            a = SymAction.fresh(f"a{k}")
            step, s = unroll_step(cfg, ring, states[-1], a, f"s{k}", cap, kinds)
            solver.add(step)
            actions.append(a)
            states.append(s)
        if k < from_depth:
            per_depth.append(time.perf_counter() - tk)
            continue
        solver.push()
        solver.add(z3.Not(p.smt(cfg, ring, states[-1], is_terminal(cfg, states[-1]))))
        solver.set("timeout", budget.ms(budget.left(NO_LIMIT_S)))
        res = solver.check()
        if res == z3.unknown:
            interrupt.raise_if_requested()  # canceled by a signal whose handler could not raise yet
            budget.check_run(slack=0.1)  # an unknown because the run's time is up is a bound, not an error
        per_depth.append(time.perf_counter() - tk)
        if progress:
            progress(k, res, per_depth[-1])
        if res == z3.sat:
            trace = decode_trace(cfg, solver.model(), states, actions, kinds, start)
            trace.property = prop
            trace.reason = _explicit_reason(cfg, trace, prop)
            replay_or_raise(trace)
            stats = Stats(0, k, k, time.perf_counter() - t0, peak_mb())
            return BmcResult(Verdict(VIOLATED, cfg, stats, [prop], prop, trace.reason, trace=trace,
                                     strategy="bmc"), per_depth)
        if res != z3.unsat:
            raise RuntimeError(f"z3 answered {res} at depth {k} ({solver.reason_unknown()})")
        solver.pop()
    stats = Stats(0, depth, depth, time.perf_counter() - t0, peak_mb())
    return BmcResult(Verdict(BOUNDED, cfg, stats, [prop], bound=f"depth={depth}", strategy="bmc"), per_depth)


def decode_trace(cfg: Config, m: z3.ModelRef, states, actions: list[SymAction], kinds, start: int) -> Trace:
    """The explicit trace a z3 model of the unrolling denotes."""
    ev = Evaluator(m)
    trace = Trace(cfg, decode_state(cfg, ev, states[0]), start=start)
    for a, s in zip(actions, states[1:]):
        kind = kinds[ev.u(a.kind)]
        action = decode_action(kind, {n: ev.u(a.args[n]) for n in ARG_NAMES})
        trace.steps.append(Step(action, decode_state(cfg, ev, s)))
    return trace


def _explicit_reason(cfg: Config, trace: Trace, prop: str) -> str:
    model = trace.model()
    final = trace.final
    reason = get_property(prop).check(cfg, final, model.is_terminal(final))
    if reason is None:
        raise ReplayMismatch(f"bmc: z3 says {prop} fails after {len(trace)} steps, "
                             f"but the Python predicate holds in that state")
    return reason


def replay_or_raise(trace: Trace) -> None:
    """Replay in the explicit model; on a mismatch name the step, the action and the differing variables."""
    model = trace.model()
    s = trace.initial
    if s not in model.initial_states():
        raise ReplayMismatch("bmc: the z3 initial state is not the model's initial state")
    for i, st in enumerate(trace.steps, 1):
        nxt = model.apply(s, st.action)
        if nxt is None:
            enabled = ", ".join(map(str, model.actions(s))) or "none"
            raise ReplayMismatch(f"bmc: step {i}: z3 took {st.action}, which the explicit model does not "
                                 f"offer (enabled: {enabled})")
        if nxt != st.state:
            want, got = state_view(nxt), state_view(st.state)
            diff = [f"{k}: model {want.get(k)} / z3 {got.get(k)}" for k in sorted(set(want) | set(got))
                    if want.get(k) != got.get(k)]
            raise ReplayMismatch(f"bmc: step {i} ({st.action}) differs: " + "; ".join(diff[:6]))
        s = nxt
    trace.replay()

"""k-induction over the widened system of ``checker.smt.prove``, optionally strengthened by its named invariants.

The system is the one ``prove`` reasons about (symbolic S = 2**k, one
symbolic u64 start, free payload sizes, the widened adversary), so the
assumptions it states are the same, plus the K and what the proof was
strengthened with. The goals are the properties and, when strengthened, the
auxiliary invariants of ``checker.smt.invariants``: they are proved *together*
(a goal assumed in the step case must itself be proved, or the assumption
would be unfounded). Obligations, each one z3 call (unsat = discharged):

* base case: every goal holds in every state reachable in 0 .. K-1 steps;
* step case: for K consecutive states s0 .. s(K-1) linked by the transition
  relation, s0 arbitrary (every field a fresh constant, the data area an
  unconstrained array), every goal holding on all of them, and (simple path)
  the states s0 .. sK pairwise distinct, each goal holds in sK. The last step
  is split per action kind and record, as ``prove`` splits consecution.

The simple-path constraint compares *every* field, the data area included
(at a witness index below S/8): a shortest path to a violation visits no
state twice, so excluding only repeated full states loses no counterexample.
Comparing some fields only would exclude paths whose states differ in the
others, which is not sound. It adds no strength for an unbounded adversary
(it can always write a fresh value), so it is there for completeness only.

Goals whose obligations fail are dropped and the step case is run again
without them (a smaller set of goals assumes less), until the remaining ones
are all discharged: the properties among them hold, a property whose base
case failed gets a counterexample search replayed in the explicit model
(``prove.find_counterexample``), any other is "unknown", never "holds".
"""

from __future__ import annotations

import time
from typing import Callable

import z3

from checker import interrupt
from checker.smt import budget
from checker.smt.invariants import CONSUMER_ALIGNED, Invariant, memory_safety_invariants
from checker.smt.prove import Obligation, ProofResult, assumptions_for, find_counterexample, initial_symbolic
from checker.smt.prove import _cases as prove_cases
from checker.smt.prove import _consecution as consecution
from checker.smt.prove import _Query as Query
from checker.smt.prove import _solver as prove_solver
from checker.smt.quantifiers import has_quantifier
from checker.smt.transition import ARG_NAMES, Choices, SymAction, action_kinds, guard, step_term, unroll_step
from model.config import Config
from specs import get_property
from specs.smt import Ring, Slots, SymState, fresh_state, is_terminal

QUANTIFIED = frozenset({"window_payloads", "committed_only"})
"""Goals whose formula has a quantifier: in the base case their queries go to z3's general solver (the step case
uses ``prove``'s query strategy, which Skolemises and instantiates instead)."""


def k_induction(props: list[str], cfg: Config, k: int, max_log2: int = 32,
                strengthen: bool | list[Invariant] = False, simple_path: bool = True,
                progress: Callable[[str], None] | None = None, cex_max_log2: int = 7,
                timeout_ms: int = 300_000, max_seconds: float | None = None, bar=None) -> ProofResult:
    """Prove ``props`` for ``cfg``'s variant and shape by k-induction with K = ``k`` (see the module docstring).

    ``strengthen``: False (the properties alone), True (the auxiliary invariants ``prove`` uses) or a list of
    invariants to add as goals. ``timeout_ms`` bounds each obligation, ``max_seconds`` the whole run; a run
    cut short by that limit or by a signal keeps what it settled, as ``prove`` does. ``bar``: a
    ``checker.progress.Bar`` noting the obligations settled.
    """
    if k < 1:
        raise ValueError("k-induction needs K >= 1")
    if timeout_ms < 1:
        raise ValueError("timeout: must be at least 1 ms")
    budget.check_seconds("max-seconds", max_seconds)
    t0 = time.perf_counter()
    ps = [get_property(n) for n in props]
    aligned = "aligned" in props
    choices = Choices(free_sizes=True, adversary="aligned" if aligned else "any")
    if strengthen is True:
        invariants = memory_safety_invariants(cfg) + ([CONSUMER_ALIGNED] if aligned and not cfg.honest else [])
    else:
        invariants = list(strengthen or [])
    cap = max(1, cfg.producers * cfg.records)
    res = ProofResult(list(props), cfg, {}, assumptions_for(cfg, choices, max_log2), invariants,
                      max_log2=max_log2)
    if cfg.honest:
        res.assumptions.append(f"the ghost log of deliveries holds {cap} entries (the consumer delivers no more)")
    targets = [Invariant(p.name, p.doc, (lambda p: lambda c, r, s: p.smt(c, r, s, is_terminal(c, s)))(p))
               for p in ps]

    def record(name: str, outcome: z3.CheckSatResult, sec: float, how: str = "") -> str:
        result = "discharged" if outcome == z3.unsat else "failed" if outcome == z3.sat else "unknown"
        res.obligations.append(Obligation(name, result, sec, how))
        if bar is not None:
            bar.note(f"{len(res.obligations)} obligations settled")
        if progress:
            progress(f"  {name}: {result}{f' by {how}' if how else ''} ({sec:.2f}s)")
        return result

    try:
        with budget.run_limit(max_seconds):
            _settle(res, ps, invariants, targets, cfg, k, max_log2, cap, choices, simple_path, record, progress,
                    cex_max_log2, timeout_ms)
    except budget.OutOfTime as stop:
        res.bound = stop.bound
        res.cut_short(list(props), f"the run's time limit {stop.bound} was reached")
    except interrupt.Interrupted as stop:
        res.interrupted = stop.signal_name
        res.cut_short(list(props), f"interrupted by {stop.signal_name}")
    res.seconds = time.perf_counter() - t0
    return res


def _settle(res: ProofResult, ps: list, invariants: list[Invariant], targets: list[Invariant], cfg: Config, k: int,
            max_log2: int, cap: int, choices: Choices, simple_path: bool, record, progress, cex_max_log2: int,
            timeout_ms: int) -> None:
    """The base case, the rounds of the step case and a verdict per property, filling ``res`` as it goes."""
    goals = invariants + targets
    ring, k_log, k_ok = Ring.symbolic("k", max_log2)
    base_fail = _base_case(cfg, ring, k_ok, goals, k, cap, choices, record, timeout_ms / 1000)
    live = [g for g in goals if g.name not in base_fail]
    step_fail: dict[str, str] = {}
    rnd = 0
    while live and any(g in targets for g in live):
        rnd += 1
        failed = _step_case(cfg, ring, k_ok, live, k, cap, choices, simple_path, record,
                            f" (round {rnd})" if rnd > 1 else "", timeout_ms)
        if not failed:
            break
        for g in live:
            if g.name in failed:
                step_fail[g.name] = failed[g.name]
        live = [g for g in live if g.name not in failed]
    res.invariants = [g for g in live if g in invariants]
    res.assumptions.append(_k_line(k, res.invariants, simple_path))
    for why, names in (("base", [g.name for g in invariants if g.name in base_fail]),
                       ("step", [g.name for g in invariants if g.name in step_fail])):
        if names:
            res.assumptions.append(f"not assumed (their {why} case fails at K={k}): {', '.join(names)}")
    proved = {g.name for g in live}
    for p in ps:
        if p.name in proved:
            res.verdicts[p.name] = "holds (complete)"
        elif p.name in base_fail:
            res.verdicts[p.name] = _base_verdict(p.name, cfg, k, base_fail[p.name], cex_max_log2, max_log2,
                                                 progress, res, timeout_ms / 1000)
        elif p.name in step_fail:
            res.verdicts[p.name] = f"unknown: step case fails at K={k} (first: {step_fail[p.name]})"
        else:
            res.verdicts[p.name] = f"unknown: step case not run at K={k}"


def _k_line(k: int, invariants: list[Invariant], simple_path: bool) -> str:
    by = ", ".join(i.name for i in invariants) if invariants else "nothing (the properties alone)"
    sp = "; states of the step case pairwise distinct (simple path)" if simple_path else ""
    return f"k-induction with K={k}, strengthened by {by}{sp}"


def _base_case(cfg: Config, ring: Ring, k_ok: z3.BoolRef, goals: list[Invariant], k: int, cap: int,
               choices: Choices, record, timeout_s: float) -> dict[str, str]:
    """Each goal at depths 0 .. K-1 from the initial states; returns goal name -> first failing obligation."""
    start = z3.BitVec("start", 64)
    state = initial_symbolic(cfg, start, cap)
    kinds = action_kinds(cfg)
    solver = z3.SolverFor("QF_ABV")
    solver.add(k_ok, start & 7 == 0)
    failed: dict[str, str] = {}
    for d in range(k):
        if d > 0:
            step, state = unroll_step(cfg, ring, state, SymAction.fresh(f"b{d}"), f"b{d}", cap, kinds, choices)
            solver.add(step)
        for g in goals:
            if g.name in failed:
                continue
            t = time.perf_counter()
            slv = solver if g.name not in QUANTIFIED else _general(solver)
            slv.push()
            slv.add(z3.Not(g.formula(cfg, ring, state)))
            slv.set("timeout", budget.ms(budget.left(timeout_s)))
            outcome = slv.check()
            slv.pop()
            name = f"base case: {g.name} at depth {d}"
            if record(name, outcome, time.perf_counter() - t) != "discharged":
                failed[g.name] = name
    return failed


def _general(solver: z3.Solver) -> z3.Solver:
    s = z3.Solver()
    s.add(solver.assertions())
    return s


def _step_case(cfg: Config, ring: Ring, k_ok: z3.BoolRef, goals: list[Invariant], k: int, cap: int,
               choices: Choices, simple_path: bool, record, label: str, timeout_ms: int) -> dict[str, str]:
    """The step case for these goals together; returns goal name -> first failing obligation."""
    kinds = action_kinds(cfg)
    states = [fresh_state(cfg, "s0", cap)]
    prefix = [k_ok]
    for i in range(1, k):
        step, s = unroll_step(cfg, ring, states[-1], SymAction.fresh(f"a{i}"), f"s{i}", cap, kinds, choices)
        prefix.append(step)
        states.append(s)
    hyps = prefix + [g.formula(cfg, ring, s) for s in states for g in goals]
    hyp_qf = [h for h in hyps if not has_quantifier(h)]
    pre = states[-1]
    a = SymAction.fresh(f"a{k}")
    failed: dict[str, str] = {}
    timeout_s = timeout_ms / 1000
    for kind in kinds:
        budget.check_run()
        unused = [a.args[n] == 0 for n in ARG_NAMES if n not in kind.args]
        post = step_term(cfg, ring, pre, kind, a)
        link = [guard(cfg, pre, kind, a, choices)] + unused
        if simple_path:
            link += _pairwise_distinct(ring, states + [post])
        after = [g.formula(cfg, ring, post) for g in goals]
        # The same record cases and query strategy as the inductive-invariant proof (checker.smt.prove).
        for case, subst, extra in prove_cases(cfg, pre, kind, a):
            qf_hyp = subst(z3.And(hyp_qf + link + [extra]))
            q = Query(prove_solver("QF_ABV", timeout_s, z3.simplify(qf_hyp)), qf_hyp,
                      subst(z3.And(hyps + link + [extra])), timeout_s, min(5.0, timeout_s))
            for gi, g in enumerate(goals):
                t = time.perf_counter()
                outcome, how = consecution(q, subst(after[gi]))
                name = f"step case K={k}{label}: {g.name} after {kind.actor}.{kind.step}{case}"
                if record(name, outcome, time.perf_counter() - t, how) != "discharged":
                    failed.setdefault(g.name, name)
    return failed


def _fields(x) -> list:
    """Every term of a symbolic state but its data area, in a fixed order."""
    if isinstance(x, Slots):
        return []
    if isinstance(x, tuple):
        return [t for y in x for t in _fields(y)]
    return [x]


def _pairwise_distinct(ring: Ring, states: list[SymState]) -> list[z3.BoolRef]:
    """Every two states differ in some field, or in the data area at some word below S/8 (a fresh witness)."""
    out = []
    for i, si in enumerate(states):
        for j, sj in enumerate(states[i + 1:], i + 1):
            w = z3.BitVec(f"distinct.s{i}.s{j}", 64)
            slot = z3.And(z3.ULT(w, ring.nslots), si.slots[w] != sj.slots[w])
            out.append(z3.Or([z3.Not(x == y) for x, y in zip(_fields(si), _fields(sj))] + [slot]))
    return out


def _base_verdict(prop: str, cfg: Config, k: int, first: str, cex_max_log2: int, max_log2: int, progress,
                  res: ProofResult, timeout_s: float) -> str:
    """A base-case failure made concrete: a trace found by ``prove``'s search and replayed, else unknown."""
    small = min(cex_max_log2, max_log2)
    trace, searched = find_counterexample(prop, cfg, max(k - 1, 1), small, progress, timeout_s)
    if trace is None:
        return (f"unknown: base case fails ({first}) over the widened system; no trace the explicit model "
                f"replays: {searched}")
    res.traces[prop] = trace
    return f"violated (trace of {len(trace)} steps at S={trace.config.ring_size}, start={trace.start})"

"""Proofs by inductive invariants, for every ring size S = 2**k (4 <= k <= 32) and every 64-bit position.

The proof runs on the same z3 transition terms as BMC and the cross-check
(``checker.smt.transition``), with three widenings stated as assumptions:
the ring size is the symbolic ``1 << k``; the initial positions are one
symbolic u64 ``start`` (a multiple of 8) instead of 0; every payload size up to
2*MAX_RECORD_SZ may be asked for, and the adversary may store any u64 (any
multiple of 8 for ``aligned``) instead of values within reach of producer_pos.
What stays bounded is the shape: P producers with E attempts each (so at most
P*E records per run) and ``hold`` reservations held at once.

Obligations, each one or a few z3 calls (unsat = discharged):

* initiation: every initial state satisfies each invariant and the property;
* consecution, per goal (invariant or property), per action kind and per
  record case: a state satisfying all the goals, taking an enabled action of
  that kind, reaches a state satisfying that goal (1-induction on the
  conjunction). A goal the step provably leaves alone (its formula over the
  next state is the very term it was over the state) is a *frame* obligation.
  How each query is settled, and why that is sound, is in ``_consecution``.

Houdini-style, a goal that fails an obligation is dropped and the rest are
checked again without assuming it, until no obligation fails: what is left is
inductive by itself, and a property left in it holds. (Reporting a property as
holding while another goal it assumed had failed would rest the proof on an
unproved assumption.) A dropped property gets a counterexample search, BMC
over the same widened system (small k first), whose trace is replayed in the
explicit model at the ring size and start z3 chose; without one its verdict
is "unknown" with the failing obligation, never "holds".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import z3

from checker.smt.bmc import ReplayMismatch, replay_or_raise
from checker.smt.codec import Evaluator, decode_state
from checker.smt.invariants import CONSUMER_ALIGNED, Invariant, memory_safety_invariants
from checker.smt.quantifiers import has_quantifier, instantiate_hypothesis, skolemize_goal
from checker.smt.transition import (ARG_NAMES, Choices, SymAction, action_kinds, decode_action, guard,
                                    step_term, unroll_step)
from checker.trace import Step, Trace
from model.config import Config
from model.ringbuf import RingBufModel
from model.state import C_LOAD_CONS, C_NONE, UNUSED
from specs import get_property
from specs.smt import (Ring, Slots, SymConsumer, SymLog, SymProducer, SymRecord, SymState, bv, fresh_state,
                       is_terminal)

MEMORY_SAFETY = ("in_bounds", "no_overlap", "header_integrity", "capacity", "aligned")
DELIVERY = ("ordered_delivery", "discard_skipped", "committed_only")
"""Consumer-side properties with an inductive proof (honest level-triggered consumer). committed_only needs a
quantified invariant (every payload word); only the obligations whose goal is quantified go to z3's general
solver, the others are checked without the quantified hypotheses by the quantifier-free solver."""


@dataclass
class Obligation:
    """One z3 query of the proof and its outcome."""

    name: str
    result: str
    """``discharged``, ``failed`` or ``unknown``."""
    seconds: float
    how: str = ""
    """Which query settled it: ``quantifier-free``, ``instantiated`` (quantifiers instantiated at the goal's
    witnesses), ``general solver``, or empty (initiation; frame)."""


@dataclass
class ProofResult:
    """The verdicts of one proof run (several properties share the invariants), with what it checked and assumed."""

    properties: list[str]
    config: Config
    verdicts: dict[str, str]
    """Per property: ``holds (complete)``, ``violated (trace ...)`` or ``unknown: ...``."""
    assumptions: list[str]
    invariants: list[Invariant]
    obligations: list[Obligation] = field(default_factory=list)
    traces: dict[str, Trace] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 all proved, 1 some violated, 3 otherwise (unknown)."""
        vs = self.verdicts.values()
        if all(v.startswith("holds") for v in vs):
            return 0
        return 1 if any(v.startswith("violated") for v in vs) else 3

    def to_dict(self) -> dict:
        """The ``--json`` object."""
        return {"properties": self.properties, "config": self.config.to_dict(), "verdicts": self.verdicts,
                "exit_code": self.exit_code, "assumptions": self.assumptions,
                "invariants": [{"name": i.name, "statement": i.statement} for i in self.invariants],
                "obligations": [{"name": o.name, "result": o.result, "how": o.how, "seconds": round(o.seconds, 3)}
                                for o in self.obligations],
                "traces": {k: v.to_dict() for k, v in self.traces.items()},
                "seconds": round(self.seconds, 2)}


def proof_shape(variant: str, consumer: str = "adversarial", producers: int = 2, records: int = 2,
                hold: int = 2) -> Config:
    """The bounded shape of a proof (ring size and sizes in it are placeholders: both are symbolic)."""
    return Config(variant=variant, consumer=consumer, ring_size=16, producers=producers, records=records,
                  hold=hold, sizes=(8,), discard=consumer != "adversarial")


def initial_symbolic(cfg: Config, start: z3.BitVecRef, log_capacity: int) -> SymState:
    """``model.state.initial_state`` with every position at the symbolic ``start``."""
    n = cfg.producers * cfg.records
    records = tuple(SymRecord(bv(UNUSED), bv(0), bv(0), bv(-1)) for _ in range(n))
    producers = tuple(SymProducer(bv(0), bv(0), bv(-1), bv(0), bv(0), bv(0), bv(0), bv(0),
                                  tuple(bv(-1) for _ in range(cfg.hold)), bv(0), bv(0))
                      for _ in range(cfg.producers))
    off = z3.BoolVal(False)
    consumer = (SymConsumer(bv(C_LOAD_CONS), start, start, off, bv(0)) if cfg.honest else
                SymConsumer(bv(C_NONE), bv(0), bv(0), off, bv(0)))
    log = SymLog(bv(0), tuple(bv(-1) for _ in range(log_capacity)), tuple(off for _ in range(log_capacity)))
    return SymState(start, start, start, bv(-1), Slots.constant(()), records, producers, consumer, off, off, log)


def assumptions_for(cfg: Config, choices: Choices, max_log2: int) -> list[str]:
    """The assumptions a proof states, in words."""
    adv = {"any": "any u64 value at any step", "aligned": "any multiple of 8 at any step"}
    out = [f"variant {cfg.variant}, consumer {cfg.consumer}",
           f"ring size S = 2**k for every k with 4 <= k <= {max_log2}",
           "all positions start at one arbitrary u64 multiple of 8 (the kernel starts at 0); "
           "positions wrap modulo 2**64",
           "every payload size 0 .. 2*MAX_RECORD_SZ may be asked for at every reservation",
           f"bounded shape: {cfg.producers} producers x {cfg.records} reservation attempts "
           f"(at most {cfg.producers * cfg.records} records per run), each holding at most {cfg.hold} at once",
           "every step of every actor (producers, consumer or adversary) interleaves freely with the others"]
    if not cfg.honest:
        out.append(f"the adversary stores {adv[choices.adversary]} into consumer_pos")
    else:
        out.append("the consumer is libbpf's ring_buffer__poll with level-triggered epoll; commits may "
                   "discard; default wakeup flags")
    return out


def _check(solver: z3.Solver, formula: z3.BoolRef) -> z3.CheckSatResult:
    solver.push()
    solver.add(formula)
    res = solver.check()
    return res


def _case_split(cfg: Config, pre: SymState, kind, a: SymAction) -> tuple[z3.BitVecRef, list[int]] | None:
    """The term a step of this kind indexes the record list with, and the values that name a record.

    Each consecution obligation of such a step is split into one query per record (the term replaced by
    the constant) plus one "no record" query: z3 then sees concrete indices instead of an ``If`` chain over
    every record, which is what keeps 4-record proofs tractable.
    """
    if kind.step == "commit.xchg":
        return a.args["rec"], list(range(len(pre.records)))
    if kind.actor.startswith("p"):
        p = int(kind.actor[1:])
        pr = pre.producers[p]
        if kind.step == "reserve.check":
            return pr.attempts, list(range(cfg.records))
        return pr.cur, list(range(len(pre.records)))
    return None


def log_capacity(cfg: Config) -> int:
    """Places in the ghost log of deliveries: one per record (the invariant ``log_room`` shows it never fills
    while a delivery is pending, so this bound never stops the consumer); 1 when nothing is delivered."""
    return cfg.producers * cfg.records if cfg.honest else 1


def _cases(cfg: Config, pre: SymState, kind,
           a: SymAction) -> list[tuple[str, Callable[[z3.ExprRef], z3.ExprRef], z3.BoolRef]]:
    """(label, substitution, extra assumption) per record case of this kind's obligations (``_case_split``)."""
    split = _case_split(cfg, pre, kind, a)
    if split is None:
        return [("", lambda f: f, z3.BoolVal(True))]
    var, values = split
    what = "attempt" if kind.step == "reserve.check" else "record"
    out = [(f" [{what} {i}]", (lambda i: lambda f: z3.substitute(f, (var, bv(i))))(i), z3.BoolVal(True))
           for i in values]
    out.append((" [no record]", lambda f: f, z3.And([var != i for i in values])))
    return out


def _solver(logic: str | None, timeout_s: float, *facts: z3.BoolRef) -> z3.Solver:
    solver = z3.SolverFor(logic) if logic else z3.Solver()
    solver.set("timeout", int(timeout_s * 1000))
    solver.add(*facts)
    return solver


@dataclass
class _Query:
    """What one case of one action's consecution obligations shares: the hypotheses, three ways."""

    qf_solver: z3.Solver
    """The quantifier-free hypotheses (and the guard), asserted once; goals are pushed and popped."""
    qf_hyp: z3.BoolRef
    every_hyp: z3.BoolRef
    k: z3.BitVecRef
    """The ring size's exponent (S = 2**k), for the split by ring size."""
    k_values: range
    timeout_s: float
    quick_s: float


def _discharged_per_ring_size(q: _Query, hyp: z3.BoolRef, goal: z3.BoolRef) -> z3.CheckSatResult:
    """One query per k with S a constant (masks become constants, so bit-blasting is cheap); unsat for every
    k in range is a proof for all of them."""
    worst = z3.unsat
    for j in q.k_values:
        at = (q.k, bv(j))
        outcome = _solver("QF_ABV", q.timeout_s, z3.simplify(z3.substitute(hyp, at)),
                          z3.Not(z3.substitute(goal, at))).check()
        if outcome != z3.unsat:
            return outcome
    return worst


def _conjuncts(goal: z3.BoolRef) -> list[z3.BoolRef]:
    """The top-level conjuncts of ``goal`` (after simplification), each checked on its own: z3 then refutes
    one small disjunct at a time instead of all at once."""
    g = z3.simplify(goal)
    return list(g.children()) if z3.is_and(g) else [g]


def _consecution(q: _Query, goal: z3.BoolRef) -> tuple[z3.CheckSatResult, str]:
    """Is ``every_hyp and not goal`` unsatisfiable? Quantifier-free first, then the general solver.

    A quantifier-free goal is tried against the quantifier-free hypotheses only (for ``quick_s`` seconds,
    then once per ring size S = 2**k, which turns the symbolic masks into constants); a quantified one is
    Skolemised and the quantified hypotheses are instantiated at its witnesses (``checker.smt.quantifiers``).
    All are weakenings of the hypotheses or case splits that cover every k, so ``unsat`` there is a proof;
    anything else falls back to z3's general solver on the real formulas, whose answer is the result.
    Returns (result, route taken).
    """
    if not has_quantifier(goal):
        q.qf_solver.set("timeout", int(q.quick_s * 1000))
        outcome = z3.unsat
        for part in _conjuncts(goal):
            q.qf_solver.push()
            q.qf_solver.add(z3.Not(part))
            outcome = q.qf_solver.check()
            q.qf_solver.pop()
            if outcome != z3.unsat:
                break
        if outcome == z3.unsat:
            return outcome, "quantifier-free"
        if outcome == z3.unknown and _discharged_per_ring_size(q, q.qf_hyp, goal) == z3.unsat:
            return z3.unsat, "one query per ring size"
    else:
        skolem, witnesses = skolemize_goal(goal)
        hyp = instantiate_hypothesis(q.every_hyp, witnesses)
        if not has_quantifier(skolem) and not has_quantifier(hyp):
            solver = _solver("QF_ABV", q.quick_s, hyp)
            outcome = z3.unsat
            for part in _conjuncts(skolem):
                outcome = solver.check(z3.Not(part))
                if outcome != z3.unsat:
                    break
            if outcome == z3.unsat:
                return z3.unsat, "instantiated"
            if outcome == z3.unknown and _discharged_per_ring_size(q, hyp, skolem) == z3.unsat:
                return z3.unsat, "instantiated, one query per ring size"
    return _solver(None, q.timeout_s, q.every_hyp, z3.Not(goal)).check(), "general solver"


def _consecution_round(cfg: Config, ring: Ring, k: z3.BitVecRef, k_ok: z3.BoolRef, max_log2: int,
                       goals: list[Invariant], choices: Choices, cap: int, timeout_s: float, quick_s: float,
                       record: Callable[..., str]) -> dict[str, list[str]]:
    """Consecution of every goal, assuming all of them, per action kind and record case: the failed ones."""
    failed: dict[str, list[str]] = {}
    pre = fresh_state(cfg, "s", cap)
    hyps = [k_ok] + [g.formula(cfg, ring, pre) for g in goals]
    hyp_qf = [h for h in hyps if not has_quantifier(h)]
    pre_goal = {g.name: g.formula(cfg, ring, pre) for g in goals}
    a = SymAction.fresh("a")
    for kind in action_kinds(cfg):
        unused = [a.args[n] == 0 for n in ARG_NAMES if n not in kind.args]
        enabled = z3.And([guard(cfg, pre, kind, a, choices)] + unused)
        post = step_term(cfg, ring, pre, kind, a)
        after = [g.formula(cfg, ring, post) for g in goals]
        for gi, g in enumerate(goals):
            if after[gi].eq(pre_goal[g.name]):
                record(f"consecution: {g.name} after {kind.actor}.{kind.step} (frame: the step changes "
                       "nothing it reads)", z3.unsat, 0.0)
        moved = [gi for gi, g in enumerate(goals) if not after[gi].eq(pre_goal[g.name])]
        if not moved:
            continue
        for label, subst, extra in _cases(cfg, pre, kind, a):
            qf_hyp = subst(z3.And(hyp_qf + [enabled, extra]))
            q = _Query(_solver("QF_ABV", timeout_s, z3.simplify(qf_hyp)), qf_hyp,
                       subst(z3.And(hyps + [enabled, extra])), k, range(4, max_log2 + 1), timeout_s, quick_s)
            for gi in moved:
                g = goals[gi]
                name = f"consecution: {g.name} after {kind.actor}.{kind.step}{label}"
                t = time.perf_counter()
                outcome, how = _consecution(q, subst(after[gi]))
                if record(name, outcome, time.perf_counter() - t, how) != "discharged":
                    failed.setdefault(g.name, []).append(name)
    return failed


def prove(props: list[str], cfg: Config, max_log2: int = 32, progress=None, cex_depth: int = 10,
          cex_max_log2: int = 7, timeout_s: float = 600.0, quick_s: float = 20.0) -> ProofResult:
    """Prove ``props`` for ``cfg``'s variant and shape by one inductive invariant (see the module docstring)."""
    t0 = time.perf_counter()
    ps = [get_property(n) for n in props]
    aligned = "aligned" in props
    choices = Choices(free_sizes=True, adversary="aligned" if aligned else "any")
    invariants = memory_safety_invariants(cfg)
    if aligned and not cfg.honest:
        invariants = invariants + [CONSUMER_ALIGNED]
    res = ProofResult(list(props), cfg, {}, assumptions_for(cfg, choices, max_log2), invariants)
    ring, k, k_ok = Ring.symbolic("k", max_log2)
    cap = log_capacity(cfg)
    if cfg.honest:
        res.assumptions.append(
            f"the ghost log of deliveries has {cap} places (one per record); the invariant log_room shows a "
            "pending delivery always finds one, so the bound is exact")
    targets = [Invariant(p.name, p.doc, (lambda p: lambda c, r, s: p.smt(c, r, s, is_terminal(c, s)))(p))
               for p in ps]
    goals = invariants + targets

    def record(name: str, outcome: z3.CheckSatResult, sec: float, how: str = "") -> str:
        result = "discharged" if outcome == z3.unsat else "failed" if outcome == z3.sat else "unknown"
        res.obligations.append(Obligation(name, result, sec, how))
        if progress:
            progress(f"  {name}: {result}{f' by {how}' if how else ''} ({sec:.2f}s)")
        return result

    start = z3.BitVec("start", 64)
    init = initial_symbolic(cfg, start, cap)
    failed: dict[str, list[str]] = {g.name: [] for g in goals}
    for g in goals:
        t = time.perf_counter()
        s = z3.SolverFor("QF_BV")
        s.add(k_ok, start & 7 == 0)
        outcome = _check(s, z3.Not(g.formula(cfg, ring, init)))
        if record(f"initiation: {g.name}", outcome, time.perf_counter() - t) != "discharged":
            failed[g.name].append("initiation")

    # Houdini-style: a goal whose obligation fails is dropped, and the rest are checked again without
    # assuming it, until no obligation fails. What is left is inductive on its own.
    live = [g for g in goals if not failed[g.name]]
    rounds = 0
    while True:
        rounds += 1
        prefix = "" if rounds == 1 else f"round {rounds}: "
        new = _consecution_round(cfg, ring, k, k_ok, max_log2, live, choices, cap, timeout_s, quick_s,
                                 lambda name, *args, prefix=prefix: record(prefix + name, *args))
        if not new:
            break
        for name, obligations in new.items():
            failed[name] += obligations
        live = [g for g in live if g.name not in new]
        if progress:
            progress(f"  dropped {', '.join(new)}; checking the rest again without assuming them")
    res.invariants = [g for g in invariants if g in live]
    dropped = [g.name for g in invariants if g not in live]
    if dropped:
        res.assumptions.append(f"auxiliary invariants dropped as not inductive here: {', '.join(dropped)}")
    for p in ps:
        if not failed[p.name]:
            res.verdicts[p.name] = "holds (complete)"
            continue
        trace = find_counterexample(p.name, cfg, cex_depth, cex_max_log2, progress)
        if trace is not None:
            res.traces[p.name] = trace
            res.verdicts[p.name] = (f"violated (trace of {len(trace)} steps at S={trace.config.ring_size}, "
                                    f"start={trace.start})")
        else:
            first = failed[p.name][0]
            res.verdicts[p.name] = (f"unknown: obligations not discharged (first: {first}); no counterexample "
                                    f"within {cex_depth} steps for k <= {cex_max_log2}")
    res.seconds = time.perf_counter() - t0
    return res


def find_counterexample(prop: str, cfg: Config, depth: int, max_log2: int, progress=None) -> Trace | None:
    """BMC over the widened system: symbolic k <= max_log2, start and sizes; the adversary stores multiples of 8
    within 2*S of producer_pos (the explicit model's default reach, so the trace replays there)."""
    p = get_property(prop)
    ring, k, k_ok = Ring.symbolic("k", max_log2)
    choices = Choices(free_sizes=True, adversary="near", reach=2 * ring.size)
    start = z3.BitVec("start", 64)
    cap = max(depth, 1)
    states = [initial_symbolic(cfg, start, cap)]
    actions = []
    kinds = action_kinds(cfg)
    solver = z3.SolverFor("QF_BV")
    solver.add(k_ok, start & 7 == 0)
    for d in range(1, depth + 1):
        a = SymAction.fresh(f"a{d}")
        step, s = unroll_step(cfg, ring, states[-1], a, f"s{d}", cap, kinds, choices)
        solver.add(step)
        actions.append(a)
        states.append(s)
        t = time.perf_counter()
        outcome = _check(solver, z3.Not(p.smt(cfg, ring, s, is_terminal(cfg, s))))
        if progress:
            progress(f"  counterexample search, depth {d}: {outcome} ({time.perf_counter() - t:.2f}s)")
        if outcome == z3.sat:
            return _decode(prop, cfg, solver.model(), states, actions, kinds, k, start)
        solver.pop()
    return None


def _decode(prop: str, cfg: Config, m: z3.ModelRef, states, actions, kinds, k, start) -> Trace:
    """The trace at the ring size, start, sizes and adversary reach the model chose; replayed or ReplayMismatch."""
    ev = Evaluator(m)
    acts = []
    for a in actions:
        kind = kinds[ev.u(a.kind)]
        acts.append(decode_action(kind, {n: ev.u(a.args[n]) for n in ARG_NAMES}))
    sizes = sorted({a.arg("size") for a in acts if a.step == "reserve.check"}) or [8]
    concrete = cfg.with_(ring_size=1 << ev.u(k), sizes=tuple(sizes))
    trace = Trace(concrete, decode_state(concrete, ev, states[0]), start=ev.u(start))
    for a, s in zip(acts, states[1:]):
        trace.steps.append(Step(a, decode_state(concrete, ev, s)))
    trace.property = prop
    final = trace.final
    trace.reason = get_property(prop).check(concrete, final, RingBufModel(concrete, trace.start).is_terminal(final))
    replay_or_raise(trace)
    if trace.reason is None:
        raise ReplayMismatch(f"prove: z3 says {prop} fails, the Python predicate holds in the final state")
    return trace

"""Proofs of the user ring's kernel-side safety for every ring size S = 2**k and every 64-bit position.

As ``checker.smt.prove`` for the kernel ring, by one inductive invariant: the
auxiliary invariants of ``checker.smt.user.invariants`` plus one goal per
property, over the same z3 steps the cross-check holds to the explicit model
(``checker.smt.user.transition``), widened (``UserChoices(mode="free")``):

* the ring size is the symbolic ``1 << k`` (4 <= k <= ``max_log2``);
* both positions start at one symbolic u64 ``start``;
* the adversary stores any u64 into producer_pos and any 32-bit len word
  into any word of the data area, at any step, as often as it likes (no
  write budget); libbpf's producer may ask for any size; a drain call may pass
  any flags;
* what stays bounded is the shape: ``drains`` draining programs and, for
  libbpf's producer, ``records`` attempts holding at most ``hold``.

Obligations (unsat = discharged): initiation of every goal; consecution of
every goal after every action kind, assuming all goals (a goal whose formula
over the next state is the very term it was over the state is a *frame*
obligation: the step does not touch what it reads). Houdini-style, a goal
that fails is dropped and the rest are checked again without it, so no
property is reported proved on an assumption that failed; a dropped property
gets a counterexample search (BMC over the widened system, small k, choices
an explicit configuration offers) whose trace is replayed in the explicit
model at the ring size and start z3 chose.

The ghost log of deliveries is not part of the proof (capacity 0): the goals
proved here must not read it, which ``prove_user`` checks on their terms.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import z3

from checker import interrupt
from checker.smt import budget
from checker.smt.codec import Evaluator
from checker.smt.concrete import constants_in
from checker.smt.digest import term_digest
from checker.smt.invariants import Invariant
from checker.smt.prove import Obligation, ProofResult
from checker.smt.user.bmc import replay_user_or_raise
from checker.smt.user.codec import decode_user_state
from checker.smt.user.invariants import INVARIANTS
from checker.smt.user.state import SymAdvance, SymDrain, SymUserProducer, SymUserState, fresh_user_state
from checker.smt.user.transition import (
    ARG_NAMES,
    SymAction,
    UserChoices,
    action_kinds,
    decode_action,
    guard,
    is_terminal,
    step_term,
    unroll_step,
)
from checker.trace import Step, Trace
from model.config import Config, replay_ring_sizes
from model.state import UNUSED
from model.userring.drain import PEEK_CHECKS, Check
from model.userring.model import UserRingModel
from model.userring.state import D_IDLE, U_IDLE
from specs import get_property
from specs.smt import Ring, Slots, SymLog, SymRecord, bv

FREE = UserChoices(mode="free")


def user_proof_shape(user_producer: str = "adversarial", drains: int = 2, records: int = 2, hold: int = 2) -> Config:
    """The bounded shape of a proof (the ring size, sizes and write budget in it are placeholders)."""
    return Config(map="user", ring_size=16, user_producer=user_producer, drains=drains, records=records, hold=hold,
                  sizes=(8,), discard=user_producer != "adversarial", wakeup_flags=True)


def initial_symbolic(cfg: Config, start: z3.BitVecRef, log_capacity: int) -> SymUserState:
    """``initial_user_state`` with both positions at the symbolic ``start``."""
    off = z3.BoolVal(False)
    producer = SymUserProducer(bv(U_IDLE), bv(0), bv(-1), bv(0), bv(0), tuple(bv(-1) for _ in range(cfg.hold)), bv(0),
                               bv(0))
    drains = tuple(SymDrain(bv(D_IDLE), bv(0), bv(0), bv(0), bv(0), bv(0), bv(0), off, bv(0))
                   for _ in range(cfg.drains))
    records = tuple(SymRecord(bv(UNUSED), bv(0), bv(0), bv(-1)) for _ in range(0 if cfg.hostile else cfg.records))
    log = SymLog(bv(0), tuple(bv(-1) for _ in range(log_capacity)), tuple(off for _ in range(log_capacity)))
    return SymUserState(start, start, bv(0), Slots.constant(()), producer, drains, records, log,
                        SymAdvance(off, bv(0), bv(0), bv(0), bv(0), bv(0)))


def assumptions_for(cfg: Config, max_log2: int) -> list[str]:
    """The assumptions a proof states, in words."""
    out = [f"map user (BPF_MAP_TYPE_USER_RINGBUF), the drain of variant {cfg.variant} with the per-sample checks "
           "of model/userring/drain.py",
           f"ring size S = 2**k for every k with 4 <= k <= {max_log2}",
           "both positions start at one arbitrary u64 (the kernel starts at 0); positions wrap modulo 2**64",
           f"{cfg.drains} BPF program(s) calling bpf_user_ringbuf_drain, each call with any flags, the callback "
           "returning 0 or 1; every step of every actor interleaves freely with the others"]
    if cfg.hostile:
        out.append("the user producer is hostile: at any step it stores any u64 into producer_pos or any 32-bit "
                   "len word into any word of the data area, with no limit on the number of writes")
    else:
        out.append(f"the user producer is libbpf's (user_ring_buffer__reserve/submit/discard): {cfg.records} "
                   f"attempts, at most {cfg.hold} held, any size, submits or discards")
    out.append("the ghost log of deliveries is left out (no goal reads it)")
    return out


def _goals(cfg: Config, props: list[str]) -> list[Invariant]:
    targets = [Invariant(p.name, p.doc, (lambda p: lambda c, r, s: p.smt(c, r, s, is_terminal(c, s)))(p))
               for p in map(get_property, props)]
    return list(INVARIANTS) + targets


def _check_log_unread(cfg: Config, ring: Ring, goals: list[Invariant]) -> None:
    """Refuse a goal whose formula mentions the ghost log (the proof leaves the log out)."""
    s = fresh_user_state(cfg, "s", 1)
    log_vars = {v.get_id() for v in (s.delivered.n, *s.delivered.recs, *s.delivered.intact)}
    for g in goals:
        if constants_in(g.formula(cfg, ring, s)) & log_vars:
            raise ValueError(f"prove: {g.name} reads the delivered log, which the user ring proof leaves out")


def proof_terms(cfg: Config, ring: Ring, k_ok: z3.BoolRef, goals: list[Invariant], checks: tuple[Check, ...]):
    """Per action kind: (kind, hypotheses over a fresh state, enabled, goals over its next state, moved goals)."""
    out = []
    for kind in action_kinds(cfg):
        pre = fresh_user_state(cfg, "s", 0)
        a = SymAction.fresh("a")
        hyps = [g.formula(cfg, ring, pre) for g in goals]
        unused = [a.args[n] == 0 for n in ARG_NAMES if n not in kind.args]
        enabled = z3.And([k_ok, guard(cfg, ring, pre, kind, a, FREE)] + unused)
        post = step_term(cfg, ring, pre, kind, a, checks)
        after = [g.formula(cfg, ring, post) for g in goals]
        moved = [i for i, (h, f) in enumerate(zip(hyps, after)) if not h.eq(f)]
        out.append((kind, hyps, enabled, after, moved))
    return out


def user_proof_digest(props: list[str], cfg: Config, max_log2: int = 32,
                      checks: tuple[Check, ...] = PEEK_CHECKS) -> str:
    """The digest of every term a proof of ``props`` on this shape reasons about (``checker.smt.digest``)."""
    ring, _, k_ok = Ring.symbolic("k", max_log2)
    goals = _goals(cfg, props)
    init = initial_symbolic(cfg, z3.BitVec("start", 64), 0)
    terms = [k_ok] + [g.formula(cfg, ring, init) for g in goals]
    for _, hyps, enabled, after, _ in proof_terms(cfg, ring, k_ok, goals, checks):
        terms += hyps + [enabled] + after
    return term_digest(terms)


def prove_user(props: list[str], cfg: Config, max_log2: int = 32, checks: tuple[Check, ...] = PEEK_CHECKS,
               progress: Callable[[str], None] | None = None, timeout_s: float = 600.0, cex_depth: int = 10,
               cex_max_log2: int = 6, max_seconds: float | None = None) -> ProofResult:
    """Prove ``props`` for the user ring shape ``cfg`` by one inductive invariant (module docstring).

    ``timeout_s`` bounds each obligation (one still open is "unknown", and so is its goal), and each
    depth of a counterexample search; ``max_seconds`` the whole run. Ctrl-C or SIGTERM keeps what was
    settled and names the signal.
    """
    t0 = time.perf_counter()
    budget.check_seconds("timeout", timeout_s)
    budget.check_seconds("max-seconds", max_seconds)
    for n in props:
        p = get_property(n)
        if not p.applies(cfg) or p.smt is None:
            raise ValueError(f"prove: {n} is not a user ring property with an SMT encoding")
    ring, _, k_ok = Ring.symbolic("k", max_log2)
    goals = _goals(cfg, props)
    _check_log_unread(cfg, ring, goals)
    res = ProofResult(list(props), cfg, {}, assumptions_for(cfg, max_log2), list(INVARIANTS), max_log2=max_log2)

    def record(name: str, outcome: z3.CheckSatResult, sec: float, how: str = "") -> str:
        result = "discharged" if outcome == z3.unsat else "failed" if outcome == z3.sat else "unknown"
        res.obligations.append(Obligation(name, result, sec, how))
        if progress:
            progress(f"  {name}: {result} ({sec:.2f}s)")
        return result

    try:
        with budget.run_limit(max_seconds):
            _settle(res, cfg, ring, k_ok, goals, props, checks, record, timeout_s, cex_depth, cex_max_log2,
                    progress)
    except budget.OutOfTime as stop:
        res.bound = stop.bound
        res.cut_short(list(props), f"the run's time limit {stop.bound} was reached")
    except interrupt.Interrupted as stop:
        res.interrupted = stop.signal_name
        res.cut_short(list(props), f"interrupted by {stop.signal_name}")
    res.seconds = time.perf_counter() - t0
    return res


def _query(solver: z3.Solver, goal: z3.BoolRef, timeout_s: float) -> z3.CheckSatResult:
    solver.set("timeout", budget.ms(budget.left(timeout_s)))
    out = solver.check(z3.Not(goal))
    if out == z3.unknown:
        interrupt.raise_if_requested()
        budget.check_run(slack=0.1)
    return out


def _settle(res: ProofResult, cfg: Config, ring: Ring, k_ok: z3.BoolRef, goals: list[Invariant], props: list[str],
            checks: tuple[Check, ...], record, timeout_s: float, cex_depth: int, cex_max_log2: int,
            progress) -> None:
    """Initiation, the Houdini rounds of consecution, then a verdict per property."""
    start = z3.BitVec("start", 64)
    init = initial_symbolic(cfg, start, 0)
    failed: dict[str, list[str]] = {g.name: [] for g in goals}
    for g in goals:
        t = time.perf_counter()
        s = z3.SolverFor("QF_ABV")
        s.add(k_ok)
        if record(f"initiation: {g.name}", _query(s, g.formula(cfg, ring, init), timeout_s),
                  time.perf_counter() - t) != "discharged":
            failed[g.name].append("initiation")
    live = [g for g in goals if not failed[g.name]]
    rounds = 0
    while True:
        rounds += 1
        prefix = "" if rounds == 1 else f"round {rounds}: "
        new: dict[str, list[str]] = {}
        for kind, hyps, enabled, after, moved in proof_terms(cfg, ring, k_ok, live, checks):
            step = f"{kind.actor}.{kind.step}"
            solver = z3.SolverFor("QF_ABV")
            solver.add(enabled, *hyps)
            for gi, g in enumerate(live):
                name = f"{prefix}consecution: {g.name} after {step}"
                if gi not in moved:
                    record(f"{name} (frame: the step changes nothing it reads)", z3.unsat, 0.0)
                    continue
                t = time.perf_counter()
                if record(name, _query(solver, after[gi], timeout_s), time.perf_counter() - t) != "discharged":
                    new.setdefault(g.name, []).append(name)
        if not new:
            break
        for name, obligations in new.items():
            failed[name] += obligations
        live = [g for g in live if g.name not in new]
        if progress:
            progress(f"  dropped {', '.join(new)}; checking the rest again without assuming them")
    res.invariants = [g for g in INVARIANTS if g in live]
    dropped = [g.name for g in INVARIANTS if g not in live]
    if dropped:
        res.assumptions.append(f"auxiliary invariants dropped as not inductive here: {', '.join(dropped)}")
    res.digest = user_proof_digest(props, cfg, res.max_log2, checks)
    for name in props:
        if not failed[name]:
            res.verdicts[name] = "holds (complete)"
    for name in props:
        if failed[name]:
            trace, searched = find_user_counterexample(name, cfg, checks, cex_depth, cex_max_log2, progress,
                                                       timeout_s)
            if trace is not None:
                res.traces[name] = trace
                res.verdicts[name] = (f"violated (trace of {len(trace)} steps at S={trace.config.ring_size}, "
                                      f"start={trace.start})")
            else:
                res.verdicts[name] = f"unknown: obligations not discharged (first: {failed[name][0]}); {searched}"


def find_user_counterexample(prop: str, cfg: Config, checks: tuple[Check, ...] = PEEK_CHECKS, depth: int = 10,
                             max_log2: int = 6, progress=None,
                             timeout_s: float = 600.0) -> tuple[Trace | None, str]:
    """BMC over the widened system (symbolic k <= max_log2 and start, ``near`` choices): (trace or None, what
    was searched). The trace is replayed in ``UserRingModel`` at the ring size, start and choices z3 made."""
    p = get_property(prop)
    ring, k, k_ok = Ring.symbolic("k", max_log2)
    choices = UserChoices(mode="near", reach=2 * ring.size)
    start = z3.BitVec("start", 64)
    cap = max(depth, 1)
    states = [initial_symbolic(cfg, start, cap)]
    actions: list[SymAction] = []
    kinds = action_kinds(cfg)
    solver = z3.SolverFor("QF_ABV")
    solver.add(k_ok)
    for d in range(1, depth + 1):
        a = SymAction.fresh(f"a{d}")
        step, s = unroll_step(cfg, ring, states[-1], a, f"s{d}", cap, kinds, choices, checks)
        solver.add(step)
        actions.append(a)
        states.append(s)
        t = time.perf_counter()
        solver.push()
        outcome = _query(solver, p.smt(cfg, ring, s, is_terminal(cfg, s)), timeout_s)
        if progress:
            progress(f"  counterexample search, depth {d}: {outcome} ({time.perf_counter() - t:.2f}s)")
        if outcome == z3.sat:
            return _decode(prop, cfg, checks, solver.model(), states, actions, kinds, k, start), f"a trace at depth {d}"
        solver.pop()
        if outcome != z3.unsat:
            return None, (f"no counterexample within {d - 1} steps for k <= {max_log2}; depth {d} not settled "
                          f"within {timeout_s:g}s")
    return None, f"no counterexample within {depth} steps for k <= {max_log2}"


def _decode(prop: str, cfg: Config, checks: tuple[Check, ...], m: z3.ModelRef, states, actions, kinds, k,
            start) -> Trace:
    """The trace in the explicit configuration that offers every choice z3 made; replayed or ReplayMismatch."""
    ev = Evaluator(m)
    acts = [decode_action(kinds[ev.u(a.kind)], {n: ev.u(a.args[n]) for n in ARG_NAMES}) for a in actions]
    size = 1 << ev.u(k)
    lens = {a.arg("len") & ~(3 << 30) for a in acts if a.step == "user.store_word"}
    asked = {a.arg("size") for a in acts if a.step == "user.reserve"}
    sizes = tuple(sorted(lens | asked)) or cfg.sizes
    flags = any(a.step == "drain.begin" and a.args for a in acts)
    with replay_ring_sizes():                  # z3 may pick a ring the search cannot take (S >= 2**25 for dynptr)
        concrete = cfg.with_(ring_size=size, sizes=sizes, wakeup_flags=cfg.wakeup_flags or flags,
                             adversary_reach=None)
    trace = Trace(concrete, decode_user_state(concrete, ev, states[0]), start=ev.u(start))
    for a, s in zip(acts, states[1:]):
        trace.steps.append(Step(a, decode_user_state(concrete, ev, s)))
    trace.property = prop
    trace.reason = replay_user_or_raise(trace, UserRingModel(concrete, trace.start, checks), prop)
    return trace

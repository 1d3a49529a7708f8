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

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import z3

from checker import interrupt
from checker.smt import bitwuzla_backend, budget
from checker.smt.bmc import ReplayMismatch, replay_or_raise
from checker.smt.codec import Evaluator, decode_state
from checker.smt.digest import term_digest
from checker.smt.invariants import CONSUMER_ALIGNED, Invariant, memory_safety_invariants, status_bits
from checker.smt.quantifiers import (
    abstract_quantifiers,
    has_quantifier,
    instantiate_hypothesis,
    skolemize_goal,
)
from checker.smt.terms import fold
from checker.smt.transition import (
    ARG_NAMES,
    Choices,
    SymAction,
    action_kinds,
    decode_action,
    guard,
    step_term,
    unroll_step,
)
from checker.trace import Step, Trace
from model.config import Config
from model.ringbuf import build_model
from model.state import BUSY, C_LOAD_CONS, C_NONE, DISCARDED, UNUSED
from specs import get_property
from specs.smt import (
    Ring,
    Slots,
    SymConsumer,
    SymLog,
    SymProducer,
    SymRecord,
    SymState,
    bv,
    fresh_state,
    header_word,
    slot_index,
    is_terminal,
)

MEMORY_SAFETY = ("in_bounds", "no_overlap", "header_integrity", "capacity", "aligned")
OVERWRITE_SAFETY = ("in_bounds", "no_overlap", "header_integrity", "busy_not_overwritten", "overwrite_on_boundary",
                    "pending_capacity", "aligned")
"""Overwrite mode's kernel safety properties with an inductive proof (adversarial consumer; ``capacity`` does
not apply there, specs.overwrite)."""
DELIVERY = ("ordered_delivery", "discard_skipped", "committed_only")
"""Consumer-side properties with an inductive proof (honest level-triggered consumer). committed_only needs a
quantified invariant (every payload word); a quantified goal is tried with its quantifiers abstracted, then
Skolemised against instantiated hypotheses, and only then given to z3's general solver (``_consecution``); the
others are checked without the quantified hypotheses by the quantifier-free solvers."""
ROUND_S = 30.0
"""Seconds of the first round each eager solver gets on a query (``_eager``)."""


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
    digest: str = ""
    """``proof_digest`` of what was proved: a kept log of this run is checked against today's model by it."""
    max_log2: int = 32
    """Proved for every ring size S = 2**k with 4 <= k <= this (with the digest, names what a kept log proved)."""
    interrupted: str | None = None
    """The signal (``SIGINT``, ``SIGTERM``) that cut the run short; what was settled before it is kept."""
    bound: str | None = None
    """``max_seconds=N`` when the run's time limit cut it short."""

    @property
    def verdict(self) -> str:
        """The run in one word: ``interrupted``, ``violated`` (some property), ``holds`` (all), else ``unknown``."""
        vs = self.verdicts.values()
        if self.interrupted:
            return "interrupted"
        if any(v.startswith("violated") for v in vs):
            return "violated"
        return "holds" if vs and all(v.startswith("holds") for v in vs) else "unknown"

    @property
    def exit_code(self) -> int:
        """0 all proved, 1 some violated, 130 interrupted, 3 otherwise (unknown)."""
        return {"holds": 0, "violated": 1, "interrupted": interrupt.EXIT_INTERRUPTED}.get(self.verdict, 3)

    def cut_short(self, props: list[str], why: str) -> None:
        """Every property without a verdict yet is unknown because the run was cut short (``why``)."""
        for name in props:
            self.verdicts.setdefault(name, f"unknown: {why} before its obligations were all settled")

    def to_dict(self) -> dict:
        """The ``--json`` object."""
        return {"verdict": self.verdict, "interrupted": self.interrupted, "bound": self.bound,
                "properties": self.properties, "config": self.config.to_dict(), "verdicts": self.verdicts,
                "exit_code": self.exit_code, "assumptions": self.assumptions,
                "invariants": [{"name": i.name, "statement": i.statement} for i in self.invariants],
                "obligations": [{"name": o.name, "result": o.result, "how": o.how, "seconds": round(o.seconds, 3)}
                                for o in self.obligations],
                "traces": {k: v.to_dict() for k, v in self.traces.items()},
                "seconds": round(self.seconds, 2), "digest": self.digest, "max_log2": self.max_log2}


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
                                  tuple(bv(-1) for _ in range(cfg.hold)), bv(0), bv(0),
                                  *((bv(0),) if cfg.rules.overwrite else ()))
                      for _ in range(cfg.producers))
    off = z3.BoolVal(False)
    consumer = (SymConsumer(bv(C_LOAD_CONS), start, start, off, bv(0)) if cfg.honest else
                SymConsumer(bv(C_NONE), bv(0), bv(0), off, bv(0)))
    log = SymLog(bv(0), tuple(bv(-1) for _ in range(log_capacity)), tuple(off for _ in range(log_capacity)))
    return SymState(start, start, start, bv(-1), Slots.constant(()), records, producers, consumer, off, off, log,
                    *((start,) if cfg.rules.overwrite else ()))


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


def _check(solver: z3.Solver, formula: z3.BoolRef, timeout_s: float) -> z3.CheckSatResult:
    """Push ``formula`` and check, within ``timeout_s`` and what the run has left (``checker.smt.budget``)."""
    solver.push()
    solver.add(formula)
    solver.set("timeout", budget.ms(budget.left(timeout_s)))
    return solver.check()


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


def _at_record(pre: SymState, where: z3.BitVecRef,
               what: str) -> list[tuple[str, Callable[[z3.ExprRef], z3.ExprRef], z3.BoolRef]]:
    """Cases on which record starts at position ``where`` (a variable of the pre-state), or producer_pos, or
    neither: exhaustive. In the case "record i starts there" ``where`` is also replaced by ``r_i.pos`` (sound
    under that case's assumption), so the header read there is literally the word the invariants speak of."""
    cases = []
    for i, r in enumerate(pre.records):
        there = z3.And(z3.UGE(r.status, BUSY), z3.ULE(r.status, DISCARDED), r.pos == where)
        cases.append((f" [record {i} at {what}]", (lambda r: lambda f: z3.substitute(f, (where, r.pos)))(r), there))
    cases.append((f" [{what} = producer_pos]", lambda f: z3.substitute(f, (where, pre.producer_pos)),
                  where == pre.producer_pos))
    cases.append((f" [{what} elsewhere]", lambda f: f, z3.Not(z3.Or([c for _, _, c in cases]))))
    return cases


def _cases(cfg: Config, pre: SymState, kind,
           a: SymAction) -> list[tuple[str, Callable[[z3.ExprRef], z3.ExprRef], z3.BoolRef]]:
    """(label, substitution, extra assumption) per case of this kind's obligations; together exhaustive.

    Steps that index the record list get one case per index (``_case_split``); steps that read the header at
    a position (the scan cursor, the consumer) get one case per record that may start there.
    """
    same = lambda f: f
    at = {"reserve.scan": lambda: _at_record(pre, pre.producers[int(kind.actor[1:])].pend, "pend"),
          "consume.read_header": lambda: _at_record(pre, pre.consumer.cons, "cons"),
          "consume.deliver": lambda: _at_record(pre, pre.consumer_pos, "consumer_pos"),
          "consume.store_cons": lambda: _at_record(pre, pre.consumer_pos, "consumer_pos")}
    if kind.step in at:
        return at[kind.step]()
    split = _case_split(cfg, pre, kind, a)
    if split is None:
        return [("", same, z3.BoolVal(True))]
    var, values = split
    what = "attempt" if kind.step == "reserve.check" else "record"
    out = [(f" [{what} {i}]", (lambda i: lambda f: z3.substitute(f, (var, bv(i))))(i), z3.BoolVal(True))
           for i in values]
    out.append((" [no record]", same, z3.And([var != i for i in values])))
    return out


def _header_at(ring: Ring, pre: SymState, kind, case_index: int) -> tuple[z3.BitVecRef, z3.BitVecRef] | None:
    """For a step that reads the header at a position, in the case "record i starts there": (the word it
    reads, record i's header word). The obligations of that case first prove the two equal (a lemma, from
    window_headers) and then see the goal with the record's own header in place of the read: the decoding
    of an arbitrary word drops out. Sound because the lemma is proved from the same hypotheses."""
    if kind.step not in ("reserve.scan", "consume.read_header") or case_index >= len(pre.records):
        return None
    r = pre.records[case_index]
    return pre.slots[slot_index(ring, r.pos)], header_word(bv(case_index), r.size | status_bits(r))


def _solver(logic: str | None, timeout_s: float, *facts: z3.BoolRef) -> z3.Solver:
    solver = z3.SolverFor(logic) if logic else z3.Solver()
    solver.set("timeout", budget.ms(timeout_s))
    solver.add(*facts)
    return solver


@dataclass
class _Query:
    """What one case of one action's consecution obligations shares: the hypotheses, three ways."""

    qf_solver: z3.Solver
    """The quantifier-free hypotheses (and the guard), asserted once; goals are pushed and popped."""
    qf_hyp: z3.BoolRef
    every_hyp: z3.BoolRef
    timeout_s: float
    quick_s: float
    round_s: float = ROUND_S
    """Length of the first round of the eager solvers (see ``_eager``)."""
    sessions: dict = field(default_factory=dict)
    """A Bitwuzla session per hypothesis and time limit (``_kept``)."""
    split: dict = field(default_factory=dict)
    """A hypothesis's conjuncts with the records each mentions, per hypothesis (``_kept``, ``_sliced``)."""
    until: float | None = None
    """The ``time.monotonic()`` deadline of the obligation being settled (``_consecution`` sets it): every
    solver call gets what is left of ``timeout_s``, so one obligation never takes longer than that."""

    def left(self, want: float) -> float:
        """``want`` seconds cut to what this obligation and the run have left (<= 0: none)."""
        return budget.left(want, self.until)


def _kept(store: dict, term: z3.ExprRef, key: object, make: Callable[[], object]) -> object:
    """``make()`` for (``term``, ``key``), made once and kept in ``store``. Keyed by z3's id of the term, with the
    term kept alive beside it: z3 reuses a freed term's id, and a stale hit would answer for another term."""
    hit = store.get((term.get_id(), key))
    if hit is None or not hit[0].eq(term):
        hit = store[(term.get_id(), key)] = (term, make())
    return hit[1]


def _bitwuzla(hyp: z3.BoolRef, part: z3.BoolRef, q: _Query, timeout_s: float) -> z3.CheckSatResult | None:
    """``hyp and not part`` decided by Bitwuzla (``checker.smt.bitwuzla_backend``) within ``timeout_s``; None
    when it is not installed or a term does not translate."""
    if not bitwuzla_backend.available():
        return None
    try:
        session = _kept(q.sessions, hyp, timeout_s, lambda: bitwuzla_backend.Session(hyp, timeout_s))
        deadlines = [d for d in (q.until, budget.run_until()) if d is not None]
        return session.refutes(part, min(deadlines) if deadlines else None)
    except bitwuzla_backend.Untranslatable:
        return None


def _eager(hyp: z3.BoolRef, part: z3.BoolRef, q: _Query) -> tuple[z3.CheckSatResult, str]:
    """``hyp and not part`` by the two eager solvers, z3's bit-blaster and Bitwuzla, taking turns in rounds
    of growing length (``round_s``, then 4 times longer each round) until one settles it or each has had
    ``timeout_s``. Neither wins everywhere (on 4-record shapes z3 settles some read_header and write queries
    in 10-50 s that Bitwuzla does not settle in 60 s, and Bitwuzla some position arithmetic in 10 s that
    z3 needs minutes for), and which one a query needs is not known beforehand: taking turns costs at most
    about twice the faster solver's time. Returns (result, the solver that settled it: "" for neither)."""
    spent, length = 0.0, max(q.round_s, 0.001)
    while spent < q.timeout_s and q.left(q.timeout_s) > 0:
        turn = min(length, q.timeout_s - spent)
        outcome = _bit_blasted(hyp, part, q.left(turn))
        if outcome != z3.unknown:
            return outcome, "bit-blasted"
        if q.left(turn) <= 0:
            break
        helped = _bitwuzla(hyp, part, q, turn)
        if helped is None:  # no Bitwuzla for this query: z3 gets the rest of the time in one go
            rest = q.left(q.timeout_s - spent - turn)
            outcome = _bit_blasted(hyp, part, rest) if rest > 0 else z3.unknown
            return outcome, "" if outcome == z3.unknown else "bit-blasted"
        if helped != z3.unknown:
            return helped, "bitwuzla"
        spent, length = spent + turn, length * 4
    return z3.unknown, ""


def _bit_blasted(hyp: z3.BoolRef, part: z3.BoolRef, timeout_s: float) -> z3.CheckSatResult:
    """``hyp and not part`` by eager bit-blasting (reads of the data area Ackermannised first): far faster than
    the incremental array solver on the position arithmetic of several records, but not incremental."""
    if has_quantifier(hyp) or has_quantifier(part) or timeout_s <= 0:
        return z3.unknown
    for tactic in ("ackermannized", "qfaufbv"):
        try:
            t = z3.Then("simplify", "ackermannize_bv", "qfbv") if tactic == "ackermannized" else z3.Tactic(tactic)
            solver = t.solver()
            solver.set("timeout", budget.ms(timeout_s))
            solver.add(hyp, z3.Not(part))
            return solver.check()
        except z3.Z3Exception:
            continue
    return z3.unknown


_RECORD_VARIABLE = re.compile(r"\.r(\d+)\.")
"""How the variables of record i are named in a symbolic state (``specs.smt.fresh_state``): ``s.r<i>.<field>``."""


def _records_in(e: z3.ExprRef) -> frozenset[int]:
    """The records whose variables ``e`` mentions."""
    return fold(e, _records_of_node)


def _records_of_node(x: z3.ExprRef, kids: list[frozenset[int]]) -> frozenset[int]:
    if z3.is_const(x) and x.decl().kind() == z3.Z3_OP_UNINTERPRETED:
        m = _RECORD_VARIABLE.search(x.decl().name())
        if m:
            return frozenset((int(m.group(1)),))
    return frozenset().union(*kids)


def _sliced(hyp: z3.BoolRef, part: z3.BoolRef, q: _Query) -> z3.BoolRef | None:
    """``hyp`` without its conjuncts about records ``part`` does not mention (None when that drops nothing).

    A weakening, so an ``unsat`` on it is still a proof. Most goal conjuncts speak of one or two records, and
    the facts about the other records only slow the eager solvers down: on a 4-record write obligation the
    slice of window_payloads was settled in 38 s where the whole hypothesis took 161 s."""
    parts = _kept(q.split, hyp, None, lambda: [(c, _records_in(c)) for c in _conjuncts(hyp)])
    want = _records_in(part)
    keep = [c for c, records in parts if records <= want]
    return z3.And(keep) if len(keep) < len(parts) else None


def _refuted(solver: z3.Solver, hyp: z3.BoolRef, goal: z3.BoolRef, q: _Query) -> tuple[z3.CheckSatResult, str]:
    """Every conjunct of ``goal`` follows from ``hyp`` (already asserted in ``solver``)? Each conjunct gets
    ``quick_s`` seconds of z3's incremental solver, then the eager solvers (``_eager``), first on the slice of
    the hypothesis about the records the conjunct mentions (``_sliced``), then, if that does not settle it,
    on the whole hypothesis. Returns (result, how the last conjunct that needed the eager solvers was
    settled: "" for none)."""
    helper = ""
    for part in _conjuncts(goal):
        quick = q.left(q.quick_s)
        if quick <= 0:
            return z3.unknown, helper
        solver.set("timeout", budget.ms(quick))
        outcome = solver.check(z3.Not(part))
        if outcome == z3.unknown:
            sliced = _sliced(hyp, part, q)
            if sliced is not None:
                outcome, helper = _eager(sliced, part, q)
                helper = f"sliced, {helper}"
            if outcome != z3.unsat:
                outcome, helper = _eager(hyp, part, q)
        if outcome != z3.unsat:
            return outcome, helper
    return z3.unsat, helper


def _conjuncts(goal: z3.BoolRef) -> list[z3.BoolRef]:
    """``goal`` (simplified) as a list of conjuncts, each checked on its own so z3 refutes one small disjunct
    at a time: top-level ``And`` is split, and so is an ``And`` under an implication (``a -> b and c`` is
    ``a -> b`` and ``a -> c``), which is how the terminal clauses are written."""
    out: list[z3.BoolRef] = []
    todo = [z3.simplify(goal)]
    while todo:
        g = todo.pop()
        if z3.is_and(g):
            todo.extend(reversed(g.children()))
            continue
        if z3.is_implies(g) and z3.is_and(g.arg(1)):
            todo.extend(reversed([z3.Implies(g.arg(0), c) for c in g.arg(1).children()]))
            continue
        if z3.is_or(g):
            ands = [c for c in g.children() if z3.is_and(c)]
            if len(ands) == 1:
                rest = [c for c in g.children() if c is not ands[0] and not c.eq(ands[0])]
                todo.extend(reversed([z3.Or(rest + [c]) for c in ands[0].children()]))
                continue
        out.append(g)
    return out


def _consecution(q: _Query, goal: z3.BoolRef) -> tuple[z3.CheckSatResult, str]:
    """Is ``every_hyp and not goal`` unsatisfiable? Quantifier-free first, then the general solver.

    A quantifier-free goal is tried against the quantifier-free hypotheses only, conjunct by conjunct
    (``_refuted``); a quantified one is Skolemised and the quantified hypotheses are instantiated at its
    witnesses (``checker.smt.quantifiers``). Both are weakenings of the hypotheses, so ``unsat`` there is a proof;
    anything else falls back to z3's general solver on the real formulas, whose answer is the result.
    Every solver call gets what is left of ``q.timeout_s`` for this obligation (``_Query.left``).
    Returns (result, route taken).
    """
    q = replace(q, until=time.monotonic() + q.timeout_s)
    if not has_quantifier(goal):
        outcome, helper = _refuted(q.qf_solver, q.qf_hyp, goal, q)
        if outcome == z3.unsat:
            return outcome, "quantifier-free" + (f", {helper}" if helper else "")
    else:
        # first with the quantified subformulas as free Booleans: a goal whose quantifier does not matter to it
        # is then decided quantifier-free (sound: see abstract_quantifiers); the eager solvers get one round
        # only, since for most quantified goals the quantifier does matter and this try fails
        brief = replace(q, timeout_s=min(q.timeout_s, q.round_s))
        outcome, helper = _refuted(q.qf_solver, q.qf_hyp, abstract_quantifiers(goal), brief)
        if outcome == z3.unsat:
            return outcome, "quantifiers abstracted" + (f", {helper}" if helper else "")
        skolem, witnesses = skolemize_goal(goal)
        hyp = instantiate_hypothesis(q.every_hyp, witnesses)
        if not has_quantifier(skolem) and not has_quantifier(hyp):
            outcome, helper = _refuted(_solver("QF_ABV", q.quick_s, hyp), hyp, skolem, q)
            if outcome == z3.unsat:
                return outcome, "instantiated" + (f", {helper}" if helper else "")
    rest = q.left(q.timeout_s)
    if rest <= 0:
        return z3.unknown, ""
    return _solver(None, rest, q.every_hyp, z3.Not(goal)).check(), "general solver"


@dataclass
class _Round:
    """What every obligation of one consecution round shares: the shape, the ring, the goals assumed."""

    cfg: Config
    ring: Ring
    k_ok: z3.BoolRef
    goals: list[Invariant]
    choices: Choices
    cap: int
    timeout_s: float
    quick_s: float
    round_s: float = ROUND_S
    _terms: dict = field(default_factory=dict)

    def kind_terms(self, kind_index: int):
        """(pre-state, action, hypotheses, enabled, goals over the post-state, indices of goals the step moves),
        built once per action kind."""
        if kind_index not in self._terms:
            self._terms[kind_index] = self._build_terms(action_kinds(self.cfg)[kind_index])
        return self._terms[kind_index]

    def _build_terms(self, kind):
        budget.check_run()  # building the terms of a large shape takes a while too
        cfg, ring = self.cfg, self.ring
        pre = fresh_state(cfg, "s", self.cap)
        hyps = [self.k_ok] + [g.formula(cfg, ring, pre) for g in self.goals]
        a = SymAction.fresh("a")
        unused = [a.args[n] == 0 for n in ARG_NAMES if n not in kind.args]
        enabled = z3.And([guard(cfg, pre, kind, a, self.choices)] + unused)
        post = step_term(cfg, ring, pre, kind, a)
        after = [g.formula(cfg, ring, post) for g in self.goals]
        moved = [gi for gi, h in enumerate(hyps[1:]) if not after[gi].eq(h)]
        return pre, a, hyps, enabled, after, moved

    def case_obligations(self, kind_index: int, case_index: int,
                         each: Callable[[tuple], None] | None = None) -> list[tuple[str | None, str, str, float, str]]:
        """The obligations of one record case of one action kind: (goal name, or None for a lemma; obligation
        name; z3 result; seconds; how) each, also passed to ``each`` as soon as it is settled."""
        kind = action_kinds(self.cfg)[kind_index]
        pre, a, hyps, enabled, after, moved = self.kind_terms(kind_index)
        label, subst, extra = _cases(self.cfg, pre, kind, a)[case_index]
        hyp_qf = [h for h in hyps if not has_quantifier(h)]
        qf_hyp = subst(z3.And(hyp_qf + [enabled, extra]))
        q = _Query(_solver("QF_ABV", self.timeout_s, z3.simplify(qf_hyp)), qf_hyp,
                   subst(z3.And(hyps + [enabled, extra])), self.timeout_s, self.quick_s, self.round_s)
        out = []
        rewrite = lambda f: f
        header = _header_at(self.ring, pre, kind, case_index)
        if header is not None:
            read, word = header
            t = time.perf_counter()
            outcome, how = _consecution(q, read == word)
            out.append((None, f"lemma: the header word read after {kind.actor}.{kind.step}{label} is that record's own",
                        str(outcome), time.perf_counter() - t, how))
            if each:
                each(out[-1])
            if outcome == z3.unsat:
                rewrite = lambda f: z3.substitute(f, (read, word))
        for gi in moved:
            t = time.perf_counter()
            outcome, how = _consecution(q, rewrite(subst(after[gi])))
            name = self.goals[gi].name
            out.append((name, f"consecution: {name} after {kind.actor}.{kind.step}{label}", str(outcome),
                        time.perf_counter() - t, how))
            if each:
                each(out[-1])
        return out


_WORKER_ROUNDS: dict[tuple, _Round] = {}
_WORKER_RESULTS = None
"""In a worker process: the queue each settled obligation is put on, so the prover can print it at once."""


def _start_worker(results) -> None:
    """A worker's set-up: where its results go, and it ends when the prover process does (Linux), so a killed
    proof leaves no solver running."""
    global _WORKER_RESULTS
    _WORKER_RESULTS = results
    interrupt.ignore_in_worker()
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_case(spec: tuple, kind_index: int, case_index: int) -> list[tuple[str, str, float, str]]:
    """In a worker process: rebuild the round from its picklable ``spec`` (once per process) and run one case."""
    rnd = _WORKER_ROUNDS.get(spec)
    if rnd is None:
        cfg_dict, props, live, max_log2, adversary, cap, timeout_s, quick_s, round_s = spec
        cfg = Config.from_dict(json.loads(cfg_dict))
        ring, _, k_ok = Ring.symbolic("k", max_log2)
        goals = [g for g in _goal_list(cfg, list(props)) if g.name in live]
        rnd = _WORKER_ROUNDS[spec] = _Round(cfg, ring, k_ok, goals, Choices(free_sizes=True, adversary=adversary),
                                            cap, timeout_s, quick_s, round_s)
    return rnd.case_obligations(kind_index, case_index, _WORKER_RESULTS.put if _WORKER_RESULTS else None)


def _consecution_round(rnd: _Round, props: list[str], max_log2: int, jobs: int,
                       record: Callable[..., str], bar=None) -> dict[str, list[str]]:
    """Consecution of every goal, assuming all of them, per action kind and record case: the failed ones.

    The cases are independent queries; with ``jobs > 1`` they run in that many worker processes (z3 terms do
    not cross processes, so each worker rebuilds the round from the shape and the goal names).
    """
    failed: dict[str, list[str]] = {}
    units = []
    for ki, kind in enumerate(action_kinds(rnd.cfg)):
        pre, a, hyps, _, after, moved = rnd.kind_terms(ki)
        for gi, g in enumerate(rnd.goals):
            if gi not in moved:
                record(f"consecution: {g.name} after {kind.actor}.{kind.step} (frame: the step changes "
                       "nothing it reads)", z3.unsat, 0.0)
        if moved:
            units += [(ki, ci) for ci in range(len(_cases(rnd.cfg, pre, kind, a)))]

    def take(results: list[tuple[str | None, str, str, float, str]]) -> None:
        for goal, name, outcome, seconds, how in results:
            result = {"unsat": z3.unsat, "sat": z3.sat}.get(outcome, z3.unknown)
            # a lemma that is not proved is simply not used (see case_obligations): no goal fails with it
            if record(name, result, seconds, how) != "discharged" and goal is not None:
                failed.setdefault(goal, []).append(name)

    bar = bar or progress_bar_none()
    bar.grow(len(units))
    if jobs <= 1:
        for ki, ci in units:
            rnd.case_obligations(ki, ci, lambda one: take([one]))
            bar.step()
        return failed
    import multiprocessing
    import queue

    spec = (json.dumps(rnd.cfg.to_dict(), sort_keys=True), tuple(props), tuple(g.name for g in rnd.goals), max_log2,
            rnd.choices.adversary, rnd.cap, rnd.timeout_s, rnd.quick_s, rnd.round_s)
    ctx = multiprocessing.get_context("spawn")
    # each obligation is recorded when its worker settles it (from the queue), not when its whole case ends:
    # a slow case of a 4-record proof runs for minutes, and the log should show what is done meanwhile
    results = ctx.Queue()
    # a Pool, not a ProcessPoolExecutor: on Ctrl-C, SIGTERM or the run's time limit its terminate() ends the
    # workers in the middle of their queries at once, where an executor's shutdown waits for them to finish
    pool = ctx.Pool(jobs, initializer=_start_worker, initargs=(results,))
    try:
        pending = [pool.apply_async(_worker_case, (spec, ki, ci)) for ki, ci in units]
        total = taken = 0
        while pending or taken < total:
            budget.check_run()
            for job in [j for j in pending if j.ready()]:
                total += len(job.get())  # job.get() raises here if the worker did
                pending.remove(job)
                bar.step()
            try:
                take([results.get(timeout=0.2)])
                taken += 1
            except queue.Empty:
                pass
    finally:
        pool.terminate()
        pool.join()
    return failed


def _goal_list(cfg: Config, props: list[str]) -> list[Invariant]:
    """The auxiliary invariants for this shape, then one goal per property."""
    invariants = memory_safety_invariants(cfg)
    if "aligned" in props and not cfg.honest:
        invariants = invariants + [CONSUMER_ALIGNED]
    targets = [Invariant(p.name, p.doc, (lambda p: lambda c, r, s: p.smt(c, r, s, is_terminal(c, s)))(p))
               for p in map(get_property, props)]
    return invariants + targets


def proof_digest(props: list[str], cfg: Config, max_log2: int = 32) -> str:
    """The digest (``checker.smt.digest``) of every term a proof of ``props`` on this shape reasons about: the
    range of k, the goals over the initial state, and per action kind the goals, its guard and the goals over its
    next state. Built in seconds without solving anything, so a kept log can be checked against today's code."""
    ring, _, k_ok = Ring.symbolic("k", max_log2)
    choices = Choices(free_sizes=True, adversary="aligned" if "aligned" in props else "any")
    return _round_digest(_Round(cfg, ring, k_ok, _goal_list(cfg, list(props)), choices, log_capacity(cfg), 0, 0))


def _round_digest(rnd: _Round) -> str:
    """``proof_digest`` of a round that assumes every goal (``prove`` reuses its terms for its first round)."""
    init = initial_symbolic(rnd.cfg, z3.BitVec("start", 64), rnd.cap)
    terms = [rnd.k_ok] + [g.formula(rnd.cfg, rnd.ring, init) for g in rnd.goals]
    for ki in range(len(action_kinds(rnd.cfg))):
        _, _, hyps, enabled, after, _ = rnd.kind_terms(ki)
        terms += hyps + [enabled] + after
    return term_digest(terms)


def prove(props: list[str], cfg: Config, max_log2: int = 32, progress=None, cex_depth: int = 10,
          cex_max_log2: int = 7, timeout_s: float = 600.0, quick_s: float = 5.0, jobs: int = 1,
          round_s: float = ROUND_S, max_seconds: float | None = None, bar=None) -> ProofResult:
    """Prove ``props`` for ``cfg``'s variant and shape by one inductive invariant (see the module docstring).

    ``jobs`` worker processes share the consecution queries (the order of the obligations is then the order
    they finish in). A query z3's incremental solver does not settle in ``quick_s`` goes to z3's bit-blaster
    and Bitwuzla in turn, in rounds of ``round_s`` seconds, then 4 times longer each round, until each has
    had ``timeout_s`` (``_eager``); no obligation takes longer than ``timeout_s`` in all. ``max_seconds``
    bounds the whole run, counterexample searches included: what is not settled by then is "unknown" and
    ``bound`` says why. On Ctrl-C or SIGTERM (``checker.interrupt``) the obligations settled so far are kept
    and ``interrupted`` names the signal. ``bar``: a ``checker.progress.Bar`` counting the record cases.
    """
    t0 = time.perf_counter()
    for name, value in (("timeout", timeout_s), ("round-seconds", round_s), ("max-seconds", max_seconds)):
        budget.check_seconds(name, value)
    quick_s = min(quick_s, timeout_s)
    ps = [get_property(n) for n in props]
    aligned = "aligned" in props
    choices = Choices(free_sizes=True, adversary="aligned" if aligned else "any")
    goals = _goal_list(cfg, list(props))
    invariants = [g for g in goals if g.name not in props]
    ring, _, k_ok = Ring.symbolic("k", max_log2)
    cap = log_capacity(cfg)
    every_goal = _Round(cfg, ring, k_ok, goals, choices, cap, timeout_s, quick_s, round_s)
    res = ProofResult(list(props), cfg, {}, assumptions_for(cfg, choices, max_log2), invariants,
                      max_log2=max_log2)
    if cfg.honest:
        res.assumptions.append(
            f"the ghost log of deliveries has {cap} places (one per record); the invariant log_room shows a "
            "pending delivery always finds one, so the bound is exact")
    bar = bar or progress_bar_none()

    def record(name: str, outcome: z3.CheckSatResult, sec: float, how: str = "") -> str:
        result = "discharged" if outcome == z3.unsat else "failed" if outcome == z3.sat else "unknown"
        res.obligations.append(Obligation(name, result, sec, how))
        bar.note(f"{len(res.obligations)} obligations settled")
        if progress:
            progress(f"  {name}: {result}{f' by {how}' if how else ''} ({sec:.2f}s)")
        return result

    try:
        with budget.run_limit(max_seconds):
            res.digest = _round_digest(every_goal)
            _settle(res, ps, goals, invariants, every_goal, record, progress, bar, jobs, max_log2, cex_depth,
                    cex_max_log2, timeout_s)
    except budget.OutOfTime as stop:
        res.bound = stop.bound
        res.cut_short(list(props), f"the run's time limit {stop.bound} was reached")
    except interrupt.Interrupted as stop:
        res.interrupted = stop.signal_name
        res.cut_short(list(props), f"interrupted by {stop.signal_name}")
    res.seconds = time.perf_counter() - t0
    return res


def progress_bar_none():
    """A bar that shows nothing (``checker.progress.Bar`` when none is given)."""
    from checker.progress import Bar

    return Bar("", enabled=False)


def _settle(res: ProofResult, ps: list, goals: list[Invariant], invariants: list[Invariant], every_goal: _Round,
            record: Callable[..., str], progress, bar, jobs: int, max_log2: int, cex_depth: int,
            cex_max_log2: int, timeout_s: float) -> None:
    """Initiation, the Houdini rounds of consecution, then a verdict per property (``prove``'s work, filling
    ``res`` as it goes so that a run cut short keeps what it settled)."""
    cfg, ring, k_ok, choices, cap = every_goal.cfg, every_goal.ring, every_goal.k_ok, every_goal.choices, every_goal.cap
    props = [p.name for p in ps]
    start = z3.BitVec("start", 64)
    init = initial_symbolic(cfg, start, cap)
    failed: dict[str, list[str]] = {g.name: [] for g in goals}
    for g in goals:
        t = time.perf_counter()
        s = z3.SolverFor("QF_BV")
        s.add(k_ok, start & 7 == 0)
        outcome = _check(s, z3.Not(g.formula(cfg, ring, init)), timeout_s)
        if record(f"initiation: {g.name}", outcome, time.perf_counter() - t) != "discharged":
            failed[g.name].append("initiation")

    # Houdini-style: a goal whose obligation fails is dropped, and the rest are checked again without
    # assuming it, until no obligation fails. What is left is inductive on its own.
    live = [g for g in goals if not failed[g.name]]
    rounds = 0
    while True:
        rounds += 1
        prefix = "" if rounds == 1 else f"round {rounds}: "
        rnd = (every_goal if len(live) == len(goals) else
               _Round(cfg, ring, k_ok, live, choices, cap, every_goal.timeout_s, every_goal.quick_s,
                      every_goal.round_s))
        new = _consecution_round(rnd, props, max_log2, jobs,
                                 lambda name, *args, prefix=prefix: record(prefix + name, *args), bar)
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
    for p in ps:
        if failed[p.name]:
            bar.note(f"counterexample search for {p.name}")
            trace, searched = find_counterexample(p.name, cfg, cex_depth, cex_max_log2, progress, timeout_s)
            if trace is not None:
                res.traces[p.name] = trace
                res.verdicts[p.name] = (f"violated (trace of {len(trace)} steps at S={trace.config.ring_size}, "
                                        f"start={trace.start})")
            else:
                res.verdicts[p.name] = (f"unknown: obligations not discharged (first: {failed[p.name][0]}); "
                                        f"{searched}")


def find_counterexample(prop: str, cfg: Config, depth: int, max_log2: int, progress=None,
                        timeout_s: float = 600.0) -> tuple[Trace | None, str]:
    """BMC over the widened system: symbolic k <= max_log2, start and sizes; the adversary stores multiples of 8
    within 2*S of producer_pos (the explicit model's default reach, so the trace replays there).

    Returns (the trace, or None; what was searched, in words). Each depth's query gets ``timeout_s`` and what
    the run has left (``checker.smt.budget``); a depth left open ends the search there, and the words say so:
    "no counterexample within N steps" only when every depth up to N was answered."""
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
        outcome = _check(solver, z3.Not(p.smt(cfg, ring, s, is_terminal(cfg, s))), timeout_s)
        if progress:
            progress(f"  counterexample search, depth {d}: {outcome} ({time.perf_counter() - t:.2f}s)")
        if outcome == z3.sat:
            return _decode(prop, cfg, solver.model(), states, actions, kinds, k, start), f"a trace at depth {d}"
        if outcome != z3.unsat:
            interrupt.raise_if_requested()
            budget.check_run(slack=0.1)
            return None, (f"no counterexample within {d - 1} steps for k <= {max_log2}; depth {d} not settled "
                          f"within {timeout_s:g}s")
        solver.pop()
    return None, f"no counterexample within {depth} steps for k <= {max_log2}"


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
    trace.reason = get_property(prop).check(concrete, final, build_model(concrete, trace.start).is_terminal(final))
    replay_or_raise(trace)
    if trace.reason is None:
        raise ReplayMismatch(f"prove: z3 says {prop} fails, the Python predicate holds in the final state")
    return trace

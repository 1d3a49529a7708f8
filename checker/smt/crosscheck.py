"""The cross-check: the explicit model and the SMT encoding must say the same thing.

For one configuration, the reachable states are enumerated explicitly (BFS,
complete), then on the checked states:

(a) every property's Python predicate and its SMT encoding agree (violating
    states included: they are always put in the sample first);
(b) every explicit transition satisfies its SMT formula (``action_formula``:
    guard, unused arguments 0, next state equal);
(c) the SMT successors, enumerated with blocking clauses, are exactly the
    explicit successors (same actions, same states).

Building z3 terms costs milliseconds, so (a)/(b) and (c) run on seeded
samples of at most ``states`` and ``successor_states`` states when the
reachable set is larger; the report says how many of how many were checked,
and never says "every state" unless it was every state. A disagreement
carries the state, the action and what each side said; the first one found
in BFS order (so at the smallest depth) is kept per kind and name.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import z3

from checker.smt.codec import Evaluator, decode_state, encode_state
from checker.smt.transition import (ARG_NAMES, Kind, SymAction, action_formula, action_kinds,
                                    decode_action, guard, step_term, unroll_step)
from model.actions import Action
from model.codec import state_view
from model.config import Config
from model.ringbuf import RingBufModel
from model.state import State
from specs import all_properties
from specs.smt import Ring, bv, state_eq


def default_configs() -> list[Config]:
    """Small configurations covering the three variants and the three consumers, some reaching violations."""
    return [
        Config(variant="v5.8", consumer="adversarial", ring_size=32, sizes=(8, 40)),
        Config(variant="v5.13", consumer="adversarial", ring_size=32, hold=2, sizes=(8, 16)),
        Config(variant="v6.10", consumer="adversarial", ring_size=32, hold=2, sizes=(8, 16), nmi=True,
               adversary_reach=32),
        Config(variant="v5.8", consumer="level", ring_size=32, hold=2, sizes=(8, 16), discard=True,
               wakeup_flags=True),
        Config(variant="v5.13", consumer="edge", ring_size=32, producers=2, records=1, sizes=(8, 16),
               discard=True),
        Config(variant="v6.10", consumer="level", ring_size=64, hold=2, sizes=(8, 24), discard=True),
        Config(variant="v6.10", consumer="edge", ring_size=32, producers=2, records=1, sizes=(8,), nmi=True,
               wakeup_flags=True),
    ]


@dataclass
class Disagreement:
    """One place where the two encodings differ."""

    check: str
    """``property`` (a), ``transition`` (b) or ``successors`` (c)."""
    name: str
    """The property or action name."""
    state: State
    action: str | None
    detail: str
    """Which side says what."""

    def format(self, cfg: Config) -> str:
        """The example for people: the state (non-empty parts), the action, the two answers."""
        view = state_view(self.state)
        shown = ", ".join(f"{k}={v}" for k, v in view.items() if v not in ("-", "", "unused"))
        head = f"[{self.check}] {self.name}" + (f" on {self.action}" if self.action else "")
        return f"{head}\n    config: {cfg.describe()}\n    state:  {shown}\n    {self.detail}"

    def to_dict(self) -> dict:
        """JSON form."""
        return {"check": self.check, "name": self.name, "action": self.action, "detail": self.detail,
                "state": state_view(self.state)}


@dataclass
class ConfigReport:
    """What the cross-check did for one configuration."""

    config: Config
    reachable: int = 0
    checked: int = 0
    """States on which (a) and (b) ran."""
    successor_checked: int = 0
    """States on which (c) ran."""
    violating: int = 0
    """Checked states where some predicate fails."""
    transitions: int = 0
    seconds: float = 0.0
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        """True unless (a), (b) and (c) ran on every reachable state."""
        return self.checked < self.reachable or self.successor_checked < self.reachable

    def line(self) -> str:
        """One summary line."""
        cover = ("all states" if not self.sampled else
                 f"sampled: (a)(b) on {self.checked} of {self.reachable} reachable states, "
                 f"(c) on {self.successor_checked}")
        return (f"{self.config.describe():62} {self.reachable:>6} reachable; {cover}; "
                f"{self.violating} violating, {self.transitions} transitions; "
                f"{len(self.disagreements)} disagreements; {self.seconds:.1f}s")

    def to_dict(self) -> dict:
        """JSON form."""
        return {"config": self.config.to_dict(), "reachable": self.reachable, "checked": self.checked,
                "successor_checked": self.successor_checked, "sampled": self.sampled,
                "violating": self.violating, "transitions": self.transitions,
                "seconds": round(self.seconds, 2), "disagreements": [d.to_dict() for d in self.disagreements]}


def reachable_states(cfg: Config, limit: int = 300_000) -> list[State]:
    """Every reachable state in BFS order (ValueError past ``limit``: choose a smaller configuration)."""
    m = RingBufModel(cfg)
    order = list(m.initial_states())
    seen = set(order)
    i = 0
    while i < len(order):
        for _, n in m.successors(order[i]):
            if n not in seen:
                seen.add(n)
                order.append(n)
                if len(order) > limit:
                    raise ValueError(f"crosscheck: more than {limit} reachable states; use a smaller configuration")
        i += 1
    return order


def _sample(states: list[State], bad: set[int], n: int, rng: random.Random) -> list[int]:
    """Indices to check, in BFS order: every violating state first (up to n/2), then a seeded sample."""
    if len(states) <= n:
        return list(range(len(states)))
    picked = sorted(bad)[: n // 2]
    rest = [i for i in range(len(states)) if i not in set(picked)]
    picked += rng.sample(rest, n - len(picked))
    return sorted(picked)


def _sym_action(kinds: list[Kind], a: Action) -> tuple[Kind, SymAction]:
    kind = next(k for k in kinds if (k.actor, k.step) == (a.actor, a.step))
    vals = dict(a.args)
    return kind, SymAction(bv(kinds.index(kind)), {n: bv(vals.get(n, 0)) for n in ARG_NAMES})


def check_properties(cfg: Config, ring: Ring, s: State, terminal: bool, cap: int) -> list[Disagreement]:
    """(a) on one state."""
    sym = encode_state(cfg, s, cap)
    out = []
    for p in all_properties():
        py = p.check(cfg, s, terminal)
        sm = z3.simplify(p.smt(cfg, ring, sym, terminal))
        if not (z3.is_true(sm) or z3.is_false(sm)):
            out.append(Disagreement("property", p.name, s, None, f"SMT does not reduce to a value: {sm}"))
        elif (py is None) != z3.is_true(sm):
            py_says = "holds" if py is None else f"violated ({py})"
            out.append(Disagreement("property", p.name, s, None,
                                    f"Python predicate: {py_says}; SMT encoding: "
                                    f"{'holds' if z3.is_true(sm) else 'violated'}"))
    return out


def check_transitions(cfg: Config, ring: Ring, kinds: list[Kind], s: State,
                      succ: list[tuple[Action, State]], cap: int) -> list[Disagreement]:
    """(b) on one state: each explicit (action, next) satisfies the action's formula."""
    sym = encode_state(cfg, s, cap)
    out = []
    for a, nxt in succ:
        kind, sa = _sym_action(kinds, a)
        f = z3.simplify(action_formula(cfg, ring, sym, kind, sa, encode_state(cfg, nxt, cap)))
        if not z3.is_true(f):
            g = z3.is_true(z3.simplify(guard(cfg, sym, kind, sa)))
            try:
                smt_next = decode_state(cfg, Evaluator(), step_term(cfg, ring, sym, kind, sa))
                want, got = state_view(nxt), state_view(smt_next)
                diff = "; ".join(f"{k}: explicit {want.get(k)} / SMT {got.get(k)}"
                                 for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k))
            except ValueError as e:
                diff = f"SMT next state does not evaluate ({e})"
            detail = ("explicit model takes it; SMT guard is false" if not g else
                      f"explicit next state does not satisfy the SMT formula: {diff}")
            out.append(Disagreement("transition", f"{a.actor}.{a.step}", s, str(a), detail))
    return out


def check_successors(cfg: Config, ring: Ring, kinds: list[Kind], s: State,
                     succ: list[tuple[Action, State]], cap: int, limit: int = 500) -> list[Disagreement]:
    """(c) on one state: enumerate SMT successors with blocking clauses and compare the sets."""
    sym = encode_state(cfg, s, cap)
    a = SymAction.fresh("a")
    step, nxt = unroll_step(cfg, ring, sym, a, "next", cap, kinds)
    solver = z3.SolverFor("QF_BV")
    solver.add(step)
    found: set[tuple[Action, State]] = set()
    while len(found) <= limit and solver.check() == z3.sat:
        ev = Evaluator(solver.model())
        kind = kinds[ev.u(a.kind)]
        act = decode_action(kind, {n: ev.u(a.args[n]) for n in ARG_NAMES})
        state = decode_state(cfg, ev, nxt)
        found.add((act, state))
        _, concrete = _sym_action(kinds, act)
        same_action = z3.And([a.kind == concrete.kind] + [a.args[n] == concrete.args[n] for n in ARG_NAMES])
        solver.add(z3.Not(z3.And(same_action, state_eq(ring, nxt, encode_state(cfg, state, cap)))))
    explicit = set(succ)
    out = []
    for act, st in sorted(found - explicit, key=str):
        other = [x for x, y in explicit if x == act]
        what = "explicit model leads elsewhere" if other else "explicit model does not offer it"
        out.append(Disagreement("successors", f"{act.actor}.{act.step}", s, str(act),
                                f"SMT has this successor; {what}"))
    for act, st in sorted(explicit - found, key=str):
        out.append(Disagreement("successors", f"{act.actor}.{act.step}", s, str(act),
                                "explicit successor; SMT enumeration does not produce it"))
    return out


def crosscheck(cfg: Config, states: int = 300, successor_states: int = 30, seed: int = 0,
               progress=None) -> ConfigReport:
    """Run (a), (b), (c) on one configuration; see the module docstring for the sampling."""
    t0 = time.perf_counter()
    rep = ConfigReport(cfg)
    model = RingBufModel(cfg)
    order = reachable_states(cfg)
    rep.reachable = len(order)
    cap = max(len(s.delivered) for s in order) + 1
    ring = Ring.of(cfg)
    kinds = action_kinds(cfg)
    props = all_properties()
    bad = {i for i, s in enumerate(order)
           if any(p.check(cfg, s, model.is_terminal(s)) is not None for p in props)}
    rng = random.Random(seed)
    ab = _sample(order, bad, states, rng)
    c_set = set(_sample(order, bad, successor_states, rng))
    rep.checked, rep.successor_checked = len(ab), len(c_set)
    rep.violating = len(bad & set(ab))
    firsts: dict[tuple[str, str], Disagreement] = {}
    for n, i in enumerate(ab):
        s = order[i]
        succ = model.successors(s)
        rep.transitions += len(succ)
        found = check_properties(cfg, ring, s, model.is_terminal(s), cap)
        found += check_transitions(cfg, ring, kinds, s, succ, cap)
        if i in c_set:
            found += check_successors(cfg, ring, kinds, s, succ, cap)
        for d in found:
            firsts.setdefault((d.check, d.name), d)
        if progress and n % 100 == 99:
            progress(f"  ... {n + 1}/{len(ab)} states, {len(firsts)} disagreements")
    rep.disagreements = list(firsts.values())
    rep.seconds = time.perf_counter() - t0
    return rep

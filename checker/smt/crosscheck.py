"""The cross-check: the explicit model and the SMT encoding must say the same thing, on every state.

For one configuration, the reachable states are enumerated explicitly (BFS,
complete), then on every one of them:

(a) every property's Python predicate and its SMT encoding agree (violating
    states included);
(b) every explicit transition satisfies its SMT formula (``action_formula``:
    guard, unused arguments 0, next state equal);
(c) the SMT successors are exactly the explicit successors (same actions,
    same states): the actions the SMT relation enables are enumerated with
    blocking clauses, and each one's SMT next state (the merged ``next_state``
    term that BMC unrolls) is compared with the explicit one.

Why this is affordable on every state: the terms are built once per
configuration over a state of named constants and evaluated per state by z3
in one model (``checker.smt.concrete``), instead of being rebuilt per state.
The enumeration of (c) runs once per action kind and per valuation of the
pre-state constants that kind's enabling formula mentions (its free
constants, read off the term): states that agree on those have, provably, the
same enabled actions of that kind, so they share one enumeration.

``states`` / ``successor_states`` are an explicit opt-in for configurations
too big for that: then (a)/(b) and (c) run on seeded samples (violating
states first), and the report says how many of how many were checked; it
says "all states" only when it was all of them. A disagreement carries the
state, the action and what each side said; the first one found in BFS order
(so at the smallest depth) is kept per kind and name. ``check_properties``,
``check_transitions`` and ``check_successors`` are the per-state reference
path (terms rebuilt on constants, then simplified): slow, used to explain a
disagreement and, in the tests, to confirm the fast path.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import z3

from checker import interrupt
from checker.memory import MemoryBudget, MemoryLimitReached
from checker.smt import budget, require_encoded
from checker.smt.codec import Evaluator, decode_state, encode_state
from checker.smt.concrete import (
    Valuation,
    constants_in,
    flat_values,
    pack,
    variable_state,
)
from checker.smt.transition import (
    ARG_NAMES,
    Kind,
    SymAction,
    action_formula,
    action_kinds,
    decode_action,
    guard,
    next_state,
    step_term,
    unroll_step,
)
from model.actions import Action
from model.codec import state_view
from model.config import Config
from model.constants import U64
from model.ringbuf import build_model
from model.state import State
from specs import all_properties
from specs.smt import Ring, bv, state_eq


def default_configs() -> list[Config]:
    """Small configurations covering the three variants and the three consumers, some reaching violations.

    Every reachable state of all seven (43k states, 425k transitions) is cross-checked in about a
    minute on two cores; v5.8 adversarial reaches in_bounds violations, v5.13 adversarial no_overlap.
    """
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
    interrupted: str | None = None
    """The signal that cut the check short (the counts above are what was checked before it)."""
    bound: str | None = None
    """``max_seconds=N`` when the run's time limit cut the check short."""

    @property
    def cut_short(self) -> str | None:
        """Why the check stopped before its states were all checked (None: it did not)."""
        return f"interrupted by {self.interrupted}" if self.interrupted else self.bound

    @property
    def sampled(self) -> bool:
        """True unless (a), (b) and (c) ran on every reachable state."""
        return self.checked < self.reachable or self.successor_checked < self.reachable

    def line(self) -> str:
        """One summary line."""
        how = f"cut short ({self.cut_short})" if self.cut_short else "sampled"
        cover = ("all states" if not self.sampled and not self.cut_short else
                 f"{how}: (a)(b) on {self.checked} of {self.reachable} reachable states, "
                 f"(c) on {self.successor_checked}")
        return (f"{self.config.describe():62} {self.reachable:>6} reachable; {cover}; "
                f"{self.violating} violating, {self.transitions} transitions; "
                f"{len(self.disagreements)} disagreements; {self.seconds:.1f}s")

    def to_dict(self) -> dict:
        """JSON form."""
        return {"config": self.config.to_dict(), "reachable": self.reachable, "checked": self.checked,
                "successor_checked": self.successor_checked, "sampled": self.sampled,
                "interrupted": self.interrupted, "bound": self.bound,
                "violating": self.violating, "transitions": self.transitions,
                "seconds": round(self.seconds, 2), "disagreements": [d.to_dict() for d in self.disagreements]}


def reachable_states(cfg: Config, limit: int = 300_000, memory: MemoryBudget | None = None) -> list[State]:
    """Every reachable state in BFS order (ValueError past ``limit``: choose a smaller configuration).

    With ``memory``, MemoryLimitReached once the process holds more than its budget; OutOfTime once the
    run's time limit (``checker.smt.budget``) has passed.
    """
    m = build_model(cfg)
    order = list(m.initial_states())
    seen = set(order)
    i = 0
    while i < len(order):
        if i & 255 == 255:
            budget.check_run()
            if memory is not None:
                memory.check()
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
    for p in all_properties(cfg):
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


class CompiledChecks:
    """The terms of (a), (b), (c) for one configuration, built once over variable states.

    Built when a cross-check starts, never at import, so that an encoding
    replaced at run time (a test planting a bug) is the one checked. A state is
    plugged in with ``set_state``; the other methods then answer for it.
    """

    def __init__(self, cfg: Config, log_capacity: int, kinds: list[Kind]) -> None:
        ring = Ring.of(cfg)
        pre, pre_vars = variable_state(cfg, "pre", log_capacity)
        nxt, next_vars = variable_state(cfg, "next", log_capacity)
        a = SymAction.fresh("a")
        self.pre_vars = pre_vars
        self.act_vars = [a.kind] + [a.args[n] for n in ARG_NAMES]
        self.kinds = kinds
        self.valuation = Valuation()
        self._pre = self.valuation.binder(pre_vars)
        self._next = self.valuation.binder(next_vars)
        self._act = self.valuation.binder(self.act_vars)
        props = all_properties(cfg)
        self.properties_checked = [p.name for p in props]
        self._props = {t: pack([p.smt(cfg, ring, pre, t) for p in props]) for t in (False, True)}
        enabled, merged = next_state(cfg, ring, pre, a, kinds)
        successor = z3.And(enabled, state_eq(ring, nxt, merged))
        self._transitions = [pack([action_formula(cfg, ring, pre, k, a, nxt), successor]) for k in kinds]
        self._solver = z3.SolverFor("QF_BV")
        self._solver.add(enabled)
        self._groups: list[tuple[z3.BoolRef, list[int]]] = []
        for i in range(len(kinds)):
            used = constants_in(z3.simplify(z3.substitute(enabled, (a.kind, bv(i)))))
            self._groups.append((a.kind == i, self._positions(used)))
        stray = z3.UGE(a.kind, len(kinds))
        probe = z3.SolverFor("QF_BV")
        probe.add(enabled, stray)
        if probe.check() != z3.unsat:
            self._groups.append((stray, self._positions(constants_in(z3.And(enabled, stray)))))
        self._cache: list[dict[tuple, list[tuple[int, ...]]]] = [{} for _ in self._groups]
        self._values: tuple = ()

    def _positions(self, used: set[int]) -> list[int]:
        return [j for j, v in enumerate(self.pre_vars) if v.get_id() in used]

    def set_state(self, values: tuple) -> None:
        """The pre-state from now on (``flat_values`` of it)."""
        self._pre.set(values)
        self._values = values

    def properties(self, terminal: bool) -> list[bool]:
        """Per property (``all_properties`` order): does its SMT encoding hold in the pre-state."""
        bits = self.valuation.bits(self._props[terminal])
        return [bool(bits >> i & 1) for i in range(len(self.properties_checked))]

    def transition(self, key: tuple[int, ...], next_values: tuple) -> tuple[bool, bool]:
        """(b) the action's formula holds, (c) the merged step relation holds, for pre --key--> next."""
        self._act.set(key)
        self._next.set(next_values)
        bits = self.valuation.bits(self._transitions[key[0]])
        return bool(bits & 1), bool(bits & 2)

    def smt_actions(self, limit: int) -> tuple[set[tuple[int, ...]], bool]:
        """(actions the SMT relation enables in the pre-state as (kind, args...), True if ``limit`` was hit)."""
        out: set[tuple[int, ...]] = set()
        over = False
        for g, (extra, pos) in enumerate(self._groups):
            key = tuple(self._values[j] for j in pos)
            hit = self._cache[g].get(key)
            if hit is None:
                hit = self._cache[g][key] = self._enumerate(extra, pos, key, limit)
            out.update(hit)
            over = over or len(hit) > limit
        return out, over

    def _enumerate(self, extra: z3.BoolRef, pos: list[int], key: tuple, limit: int) -> list[tuple[int, ...]]:
        solver = self._solver
        solver.push()
        solver.add(extra)
        for j, v in zip(pos, key):
            x = self.pre_vars[j]
            solver.add(x == self.valuation.value(v, z3.is_bool(x)))
        found: list[tuple[int, ...]] = []
        while len(found) <= limit:
            res = solver.check()
            if res == z3.unknown:
                raise RuntimeError(f"z3 returned unknown while enumerating successors: {solver.reason_unknown()}")
            if res == z3.unsat:
                break
            m = solver.model()
            vals = tuple(m.eval(x, model_completion=True).as_long() for x in self.act_vars)
            found.append(vals)
            solver.add(z3.Or([x != v for x, v in zip(self.act_vars, vals)]))
        solver.pop()
        return found


def action_key(index: dict[tuple[str, str], int], a: Action) -> tuple[int, ...]:
    """``a`` as (kind index, one value per ``ARG_NAMES``, 0 when not taken): the SMT action's values."""
    vals = dict(a.args)
    return (index[(a.actor, a.step)],) + tuple(vals.get(n, 0) & U64 for n in ARG_NAMES)


def _key_action(kinds: list[Kind], key: tuple[int, ...]) -> tuple[str, str]:
    """(name, action text) of an SMT action key, also for a kind outside the configuration."""
    if key[0] >= len(kinds):
        return f"kind {key[0]}", f"kind {key[0]} {dict(zip(ARG_NAMES, key[1:]))}"
    kind = kinds[key[0]]
    return f"{kind.actor}.{kind.step}", str(decode_action(kind, dict(zip(ARG_NAMES, key[1:]))))


def _explain_transition(cfg: Config, ring: Ring, kinds: list[Kind], s: State, a: Action, nxt: State,
                        cap: int) -> Disagreement:
    """(b) failed on the fast path: the reference path says why (or that the two paths differ)."""
    found = check_transitions(cfg, ring, kinds, s, [(a, nxt)], cap)
    if found:
        return found[0]
    return Disagreement("transition", f"{a.actor}.{a.step}", s, str(a),
                        "z3 evaluation: the explicit transition does not satisfy the SMT formula; "
                        "simplifying the formula on constants: it does (evaluation paths differ)")


def _next_diff(cfg: Config, ring: Ring, kinds: list[Kind], s: State, a: Action, nxt: State, cap: int) -> str:
    """Where the SMT step relation's next state (merged ``next_state`` term) differs from the explicit one."""
    _, sa = _sym_action(kinds, a)
    try:
        _, term = next_state(cfg, ring, encode_state(cfg, s, cap), sa, kinds)
        want, got = state_view(nxt), state_view(decode_state(cfg, Evaluator(), term))
    except ValueError as e:
        return f"SMT next state does not evaluate ({e})"
    return "; ".join(f"{k}: explicit {want.get(k)} / SMT {got.get(k)}"
                     for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k))


def crosscheck(cfg: Config, states: int | None = None, successor_states: int | None = None, seed: int = 0,
               progress: Callable[[str], None] | None = None, successor_limit: int = 500,
               max_seconds: float | None = None, bar=None, memory: MemoryBudget | None = None) -> ConfigReport:
    """Run (a), (b), (c) on every reachable state of one configuration (or, opted in, on seeded samples).

    ``states``: check (a)/(b) on at most this many states; ``successor_states``: (c) on at most this
    many; None (the default) means every reachable state. See the module docstring. ``max_seconds``
    bounds the run; when it passes, or on Ctrl-C or SIGTERM (``checker.interrupt``), the report counts
    what was checked and the disagreements found so far, and ``cut_short`` says why. ``bar``: a
    ``checker.progress.Bar`` counting the states checked. ``memory``: a budget looked at while the
    states are enumerated and checked; at it, or on a MemoryError, the report is cut short the same
    way, its bound ``max_memory=...``.
    """
    require_encoded(cfg, "crosscheck")
    t0 = time.perf_counter()
    rep = ConfigReport(cfg)
    firsts: dict[tuple[str, str], Disagreement] = {}
    out_of_memory = False
    try:
        with budget.run_limit(max_seconds):
            _check_states(rep, firsts, states, successor_states, seed, progress, successor_limit, bar, t0,
                          memory)
    except budget.OutOfTime as stop:
        rep.bound = stop.bound
    except MemoryLimitReached as stop:
        rep.bound = stop.bound
    except MemoryError:
        out_of_memory = True
    except interrupt.Interrupted as stop:
        rep.interrupted = stop.signal_name
    if out_of_memory:
        memory = memory or MemoryBudget()
        memory.ran_out()
        rep.bound = memory.bound()
    rep.disagreements = list(firsts.values())
    rep.seconds = time.perf_counter() - t0
    return rep


def _check_states(rep: ConfigReport, firsts: dict, states: int | None, successor_states: int | None, seed: int,
                  progress: Callable[[str], None] | None, successor_limit: int, bar, t0: float,
                  memory: MemoryBudget | None = None) -> None:
    """``crosscheck``'s work, counting into ``rep`` and ``firsts`` state by state."""
    cfg = rep.config
    model = build_model(cfg)
    order = reachable_states(cfg, memory=memory)
    rep.reachable = len(order)
    cap = max(len(s.delivered) for s in order) + 1
    ring = Ring.of(cfg)
    kinds = action_kinds(cfg)
    index = {(k.actor, k.step): i for i, k in enumerate(kinds)}
    props = all_properties(cfg)
    terminal = [model.is_terminal(s) for s in order]
    verdicts = [[p.check(cfg, s, t) for p in props] for s, t in zip(order, terminal)]
    bad = {i for i, v in enumerate(verdicts) if any(r is not None for r in v)}
    rng = random.Random(seed)
    everything = list(range(len(order)))
    ab = set(everything if states is None else _sample(order, bad, states, rng))
    c_set = set(everything if successor_states is None else _sample(order, bad, successor_states, rng))
    budget.check_run()
    terms = CompiledChecks(cfg, cap, kinds)
    flat: dict[State, tuple] = {}

    def values(s: State) -> tuple:
        v = flat.get(s)
        if v is None:
            v = flat[s] = flat_values(cfg, s, cap)
        return v

    def note(d: Disagreement) -> None:
        firsts.setdefault((d.check, d.name), d)

    todo = sorted(ab | c_set)
    if bar is not None:
        bar.grow(len(todo))
    for n, i in enumerate(todo):
        if n % 64 == 63:
            budget.check_run()
            if memory is not None:
                memory.check()
            if bar is not None:
                bar.step(64)
                bar.note(f"{cfg.variant} {cfg.consumer}, {len(firsts)} disagreements")
        s = order[i]
        terms.set_state(values(s))
        if i in ab:
            for p, py, holds in zip(props, verdicts[i], terms.properties(terminal[i])):
                if (py is None) != holds:
                    py_says = "holds" if py is None else f"violated ({py})"
                    note(Disagreement("property", p.name, s, None, f"Python predicate: {py_says}; "
                                      f"SMT encoding: {'holds' if holds else 'violated'}"))
        explicit: dict[tuple[int, ...], tuple[Action, State, bool]] = {}
        for a, nxt in model.successors(s):
            key = action_key(index, a)
            in_formula, in_relation = terms.transition(key, values(nxt))
            explicit[key] = (a, nxt, in_relation)
            if i in ab:
                rep.transitions += 1
                if not in_formula and ("transition", f"{a.actor}.{a.step}") not in firsts:
                    note(_explain_transition(cfg, ring, kinds, s, a, nxt, cap))
        if i in c_set:
            smt, over = terms.smt_actions(successor_limit)
            if over:
                note(Disagreement("successors", "enumeration", s, None,
                                  f"SMT enumeration has more than {successor_limit} successors of one kind"))
            for key in sorted(smt - explicit.keys()):
                name, text = _key_action(kinds, key)
                note(Disagreement("successors", name, s, text, "SMT has this successor; explicit model does not offer it"))
            for key, (a, nxt, in_relation) in explicit.items():
                name = f"{a.actor}.{a.step}"
                if key not in smt:
                    note(Disagreement("successors", name, s, str(a),
                                      "explicit successor; SMT enumeration does not produce it"))
                elif not in_relation and ("successors", name) not in firsts:
                    note(Disagreement("successors", name, s, str(a),
                                      "SMT has this successor; explicit model leads elsewhere: "
                                      + _next_diff(cfg, ring, kinds, s, a, nxt, cap)))
            rep.successor_checked += 1
        if i in ab:
            rep.checked += 1
            rep.violating += i in bad
        if progress and n % 2000 == 1999:
            progress(f"  ... {n + 1}/{len(todo)} states, {len(firsts)} disagreements, "
                     f"{time.perf_counter() - t0:.0f}s")
    if bar is not None:
        bar.step(len(todo) % 64)

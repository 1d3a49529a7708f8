"""The user ring's cross-check: the explicit model and the SMT encoding agree on every reachable state.

As ``checker.smt.crosscheck`` for the kernel ring, on every reachable state of
one user configuration (BFS, complete):

(a) every user-ring property's Python predicate and its ``@smt_of`` encoding
    agree (violating states included), and so do ``UserRingModel.is_terminal``
    and its term (``checker.smt.user.transition.is_terminal``);
(b) every explicit transition satisfies its SMT formula (guard, unused
    arguments 0, next state equal);
(c) the SMT successors are exactly the explicit successors: the actions the
    SMT relation enables are enumerated with blocking clauses (once per
    action kind and valuation of the pre-state constants its enabling
    formula mentions), and each one's merged next state is compared with the
    explicit one.

The terms are built once over a state of named constants and evaluated per
state in one z3 model (``checker.smt.concrete.Valuation``). ``checks`` is the
drain's per-sample check tuple, given to both sides (a deleted check is
deleted in both). The report is the kernel cross-check's ``ConfigReport``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import z3

from checker import interrupt
from checker.smt import budget
from checker.smt.concrete import Valuation, constants_in, pack
from checker.smt.crosscheck import ConfigReport, Disagreement
from checker.smt.user.codec import flat_user_values, variable_user_state
from checker.smt.user.state import user_state_eq
from checker.smt.user.transition import (
    ARG_NAMES,
    Kind,
    SymAction,
    action_formula,
    action_kinds,
    action_values,
    decode_action,
    is_terminal,
    next_state,
)
from model.config import Config
from model.userring.drain import PEEK_CHECKS, Check
from model.userring.model import UserRingModel
from model.userring.state import UserState
from specs import all_properties
from specs.smt import Ring, bv


def default_user_configs() -> list[Config]:
    """Small user configurations: libbpf and the adversary, one and two drains, discards and a small limit."""
    return [
        Config(map="user", ring_size=32, records=2, hold=2, sizes=(8, 16), discard=True),
        Config(map="user", ring_size=32, records=2, hold=1, sizes=(0, 16), drains=2, drain_limit=1),
        Config(map="user", ring_size=16, user_producer="adversarial", hostile_writes=2, sizes=(8,)),
        Config(map="user", ring_size=16, user_producer="adversarial", hostile_writes=2, sizes=(0,), drains=2),
    ]


class UserDisagreement(Disagreement):
    """A ``Disagreement`` whose state is a ``UserState`` (shown field by field)."""

    def format(self, cfg: Config) -> str:
        head = f"[{self.check}] {self.name}" + (f" on {self.action}" if self.action else "")
        return f"{head}\n    config: {cfg.describe()}\n    state:  {user_view(self.state)}\n    {self.detail}"

    def to_dict(self) -> dict:
        return {"check": self.check, "name": self.name, "action": self.action, "detail": self.detail,
                "state": user_view(self.state)}


def user_view(s: UserState) -> str:
    """A one-line view of a user state (every field)."""
    return ", ".join(f"{k}={v}" for k, v in s._asdict().items())


def user_properties(cfg: Config) -> list:
    """The properties stated for this user configuration; each must have an SMT encoding."""
    props = all_properties(cfg)
    missing = [p.name for p in props if p.smt is None]
    if missing:
        raise ValueError(f"crosscheck: no SMT encoding for {', '.join(missing)}")
    return props


def reachable_user_states(model: UserRingModel, limit: int = 200_000) -> list[UserState]:
    """Every reachable state in BFS order (ValueError past ``limit``: the check is complete or refused)."""
    init = model.initial_states()
    seen = set(init)
    order = list(init)
    todo = deque(init)
    while todo:
        s = todo.popleft()
        for _, nxt in model.successors(s):
            if nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
                todo.append(nxt)
                if len(order) > limit:
                    raise ValueError(f"crosscheck: more than {limit} reachable states; use a smaller configuration")
    return order


class UserChecks:
    """The terms of (a), (b), (c) for one user configuration, built once over variable states."""

    def __init__(self, cfg: Config, log_capacity: int, kinds: list[Kind], checks: tuple[Check, ...]) -> None:
        ring = Ring.of(cfg)
        pre, self.pre_vars = variable_user_state(cfg, "pre", log_capacity)
        nxt, next_vars = variable_user_state(cfg, "next", log_capacity)
        a = SymAction.fresh("a")
        self.act_vars = [a.kind] + [a.args[n] for n in ARG_NAMES]
        self.valuation = Valuation()
        self._pre = self.valuation.binder(self.pre_vars)
        self._next = self.valuation.binder(next_vars)
        self._act = self.valuation.binder(self.act_vars)
        self.props = user_properties(cfg)
        self._props = {t: pack([p.smt(cfg, ring, pre, t) for p in self.props] or [z3.BoolVal(True)])
                       for t in (False, True)}
        self._terminal = pack([is_terminal(cfg, pre)])
        enabled, merged = next_state(cfg, ring, pre, a, kinds, checks=checks)
        successor = z3.And(enabled, user_state_eq(ring, nxt, merged))
        self._transitions = [pack([action_formula(cfg, ring, pre, k, a, nxt, checks), successor]) for k in kinds]
        self._solver = z3.SolverFor("QF_BV")
        self._solver.add(enabled)
        self._groups: list[tuple[z3.BoolRef, list[int]]] = []
        for i in range(len(kinds)):
            used = constants_in(z3.simplify(z3.substitute(enabled, (a.kind, bv(i)))))
            self._groups.append((a.kind == i, [j for j, v in enumerate(self.pre_vars) if v.get_id() in used]))
        stray = z3.UGE(a.kind, len(kinds))
        self._groups.append((stray, [j for j, v in enumerate(self.pre_vars)
                                     if v.get_id() in constants_in(z3.And(enabled, stray))]))
        self._cache: list[dict[tuple, list[tuple[int, ...]]]] = [{} for _ in self._groups]
        self._values: tuple = ()

    def set_state(self, values: tuple) -> None:
        """The pre-state from now on (``flat_user_values`` of it)."""
        self._pre.set(values)
        self._values = values

    def properties(self, terminal: bool) -> list[bool]:
        """Per property: does its SMT encoding hold in the pre-state."""
        bits = self.valuation.bits(self._props[terminal])
        return [bool(bits >> i & 1) for i in range(len(self.props))]

    def terminal(self) -> bool:
        """Does the SMT terminal test hold in the pre-state."""
        return bool(self.valuation.bits(self._terminal))

    def transition(self, key: tuple[int, ...], next_values: tuple) -> tuple[bool, bool]:
        """(b) the action's formula holds, (c) the merged step relation holds, for pre --key--> next."""
        self._act.set(key)
        self._next.set(next_values)
        bits = self.valuation.bits(self._transitions[key[0]])
        return bool(bits & 1), bool(bits & 2)

    def smt_actions(self, limit: int) -> tuple[set[tuple[int, ...]], bool]:
        """(the actions the SMT relation enables in the pre-state, True if ``limit`` was passed for some kind)."""
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


def _key_text(kinds: list[Kind], key: tuple[int, ...]) -> tuple[str, str]:
    if key[0] >= len(kinds):
        return f"kind {key[0]}", f"kind {key[0]} {dict(zip(ARG_NAMES, key[1:]))}"
    kind = kinds[key[0]]
    return f"{kind.actor}.{kind.step}", str(decode_action(kind, dict(zip(ARG_NAMES, key[1:]))))


def crosscheck_user(cfg: Config, checks: tuple[Check, ...] = PEEK_CHECKS, successor_limit: int = 500,
                    max_seconds: float | None = None, progress: Callable[[str], None] | None = None,
                    start: int = 0) -> ConfigReport:
    """Run (a), (b), (c) on every reachable state of one user configuration (module docstring).

    ``start``: the initial value of both positions (near 2**64 to cross the wrap).
    ``max_seconds`` bounds the run; when it passes, or on Ctrl-C or SIGTERM, the report counts what was
    checked and ``cut_short`` says why.
    """
    t0 = time.perf_counter()
    rep = ConfigReport(cfg)
    firsts: dict[tuple[str, str], Disagreement] = {}
    try:
        with budget.run_limit(max_seconds):
            _check_states(rep, firsts, checks, successor_limit, progress, t0, start)
    except budget.OutOfTime as stop:
        rep.bound = stop.bound
    except interrupt.Interrupted as stop:
        rep.interrupted = stop.signal_name
    rep.disagreements = list(firsts.values())
    rep.seconds = time.perf_counter() - t0
    return rep


def _check_states(rep: ConfigReport, firsts: dict, checks: tuple[Check, ...], successor_limit: int,
                  progress: Callable[[str], None] | None, t0: float, start: int = 0) -> None:
    cfg = rep.config
    model = UserRingModel(cfg, start, checks)
    order = reachable_user_states(model)
    rep.reachable = len(order)
    cap = max(len(s.delivered) for s in order) + 1
    kinds = action_kinds(cfg)
    terms = UserChecks(cfg, cap, kinds, checks)
    flat: dict[UserState, tuple] = {}

    def values(s: UserState) -> tuple:
        v = flat.get(s)
        if v is None:
            v = flat[s] = flat_user_values(cfg, s, cap)
        return v

    def note(check: str, name: str, s: UserState, action: str | None, detail: str) -> None:
        firsts.setdefault((check, name), UserDisagreement(check, name, s, action, detail))

    for n, s in enumerate(order):
        if n % 64 == 63:
            budget.check_run()
        terminal = model.is_terminal(s)
        terms.set_state(values(s))
        if terms.terminal() != terminal:
            note("terminal", "is_terminal", s, None, f"UserRingModel.is_terminal: {terminal}; SMT term: "
                                                     f"{terms.terminal()}")
        said = [p.check(cfg, s, terminal) for p in terms.props]
        for p, py, holds in zip(terms.props, said, terms.properties(terminal)):
            if (py is None) != holds:
                py_says = "holds" if py is None else f"violated ({py})"
                note("property", p.name, s, None,
                     f"Python predicate: {py_says}; SMT encoding: {'holds' if holds else 'violated'}")
        rep.violating += any(r is not None for r in said)
        explicit: dict[tuple[int, ...], tuple] = {}
        for a, nxt in model.successors(s):
            key = action_values(kinds, a)
            in_formula, in_relation = terms.transition(key, values(nxt))
            explicit[key] = (a, in_relation)
            rep.transitions += 1
            if not in_formula:
                note("transition", a.name, s, str(a), "explicit transition does not satisfy the SMT formula")
        smt, over = terms.smt_actions(successor_limit)
        if over:
            note("successors", "enumeration", s, None, f"more than {successor_limit} SMT successors of one kind")
        for key in sorted(smt - explicit.keys()):
            name, text = _key_text(kinds, key)
            note("successors", name, s, text, "SMT has this successor; explicit model does not offer it")
        for key, (a, in_relation) in explicit.items():
            if key not in smt:
                note("successors", a.name, s, str(a), "explicit successor; SMT enumeration does not produce it")
            elif not in_relation:
                note("successors", a.name, s, str(a), "SMT has this successor; explicit model leads elsewhere")
        rep.checked += 1
        rep.successor_checked += 1
        if progress and n % 2000 == 1999:
            progress(f"  ... {n + 1}/{len(order)} states, {len(firsts)} disagreements, "
                     f"{time.perf_counter() - t0:.0f}s")

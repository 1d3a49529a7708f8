"""The user ring's transition relation: every action of ``UserRingModel`` as one z3 formula, same names.

As ``checker.smt.transition`` for the kernel ring: an action kind is an
(actor, step) pair of ``model.actions.Action`` (``user`` ``user.reserve``,
``d1`` ``drain.read_header``); a symbolic action is a kind index plus one
64-bit term per argument name; ``guard`` is when ``UserRingModel.steps``
offers it, ``step_term`` the next state from the z3 step functions of
``checker.smt.user.producer`` / ``hostile`` / ``drain``; ``next_state`` merges
the kinds into one ``If`` per field (what BMC unrolls). The drain's
per-sample checks are passed as the explicit model's ``Check`` tuple, so a
deleted check is deleted on both sides. ``STEP_TERMS`` maps a step name to
its term function so a test can plant a broken one.

The ghost log of deliveries has a capacity: BMC gives it one place per step
and the cross-check one more than the longest explicit log, so it never
fills there; the proofs give it none, and check that no goal reads it
(``checker.smt.user.prove``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import z3

from checker.smt.user import drain as D
from checker.smt.user import hostile as H
from checker.smt.user import producer as P
from checker.smt.user.state import U32, SymUserState, fresh_user_state, user_state_eq
from model.actions import Action
from model.config import Config
from model.constants import MAX_RECORD_SZ
from model.userring.drain import PEEK_CHECKS, Check, drain_actor, drain_flag_choices
from model.userring.hostile import HOSTILE_FLAGS, hostile_lens
from model.userring.producer import USER_ACTOR
from model.userring.state import (D_CALLBACK, D_DISCARD, D_END, D_IDLE, D_LOAD_CONS, D_LOAD_PROD, D_READ_HDR,
                                  D_RELEASE, HOSTILE, U_CLAIM, U_IDLE, U_WRITE)
from specs.smt import W, Ring, bv, eq, header_word, ite

ARG_NAMES = ("size", "rec", "discard", "value", "slot", "len", "flags", "ret")
"""Every argument name an action of the user ring model carries."""

STEP_TERMS: dict[str, Callable] = {
    "user.reserve": P.user_reserve, "user.reserve.claim": P.user_reserve_claim, "user.write": P.user_write,
    "user.commit": P.user_commit, "user.store_prod": H.user_store_prod, "user.store_word": H.user_store_word,
    "drain.begin": D.drain_begin, "drain.load_prod": D.drain_load_prod, "drain.load_cons": D.drain_load_cons,
    "drain.read_header": D.drain_read_header, "drain.skip_discard": D.drain_skip_discard,
    "drain.callback": D.drain_callback, "drain.release": D.drain_release, "drain.end": D.drain_end,
}
"""Step name -> its term function (the z3 twin of the explicit step function)."""

CHECKED_STEPS = ("drain.load_prod", "drain.load_cons", "drain.read_header")
"""Drain steps that make per-sample checks (their term functions take the ``Check`` tuple)."""

_DRAIN_PC = {"drain.load_prod": D_LOAD_PROD, "drain.load_cons": D_LOAD_CONS, "drain.read_header": D_READ_HDR,
             "drain.skip_discard": D_DISCARD, "drain.callback": D_CALLBACK, "drain.release": D_RELEASE,
             "drain.end": D_END}
_QUIET_ZERO = {"drain.begin": "flags", "drain.callback": "ret"}
"""Arguments the explicit model leaves out of an action when they are 0."""


@dataclass(frozen=True)
class UserChoices:
    """What a choice may range over.

    ``model`` (BMC, the cross-check): the explicit model's lists. ``free`` (the proofs): the adversary
    writes any u64 into producer_pos and any 32-bit len word at any slot, as often as it likes (no
    ``hostile_writes`` budget); libbpf may be asked for any size up to 2*MAX_RECORD_SZ; a drain call may
    pass any flags. ``near`` (the proofs' counterexample search): as free, but each choice is one some
    explicit configuration offers, so that a trace replays there: the configuration's write budget;
    producer_pos a multiple of 8 within ``reach`` of consumer_pos or consumer_pos + 4, never the value
    it holds; a word that differs from the one there; flags 0, NO_WAKEUP or FORCE_WAKEUP.
    """

    mode: str = "model"
    reach: z3.BitVecRef | None = None
    """For ``near``: how far from consumer_pos producer_pos may be stored (a term, e.g. 2*S)."""

    @property
    def free(self) -> bool:
        """Choices beyond the configuration's lists (``free`` or ``near``)."""
        return self.mode != "model"


MODEL_CHOICES = UserChoices()


class Kind(NamedTuple):
    """One (actor, step) pair and the argument names its actions carry."""

    actor: str
    step: str
    args: tuple[str, ...] = ()


def action_kinds(cfg: Config) -> list[Kind]:
    """Every (actor, step) the configuration has, in the order ``UserRingModel.steps`` lists them."""
    if cfg.hostile:
        out = [Kind(USER_ACTOR, "user.store_prod", ("value",)), Kind(USER_ACTOR, "user.store_word", ("slot", "len"))]
    else:
        out = [Kind(USER_ACTOR, "user.reserve.claim"), Kind(USER_ACTOR, "user.write", ("rec",)),
               Kind(USER_ACTOR, "user.reserve", ("size",)), Kind(USER_ACTOR, "user.commit", ("rec", "discard"))]
    for d in range(cfg.drains):
        a = drain_actor(d)
        out += [Kind(a, "drain.begin", ("flags",))]
        out += [Kind(a, step, ("ret",) if step == "drain.callback" else ()) for step in _DRAIN_PC]
    return out


@dataclass(frozen=True)
class SymAction:
    """A symbolic action: which kind (index into ``action_kinds``) and a term per argument name."""

    kind: z3.BitVecRef
    args: dict[str, z3.BitVecRef]

    @classmethod
    def fresh(cls, name: str) -> "SymAction":
        """Fresh constants named after ``name``."""
        return cls(z3.BitVec(f"{name}.kind", W), {a: z3.BitVec(f"{name}.{a}", W) for a in ARG_NAMES})


def kind_index(kinds: list[Kind], action: Action) -> int:
    """The index of ``action``'s kind."""
    for i, k in enumerate(kinds):
        if (k.actor, k.step) == (action.actor, action.step):
            return i
    raise KeyError(f"no action kind {action.actor}.{action.step} in this configuration")


def action_values(kinds: list[Kind], action: Action) -> tuple[int, ...]:
    """``action`` as (kind index, one u64 per ``ARG_NAMES``, 0 when not taken): the symbolic action's values."""
    vals = dict(action.args)
    return (kind_index(kinds, action),) + tuple(vals.get(n, 0) & ((1 << 64) - 1) for n in ARG_NAMES)


def decode_action(kind: Kind, values: dict[str, int]) -> Action:
    """The explicit action for a kind and argument values (``flags``/``ret`` shown only when set, as the model does)."""
    quiet = _QUIET_ZERO.get(kind.step)
    return Action(kind.actor, kind.step, tuple((a, values[a]) for a in kind.args if not (a == quiet and not values[a])))


def _one_of(x: z3.BitVecRef, options) -> z3.BoolRef:
    return z3.Or([x == v for v in options])


def hostile_prod_allows(s: SymUserState, value: z3.BitVecRef, reach: z3.BitVecRef) -> z3.BoolRef:
    """``model.userring.hostile.hostile_prod_values`` (but for the current value): consumer_pos + d for a
    multiple of 8 with |d| <= reach and consumer_pos + d >= 0 as an integer (a value below consumer_pos
    never wraps past 0), or the misaligned consumer_pos + 4 and + 12."""
    d = value - s.consumer_pos
    below = z3.UGE(d, bv(1 << 63))
    offset = z3.And(d & 7 == 0, z3.ULE(d + reach, 2 * reach), z3.Implies(below, z3.ULE(-d, s.consumer_pos)))
    return z3.Or(offset, d == 4, d == 12)


def guard(cfg: Config, ring: Ring, s: SymUserState, kind: Kind, a: SymAction,
          choices: UserChoices = MODEL_CHOICES) -> z3.BoolRef:
    """When the explicit model offers an action of this kind with these arguments."""
    g = a.args
    if kind.actor == USER_ACTOR:
        pr = s.producer
        if kind.step == "user.reserve.claim":
            return pr.pc == U_CLAIM
        if kind.step == "user.write":
            return z3.And(pr.pc == U_WRITE, g["rec"] == pr.cur)
        if kind.step == "user.reserve":
            sizes = z3.ULE(g["size"], 2 * MAX_RECORD_SZ) if choices.free else _one_of(g["size"], cfg.sizes)
            return z3.And(pr.pc == U_IDLE, z3.ULT(pr.attempts, cfg.records), z3.ULT(pr.held_n, cfg.hold), sizes)
        if kind.step == "user.commit":
            held = z3.Or([z3.And(z3.ULT(bv(j), pr.held_n), h == g["rec"]) for j, h in enumerate(pr.held)])
            return z3.And(pr.pc == U_IDLE, held, _one_of(g["discard"], (0, 1) if cfg.discard else (0,)))
        budget = z3.BoolVal(True) if choices.mode == "free" else z3.ULT(pr.writes, cfg.hostile_writes)
        if kind.step == "user.store_prod":
            if choices.mode == "free":
                return budget
            reach = choices.reach if choices.mode == "near" else bv(cfg.reach)
            return z3.And(budget, hostile_prod_allows(s, g["value"], reach), g["value"] != s.producer_pos)
        lens = z3.ULE(g["len"], U32) if choices.free else \
            _one_of(g["len"], sorted({n | f for n in hostile_lens(cfg) for f in HOSTILE_FLAGS}))
        new = s.slots[g["slot"]] != header_word(bv(HOSTILE), g["len"])
        return z3.And(budget, z3.ULT(g["slot"], ring.nslots), lens, *([] if choices.mode == "free" else [new]))
    dr = s.drains[int(kind.actor[1:])]
    if kind.step == "drain.begin":
        flags = z3.BoolVal(True) if choices.mode == "free" else \
            _one_of(g["flags"], (0, 1, 2) if choices.free else drain_flag_choices(cfg))
        return z3.And(dr.pc == D_IDLE, flags)
    at = dr.pc == _DRAIN_PC[kind.step]
    if kind.step == "drain.callback":
        return z3.And(at, _one_of(g["ret"], (0, 1)))
    return at


def step_term(cfg: Config, ring: Ring, s: SymUserState, kind: Kind, a: SymAction,
              checks: tuple[Check, ...] = PEEK_CHECKS) -> SymUserState:
    """The next state of ``kind`` (its term function from ``STEP_TERMS``)."""
    fn = STEP_TERMS[kind.step]
    g = a.args
    if kind.actor != USER_ACTOR:
        d = int(kind.actor[1:])
        if kind.step in CHECKED_STEPS:
            return fn(cfg, ring, s, d, checks)
        return fn(cfg, ring, s, d, *(g[n] for n in kind.args))
    passed = () if kind.step == "user.write" else kind.args  # the write's rec is the guard's: it is cur
    return fn(cfg, ring, s, *(g[n] for n in passed))


def action_formula(cfg: Config, ring: Ring, s: SymUserState, kind: Kind, a: SymAction, nxt: SymUserState,
                   checks: tuple[Check, ...] = PEEK_CHECKS) -> z3.BoolRef:
    """Guard, unused arguments 0, and ``nxt`` equal to the step's next state (slots compared below S/8)."""
    unused = [a.args[n] == 0 for n in ARG_NAMES if n not in kind.args]
    return z3.And([guard(cfg, ring, s, kind, a)] + unused +
                  [user_state_eq(ring, nxt, step_term(cfg, ring, s, kind, a, checks))])


def next_state(cfg: Config, ring: Ring, s: SymUserState, a: SymAction, kinds: list[Kind] | None = None,
               choices: UserChoices = MODEL_CHOICES,
               checks: tuple[Check, ...] = PEEK_CHECKS) -> tuple[z3.BoolRef, SymUserState]:
    """(the action is enabled, the state it leads to) as terms: one ``If`` over the kinds per field."""
    kinds = kinds if kinds is not None else action_kinds(cfg)
    enabled = []
    nxt: SymUserState | None = None
    for i, k in enumerate(kinds):
        unused = [a.args[n] == 0 for n in ARG_NAMES if n not in k.args]
        enabled.append(z3.And([a.kind == i, guard(cfg, ring, s, k, a, choices)] + unused))
        term = step_term(cfg, ring, s, k, a, checks)
        nxt = term if nxt is None else ite(a.kind == i, term, nxt)
    assert nxt is not None
    return z3.Or(enabled), nxt


def unroll_step(cfg: Config, ring: Ring, s: SymUserState, a: SymAction, name: str, log_capacity: int,
                kinds: list[Kind] | None = None, choices: UserChoices = MODEL_CHOICES,
                checks: tuple[Check, ...] = PEEK_CHECKS) -> tuple[z3.BoolRef, SymUserState]:
    """(``s --a--> s'``, ``s'``): ``s'`` has fresh constants for every field but the slots, which are the
    next-state history itself (so no array equality is ever asserted)."""
    enabled, term = next_state(cfg, ring, s, a, kinds, choices, checks)
    nxt = fresh_user_state(cfg, name, log_capacity, slots=term.slots)
    return z3.And(enabled, eq(nxt, term)), nxt


def is_terminal(cfg: Config, s: SymUserState) -> z3.BoolRef:
    """``UserRingModel.is_terminal`` as a term: producer done, every drain idle, (libbpf) the drain's own test
    for data (``consumer_pos < producer_pos``, unsigned) fails."""
    pr = s.producer
    done = z3.UGE(pr.writes, cfg.hostile_writes) if cfg.hostile else \
        z3.And(pr.pc == U_IDLE, pr.attempts == cfg.records, pr.held_n == 0)
    empty = [] if cfg.hostile else [z3.Not(z3.ULT(s.consumer_pos, s.producer_pos))]
    return z3.And([done] + [d.pc == D_IDLE for d in s.drains] + empty)

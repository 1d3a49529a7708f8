"""The transition relation: every action of the explicit model as one z3 formula, under the same name.

An action kind is an (actor, step) pair of ``model.Action`` (``p0``,
``reserve.check``); a symbolic action is a kind index plus one 64-bit term
per argument name. ``action_formula`` is the formula of one kind: its guard
(what ``producer_successors`` / ``consumer_successors`` /
``adversary_successors`` check before calling the step), arguments the action
does not take fixed to 0, and the next state equal to the step function of
``checker.smt.producer`` / ``checker.smt.consumer``. ``transition`` is their
disjunction. The registry ``STEP_TERMS`` maps a step name to its term
function, so a test can plant a broken one and watch the cross-check fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import z3

from checker.smt import consumer as C
from checker.smt import producer as P
from model.actions import Action, producer_actor
from model.config import Config
from model.constants import MAX_RECORD_SZ
from model.producer import commit_choices
from model.config import ConfigError
from model.state import (C_DELIVER, C_LOAD_CONS, C_LOAD_PROD, C_READ_HDR, C_STORE, C_WAIT, P_CLAIM,
                         P_IDLE, P_LOAD_CONS, P_LOCK, P_OVER_CLAIM, P_OVER_SCAN, P_SCAN, P_WAKEUP, P_WRITE)
from specs.smt import W, Ring, SymState, bv, eq, fresh_state, ite, state_eq

ARG_NAMES = ("size", "nmi", "rec", "discard", "flags", "value")
"""Every argument name an action of the explicit model carries."""

STEP_TERMS: dict[str, Callable] = {
    "reserve.check": P.reserve_check, "reserve.load_cons": P.reserve_load_cons,
    "reserve.lock": P.reserve_lock, "reserve.scan": P.reserve_scan, "reserve.claim": P.reserve_claim,
    "write": P.write_payload, "commit.xchg": P.commit_xchg, "commit.wakeup": P.commit_wakeup,
    "consume.load_cons": C.consume_load_cons, "consume.load_prod": C.consume_load_prod,
    "consume.read_header": C.consume_read_header, "consume.deliver": C.consume_deliver,
    "consume.store_cons": C.consume_store_cons, "poll.wait": C.poll_wait, "work": C.irq_work,
    "store_cons": C.user_store_cons,
    "reserve.room": P.reserve_room, "reserve.overwrite_scan": P.reserve_overwrite_scan,
    "reserve.overwrite_claim": P.reserve_overwrite_claim,
}
"""Step name -> its term function (the z3 twin of the model's step function)."""

_PRODUCER_PC = {"reserve.load_cons": P_LOAD_CONS, "reserve.lock": P_LOCK, "reserve.scan": P_SCAN,
                "reserve.claim": P_CLAIM, "write": P_WRITE, "commit.wakeup": P_WAKEUP,
                "reserve.room": P_CLAIM, "reserve.overwrite_scan": P_OVER_SCAN,
                "reserve.overwrite_claim": P_OVER_CLAIM}
_CONSUMER_PC = {"consume.load_cons": C_LOAD_CONS, "consume.load_prod": C_LOAD_PROD,
                "consume.read_header": C_READ_HDR, "consume.deliver": C_DELIVER,
                "consume.store_cons": C_STORE, "poll.wait": C_WAIT}


@dataclass(frozen=True)
class Choices:
    """What the proofs let a choice range over, beyond the configuration's finite lists.

    The explicit model (and BMC, the cross-check) use ``Choices()``: sizes from
    ``cfg.sizes``, adversary values within ``cfg.reach`` of producer_pos. The
    proofs widen both: any payload size up to 2*MAX_RECORD_SZ, and an adversary
    that stores any u64 (``"any"``) or any multiple of 8 (``"aligned"``).
    """

    free_sizes: bool = False
    adversary: str = "model"
    reach: z3.BitVecRef | None = None
    """For ``adversary="near"``: any multiple of 8 within this (symbolic) distance of producer_pos."""


MODEL_CHOICES = Choices()


class Kind(NamedTuple):
    """One (actor, step) pair and the argument names its actions carry."""

    actor: str
    step: str
    args: tuple[str, ...] = ()


def action_kinds(cfg: Config) -> list[Kind]:
    """Every (actor, step) the configuration has, in the order ``RingBufModel.successors`` lists them."""
    if cfg.consumer == "overwrite-safe":
        raise ConfigError("consumer: overwrite-safe has no SMT encoding; the SMT engines take level, edge "
                          "or adversarial (the explicit engine checks overwrite-safe)")
    out = []
    claim = (["reserve.room", "reserve.overwrite_scan", "reserve.overwrite_claim"] if cfg.rules.overwrite
             else ["reserve.claim"])
    for p in range(cfg.producers):
        a = producer_actor(p)
        out += [Kind(a, "reserve.check", ("size", "nmi")), Kind(a, "commit.xchg", ("rec", "discard", "flags")),
                Kind(a, "reserve.load_cons"), Kind(a, "reserve.lock"), Kind(a, "reserve.scan")]
        out += [Kind(a, step) for step in claim] + [Kind(a, "write", ("rec",)), Kind(a, "commit.wakeup")]
    if cfg.honest:
        out += [Kind("c", step) for step in _CONSUMER_PC] + [Kind("irq", "work")]
    else:
        out.append(Kind("user", "store_cons", ("value",)))
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

    def eq(self, kinds: list[Kind], action: Action) -> z3.BoolRef:
        """This symbolic action is the explicit ``action``."""
        idx = kinds.index(Kind(action.actor, action.step, kind_args(kinds, action)))
        vals = dict(action.args)
        return z3.And([self.kind == idx] + [self.args[a] == vals.get(a, 0) for a in ARG_NAMES])


def kind_args(kinds: list[Kind], action: Action) -> tuple[str, ...]:
    """The argument names of ``action``'s kind."""
    for k in kinds:
        if (k.actor, k.step) == (action.actor, action.step):
            return k.args
    raise KeyError(f"no action kind {action.actor}.{action.step} in this configuration")


def decode_action(kind: Kind, values: dict[str, int]) -> Action:
    """The explicit action for a kind and argument values (``nmi`` is only shown when set, as the model does)."""
    args = []
    for a in kind.args:
        if a == "nmi" and not values[a]:
            continue
        args.append((a, values[a]))
    return Action(kind.actor, kind.step, tuple(args))


def _one_of(x: z3.BitVecRef, options: list[int]) -> z3.BoolRef:
    return z3.Or([x == v for v in options])


def guard(cfg: Config, s: SymState, kind: Kind, a: SymAction, choices: Choices = MODEL_CHOICES) -> z3.BoolRef:
    """When the explicit model offers an action of this kind with these arguments."""
    g = a.args
    if kind.actor.startswith("p"):
        pr = s.producers[int(kind.actor[1:])]
        if kind.step == "reserve.check":
            return z3.And(pr.pc == P_IDLE, z3.ULT(pr.attempts, cfg.records), z3.ULT(pr.held_n, cfg.hold),
                          z3.ULE(g["size"], 2 * MAX_RECORD_SZ) if choices.free_sizes else
                          _one_of(g["size"], list(cfg.sizes)), _one_of(g["nmi"], [0, 1] if cfg.nmi else [0]))
        if kind.step == "commit.xchg":
            held = z3.Or([z3.And(z3.ULT(bv(j), pr.held_n), h == g["rec"]) for j, h in enumerate(pr.held)])
            choices = z3.Or([z3.And(g["discard"] == int(d), g["flags"] == f) for d, f in commit_choices(cfg)])
            return z3.And(pr.pc == P_IDLE, held, choices)
        at = pr.pc == _PRODUCER_PC[kind.step]
        if kind.step == "reserve.lock":
            return z3.And(at, z3.Or(s.lock == -1, P.lock_fails_when_held(cfg, pr)))
        if kind.step == "write":
            return z3.And(at, g["rec"] == pr.cur)
        return at
    if kind.actor == "c":
        at = s.consumer.pc == _CONSUMER_PC[kind.step]
        if kind.step == "consume.deliver":
            return z3.And(at, z3.ULT(s.delivered.n, len(s.delivered.recs)))
        return at
    if kind.actor == "irq":
        return s.irq_pending
    if choices.adversary == "any":
        return g["value"] != s.consumer_pos
    if choices.adversary == "near":
        d = g["value"] - s.producer_pos
        return z3.And(g["value"] != s.consumer_pos, d & 7 == 0, z3.ULE(d + choices.reach, 2 * choices.reach))
    if choices.adversary == "aligned":
        return z3.And(g["value"] != s.consumer_pos, g["value"] & 7 == 0)
    return C.adversary_allows(cfg, s, g["value"])


def step_term(cfg: Config, ring: Ring, s: SymState, kind: Kind, a: SymAction) -> SymState:
    """The next state of ``kind`` (its term function from ``STEP_TERMS``)."""
    fn = STEP_TERMS[kind.step]
    g = a.args
    if kind.actor.startswith("p"):
        p = int(kind.actor[1:])
        if kind.step == "reserve.check":
            return fn(cfg, ring, s, p, g["size"], g["nmi"])
        if kind.step == "commit.xchg":
            return fn(cfg, ring, s, p, g["rec"], g["discard"], g["flags"])
        return fn(cfg, ring, s, p)
    if kind.actor == "user":
        return fn(cfg, ring, s, g["value"])
    return fn(cfg, ring, s)


def action_formula(cfg: Config, ring: Ring, s: SymState, kind: Kind, a: SymAction,
                   nxt: SymState) -> z3.BoolRef:
    """Guard, unused arguments 0, and ``nxt`` equal to the step's next state (slots compared below S/8)."""
    unused = [a.args[n] == 0 for n in ARG_NAMES if n not in kind.args]
    return z3.And([guard(cfg, s, kind, a)] + unused + [state_eq(ring, nxt, step_term(cfg, ring, s, kind, a))])


def next_state(cfg: Config, ring: Ring, s: SymState, a: SymAction, kinds: list[Kind] | None = None,
               choices: Choices = MODEL_CHOICES) -> tuple[z3.BoolRef, SymState]:
    """(the action is enabled, the state it leads to) as terms: one ``If`` over the kinds per field."""
    kinds = kinds if kinds is not None else action_kinds(cfg)
    enabled = []
    nxt: SymState | None = None
    for i, k in enumerate(kinds):
        unused = [a.args[n] == 0 for n in ARG_NAMES if n not in k.args]
        enabled.append(z3.And([a.kind == i, guard(cfg, s, k, a, choices)] + unused))
        term = step_term(cfg, ring, s, k, a)
        nxt = term if nxt is None else ite(a.kind == i, term, nxt)
    assert nxt is not None
    return z3.Or(enabled), nxt


def unroll_step(cfg: Config, ring: Ring, s: SymState, a: SymAction, name: str, log_capacity: int,
                kinds: list[Kind] | None = None, choices: Choices = MODEL_CHOICES) -> tuple[z3.BoolRef, SymState]:
    """(``s --a--> s'``, ``s'``): ``s'`` has fresh constants for every field but the slots, which are the
    next-state history itself (so no array equality is ever asserted)."""
    enabled, term = next_state(cfg, ring, s, a, kinds, choices)
    nxt = fresh_state(cfg, name, log_capacity, slots=term.slots)
    return z3.And(enabled, eq(nxt, term)), nxt

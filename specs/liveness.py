"""Liveness properties: what must eventually happen, each under named weak-fairness assumptions.

Shape. Every property here is a *pending obligation* ``P`` (a predicate over a
state, for ``space_returns`` over a state and a one-bit monitor of the past)
that must always be discharged eventually:

    G (P -> F not P),  equivalently  not F G P.

So a counterexample is a *fair lasso*: a stem from the initial state and a
cycle that repeats forever, with the obligation pending in every state of the
cycle. The stem may leave and re-enter pending states freely.

Behaviours. A behaviour is an infinite sequence of states. The model is
finite and its producers are bounded (``records`` attempts each), so every
behaviour ends in a cycle of the reachable graph. As in TLA+, a behaviour may
*stutter* (stay in a state) at any point; weak fairness is what forbids
stuttering forever while a fair actor could move. Terminal states (and any
deadlock) are therefore not excluded: a run that stops there stays there
forever, which is fair because nothing is enabled, and an obligation still
pending there is a violation (the edge-triggered consumer asleep for good with
a record undelivered is exactly such a lasso, with a cycle of zero steps).

Fairness. A *fair unit* is an actor name (``p0``, ``c``, ``irq``) or an
``actor.step`` name. Unit ``u`` is enabled in a state when some enabled action
belongs to it, and takes a step when the action does. A cycle is weakly fair
for ``u`` when ``u`` is disabled in some state of the cycle or takes a step in
it (weak fairness: continuously enabled implies eventually taken). Each
property names the actor kinds it assumes weakly fair (``producers``: every
``pN``; ``consumer``: ``c``; ``irq``: the irq_work callback); hostile user
space (``user``) is never fair. The real system gives these assumptions: a BPF
program runs its helper calls to completion, libbpf's poll loop is scheduled,
and queued irq_work runs.

Weak memory. When store buffers are modelled (x86-TSO: the flushes are
actions ``pN.flush``, ``c.flush``), an actor's flush (enabled while its buffer
is non-empty) must be weakly fair *on its own*: fairness of the whole actor
would let a consumer that keeps spinning never publish its buffered
``consumer_pos``. ``fair_units`` therefore adds a unit ``A.flush`` for every
fair actor ``A`` of a configuration whose memory model has store buffers
(``Config.memory == "tso"``, once weak memory lands); nothing else changes.

SMT. Each obligation has its SMT twin right below it (``pending_smt``, and
for ``space_returns`` the monitor's step), over the symbolic states of
``specs.smt``: true exactly when the predicate returns a reason. They serve
the k-bounded lasso search (``checker.liveness_bmc``, ``--strategy bmc``),
which finds lassos of at most K steps and never says "complete"; the complete
check is the explicit engine's (``checker.liveness``, SCC decomposition of the
reachable graph). ``get_property`` refuses these properties for the invariant
commands (``bmc``, ``prove``) with a one-line reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import z3

from model.actions import Action, producer_actor, producer_index
from model.config import Config
from model.constants import record_length
from model.state import (C_SLEEP, FAILED, P_CLAIM, P_LOAD_CONS, P_LOCK, P_SCAN, PRODUCER_PC_NAMES,
                         SUBMITTED, State)
from specs import smt as Z
from specs.property import PROPERTIES, Property

Pending = Callable[[Config, State, object], "str | None"]
"""``(config, state, monitor value) -> None when nothing is owed, else what is owed (one line)``."""

MonitorStep = Callable[[Config, State, Action, State, object], object]
"""``(config, state, action, next state, monitor value) -> next monitor value``."""

PRODUCERS, CONSUMER, IRQ = "producers", "consumer", "irq"
FAIRNESS_KINDS = (PRODUCERS, CONSUMER, IRQ)
"""The actor kinds a property may assume weakly fair."""


def _not_a_state_predicate(name: str) -> Callable:
    def refuse(cfg: Config, s: State, terminal: bool) -> str | None:
        raise TypeError(f"{name} is a liveness property, not a state predicate: check it with "
                        "checker.liveness (ringcheck check --property " + name + ")")

    return refuse


@dataclass(frozen=True)
class LivenessProperty(Property):
    """A pending obligation that every fair behaviour must discharge (see the module docstring)."""

    fair: tuple[str, ...] = ()
    """Actor kinds (``FAIRNESS_KINDS``) assumed weakly fair."""
    pending: Pending | None = field(default=None, compare=False)
    monitor_init: Callable[[Config, State], object] | None = field(default=None, compare=False)
    """The monitor's value in the initial state; None for properties of the state alone."""
    monitor_step: MonitorStep | None = field(default=None, compare=False)
    judged: Callable[[Config], "str | None"] | None = field(default=None, compare=False)
    """``None`` when the property means something in this configuration, else why it holds vacuously."""
    pending_smt: Callable | None = field(default=None, compare=False)
    """The SMT twin of ``pending``: ``(cfg, ring, sym_state, monitor term) -> z3 Bool`` (``pending_smt_of``)."""
    monitor_smt: Callable | None = field(default=None, compare=False)
    """The SMT twin of ``monitor_step``: ``(cfg, ring, s, took, t, owed) -> z3 Bool``, where
    ``took(actor, step)`` is the term "the step taken is that one"."""
    liveness: bool = True
    """Marks the property for the engines: safety engines never see it (``checker.run``)."""

    def not_judged(self, cfg: Config) -> str | None:
        """Why this property is vacuous for ``cfg`` (e.g. no libbpf consumer), or None."""
        return self.judged(cfg) if self.judged else None


def is_liveness(p: Property) -> bool:
    """True for the properties of this module."""
    return bool(getattr(p, "liveness", False))


LIVENESS_ORDER: list[str] = []
"""The liveness properties, in the order they are checked and listed."""


def liveness(name: str, catches: str, fair: tuple[str, ...],
             monitor: tuple[Callable, MonitorStep] | None = None,
             judged: Callable[[Config], "str | None"] | None = None) -> Callable[[Pending], Pending]:
    """Register the decorated pending-obligation function as liveness property ``name``."""
    assert all(k in FAIRNESS_KINDS for k in fair), fair

    def register(fn: Pending) -> Pending:
        init, step = monitor if monitor else (None, None)
        PROPERTIES[name] = LivenessProperty(
            name, _not_a_state_predicate(name), (fn.__doc__ or "").strip(), catches,
            fair=fair, pending=fn, monitor_init=init, monitor_step=step, judged=judged)
        LIVENESS_ORDER.append(name)
        return fn

    return register


def pending_smt_of(name: str, monitor: Callable | None = None) -> Callable[[Callable], Callable]:
    """Attach the decorated function as the SMT twin of liveness property ``name``'s obligation."""

    def attach(fn: Callable) -> Callable:
        PROPERTIES[name] = replace(PROPERTIES[name], pending_smt=fn, monitor_smt=monitor)
        return fn

    return attach


# ---------------------------------------------------------------- fairness units


def actors_of(cfg: Config) -> list[str]:
    """Every actor of the configuration: ``p0..``, then ``c`` and ``irq`` (honest) or ``user``."""
    return [producer_actor(p) for p in range(cfg.producers)] + (["c", "irq"] if cfg.honest else ["user"])


FLUSH = "flush"
"""The step name of a store-buffer flush (an action ``A.flush`` of actor ``A``)."""


def has_flushes(cfg: Config) -> bool:
    """Does ``cfg``'s memory model buffer stores (TSO)? Always False before weak memory lands."""
    return getattr(cfg, "memory", "sc") == "tso"


def actor_units(cfg: Config, actor: str, flushes: bool | None = None) -> list[str]:
    """The fair units of one fair actor: the actor, and its flush on its own where stores are buffered."""
    return [actor] + ([f"{actor}.{FLUSH}"] if (has_flushes(cfg) if flushes is None else flushes) else [])


def fair_units(cfg: Config, kinds: tuple[str, ...], flushes: bool | None = None) -> list[str]:
    """The fair units ``kinds`` stand for in ``cfg``: each actor, and each actor's flush on its own."""
    actors: list[str] = []
    if PRODUCERS in kinds:
        actors += [producer_actor(p) for p in range(cfg.producers)]
    if CONSUMER in kinds and cfg.honest:
        actors.append("c")
    if IRQ in kinds and cfg.honest:
        actors.append("irq")
    return [u for a in actors for u in actor_units(cfg, a, flushes)]


def unit_matches(unit: str, action: Action) -> bool:
    """Does ``action`` belong to fair unit ``unit`` (an actor, or ``actor.step``)?"""
    if "." not in unit:
        return action.actor == unit
    actor, step = unit.split(".", 1)
    return action.actor == actor and action.step == step


# ---------------------------------------------------------------- vacuity


def _needs_libbpf(cfg: Config) -> str | None:
    return None if cfg.honest else "there is no libbpf consumer (adversarial user space), so nothing is owed"


def _needs_libbpf_and_wakeups(cfg: Config) -> str | None:
    if not cfg.honest:
        return _needs_libbpf(cfg)
    if cfg.wakeup_flags:
        return "with --wakeup-flags a program may commit with NO_WAKEUP and so ask for no delivery"
    return None


# ---------------------------------------------------------------- the properties


@liveness("eventually_delivered", catches="a commit that never clears BUSY (the consumer stops in "
                                          "front of it forever), a lost wakeup, a consumer that stops",
          fair=(PRODUCERS, CONSUMER, IRQ), judged=_needs_libbpf_and_wakeups)
def eventually_delivered(cfg: Config, s: State, monitor: object) -> str | None:
    """Every submitted record is eventually handed to the callback.

    Pending: some record is SUBMITTED and not in the ghost delivery log. Both
    sets only grow and there are finitely many records, so "pending forever"
    is exactly "some submitted record is never delivered".

    Fairness: every producer (a program stopped between its xchg and its
    wakeup decision, or holding an earlier BUSY record, keeps it pending),
    the consumer ``c`` and ``irq`` (a queued wakeup that never runs leaves the
    consumer asleep). Each is needed: dropping any one gives a lasso. Not
    judged with an adversarial consumer or with ``--wakeup-flags``.

    Complete by the explicit engine (``checker.liveness``); its SMT twin below
    serves only the k-bounded lasso search.
    """
    delivered = {rec for rec, _ in s.delivered}
    for rid, r in enumerate(s.records):
        if r.status == SUBMITTED and rid not in delivered:
            return f"submitted record {rid} is not delivered"
    return None


@pending_smt_of("eventually_delivered")
def eventually_delivered_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, owed: object) -> z3.BoolRef:
    """SMT form: some record is SUBMITTED and no entry of the log names it."""
    log = s.delivered
    named = [[z3.And(z3.ULT(Z.bv(j), log.n), log.recs[j] == rid) for j in range(len(log.recs))]
             for rid in range(len(s.records))]
    return z3.Or([z3.And(r.status == SUBMITTED, z3.Not(z3.Or(named[rid])))
                  for rid, r in enumerate(s.records)])


_IN_RESERVE = (P_LOAD_CONS, P_LOCK, P_SCAN, P_CLAIM)


@liveness("no_starvation", catches="a producer that spins forever in bpf_ringbuf_reserve: a lock "
                                   "that is never released, a pending_pos scan that never ends",
          fair=(PRODUCERS,))
def no_starvation(cfg: Config, s: State, monitor: object) -> str | None:
    """A producer that has begun a reservation eventually returns from it (a record or NULL).

    Pending: some producer is inside ``bpf_ringbuf_reserve`` (after the
    argument checks, before the claim returned). Attempts are bounded, so
    pending forever means one reservation never returns.

    Fairness: the producers only (a waiting producer depends on the lock
    holder moving on). Judged with every consumer, hostile user space included.

    Complete by the explicit engine (``checker.liveness``); its SMT twin below
    serves only the k-bounded lasso search.
    """
    inside = [p for p, pr in enumerate(s.producers) if pr.pc in _IN_RESERVE]
    if inside:
        return ", ".join(f"p{p} is in bpf_ringbuf_reserve at {PRODUCER_PC_NAMES[s.producers[p].pc]}"
                         for p in inside)
    return None


@pending_smt_of("no_starvation")
def no_starvation_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, owed: object) -> z3.BoolRef:
    """SMT form: some producer's program point is one of the reservation's."""
    return z3.Or([pr.pc == pc for pr in s.producers for pc in _IN_RESERVE])


def _space_monitor_init(cfg: Config, s: State) -> bool:
    return False


def _failed_for_space(cfg: Config, s: State, a: Action, t: State) -> int | None:
    """The consumer_pos a reservation read, when this step is its claim failing for lack of space."""
    if a.step != "reserve.claim":
        return None
    pr = s.producers[producer_index(a.actor)]
    if t.records[pr.cur].status != FAILED or record_length(pr.size) > cfg.mask:
        return None
    return pr.cons


def _space_monitor_step(cfg: Config, s: State, a: Action, t: State, owed: object) -> bool:
    """Owed: a reservation failed for lack of space and consumer_pos is still the value it read."""
    moved = t.consumer_pos != s.consumer_pos
    seen = _failed_for_space(cfg, s, a, t)
    return bool((owed and not moved) or (seen is not None and seen == t.consumer_pos))


@liveness("space_returns", catches="a consumer that stops returning space (never stores consumer_pos, "
                                   "or spins without consuming), so the ring stays full for good",
          fair=(PRODUCERS, CONSUMER, IRQ), monitor=(_space_monitor_init, _space_monitor_step),
          judged=_needs_libbpf_and_wakeups)
def space_returns(cfg: Config, s: State, owed: object) -> str | None:
    """After a reservation fails for lack of space, the consumer eventually frees space (consumer_pos moves).

    The obligation arises when ``reserve.claim`` fails a record that would fit
    in an empty ring (``record_length(size) < S``; a record that never fits is
    not the consumer's debt) while ``consumer_pos`` is still the value that
    reservation read; it is discharged when ``consumer_pos`` changes. The
    monitor is one bit carried beside the state (the product is explored).
    The honest consumer only moves ``consumer_pos`` forward, so once moved it
    has freed what the failed reservation saw as used.

    Fairness: producers (a held BUSY record blocks the consumer), ``c`` and
    ``irq``. Not judged with an adversarial consumer or ``--wakeup-flags``.

    Complete by the explicit engine (``checker.liveness``); its SMT twin below
    serves only the k-bounded lasso search.
    """
    return "a reservation failed for lack of space and consumer_pos has not moved since" if owed else None


def _space_monitor_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, took: Callable, t: Z.SymState,
                       owed: z3.BoolRef) -> z3.BoolRef:
    """SMT form of ``_space_monitor_step``: still owed, or a claim failing for space right now."""
    failed = []
    for p, pr in enumerate(s.producers):
        status = Z.pick([r.status for r in t.records], pr.cur)
        failed.append(z3.And(took(producer_actor(p), "reserve.claim"), status == FAILED,
                             z3.ULE(Z.record_length(pr.size), ring.mask), pr.cons == t.consumer_pos))
    return z3.Or(z3.And(owed, t.consumer_pos == s.consumer_pos), *failed)


@pending_smt_of("space_returns", monitor=_space_monitor_smt)
def space_returns_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, owed: z3.BoolRef) -> z3.BoolRef:
    """SMT form: the monitor bit."""
    return owed


@liveness("consumer_progress", catches="a level-triggered consumer that spins forever without "
                                       "delivering (e.g. at the 64-bit wrap, where cons < prod "
                                       "compares plain integers)",
          fair=(PRODUCERS, CONSUMER), judged=_needs_libbpf)
def consumer_progress(cfg: Config, s: State, monitor: object) -> str | None:
    """The consumer does not loop forever without delivering, sleeping or advancing consumer_pos.

    Pending: the consumer is awake (not asleep in epoll). On any cycle of the
    reachable graph nothing is delivered and consumer_pos does not move (both
    only grow and the model is finite), so a fair cycle of awake states is
    exactly a consumer spinning without progress; a consumer that sleeps, or
    delivers and later sleeps, discharges it.

    Fairness: the producers (a level-triggered consumer legitimately spins
    while a producer is between reserve and commit) and ``c``.

    Complete by the explicit engine (``checker.liveness``); its SMT twin below
    serves only the k-bounded lasso search.
    """
    return None if s.consumer.pc == C_SLEEP else "the consumer is awake"


@pending_smt_of("consumer_progress")
def consumer_progress_smt(cfg: Config, ring: Z.Ring, s: Z.SymState, owed: object) -> z3.BoolRef:
    """SMT form: the consumer's program point is not asleep."""
    return s.consumer.pc != C_SLEEP

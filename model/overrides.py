"""Ordering overrides: ``--order STEP:LOCATION=ORDERING`` and ``--fence STEP``.

They let a user check a port or a fix without editing the model. A STEP is
written with its actor (``p0.reserve.claim``, ``c.poll.wait``: that actor
only) or without (``reserve.claim``: every actor that takes the step). A
LOCATION is one of the names the step's ``@step`` declaration lists
(``consumer_pos``, ``producer_pos``, ``pending_pos``, ``spinlock``,
``header``, ``header.len``, ``payload``); the ORDERING must be one the access
can have (a load: plain or acquire; a store: plain or release; an rmw: any).
A fence is a full barrier (smp_mb) just before the step, every time that
actor takes it. Under ``--memory sc`` both are accepted and change nothing.

Every bad override is a one-line ``ConfigError`` naming the step or location.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from model.steps import ACQUIRE, PLAIN, RELEASE, STEPS, XCHG

if TYPE_CHECKING:
    from model.config import Config

SC_EVENTS = ("irq_work", "wait_queue")
"""Declared accesses that are not shared memory: the irq_work's queued flag and the
consumer's wait queue are kernel-internal and lock-protected (the irq_work list and
the wait-queue spinlock), so they are sequentially consistent events in every memory
model, taken directly on the State (``irq_pending``, ``edge_ready``, the consumer's
sleep). They have no ordering to override."""

ALLOWED = {"load": (PLAIN, ACQUIRE), "store": (PLAIN, RELEASE), "rmw": (PLAIN, ACQUIRE, RELEASE, XCHG)}
"""The orderings an access of each kind may be given."""

_ACTOR_KIND = {"c": "consumer", "irq": "irq", "user": "user"}


class Override(NamedTuple):
    """One parsed ``--order``: actor (None = every actor taking the step), step, location, ordering."""

    actor: str | None
    step: str
    var: str
    order: str


def _registered() -> None:
    import model.adversary  # noqa: F401  (the step modules register every step)
    import model.consumer  # noqa: F401
    import model.producer  # noqa: F401


def _actor_kind(actor: str, cfg: "Config") -> str | None:
    if actor.startswith("p") and actor[1:].isdigit():
        return "producer" if int(actor[1:]) < cfg.producers else None
    kind = _ACTOR_KIND.get(actor)
    if kind == "consumer" and not cfg.honest or kind == "user" and cfg.honest:
        return None
    return kind


def parse_step(text: str, cfg: "Config", what: str) -> tuple[str | None, str]:
    """``p0.reserve.claim`` or ``reserve.claim`` to (actor or None, step); ConfigError if unknown."""
    from model.config import ConfigError

    _registered()
    text = text.strip()
    if text in STEPS:
        return None, text
    actor, _, step = text.partition(".")
    if step not in STEPS:
        raise ConfigError(f"{what}: {text!r} is not a step (steps: {', '.join(STEPS)}; "
                          "optionally prefixed by an actor, e.g. p0.reserve.claim)")
    kind = _actor_kind(actor, cfg)
    if kind is None:
        raise ConfigError(f"{what}: {text!r}: {actor!r} is not an actor of this configuration")
    if STEPS[step].actor != kind:
        raise ConfigError(f"{what}: {text!r}: {step} is a step of the {STEPS[step].actor}, not of {actor}")
    return actor, step


def parse_order(text: str, cfg: "Config") -> Override:
    """``STEP:LOCATION=ORDERING`` to an Override; ConfigError naming what is wrong."""
    from model.config import ConfigError

    head, sep, order = text.partition("=")
    step_text, sep2, var = head.partition(":")
    if not sep or not sep2:
        raise ConfigError(f"order: {text!r} is not STEP:LOCATION=ORDERING "
                          "(e.g. p0.reserve.claim:producer_pos=plain)")
    actor, step = parse_step(step_text, cfg, "order")
    var, order = var.strip(), order.strip()
    kinds = [a.kind for a in STEPS[step].accesses if a.var == var]
    declared = [a.var for a in STEPS[step].accesses if a.var not in SC_EVENTS]
    if var in SC_EVENTS:
        raise ConfigError(f"order: {step}:{var}: {var} is a kernel-internal SC event, it has no ordering")
    if not kinds:
        raise ConfigError(f"order: {step} makes no access to {var!r} "
                          f"(it declares {', '.join(declared) or 'none'})")
    if order not in ALLOWED[kinds[0]]:
        raise ConfigError(f"order: {step}:{var} is a {kinds[0]}; {order!r} is not one of "
                          f"{', '.join(ALLOWED[kinds[0]])}")
    return Override(actor, step, var, order)


def parse_fence(text: str, cfg: "Config") -> tuple[str | None, str]:
    """``STEP`` to (actor or None, step); ConfigError if it is not a step of an actor with memory accesses."""
    from model.config import ConfigError

    actor, step = parse_step(text, cfg, "fence")
    if STEPS[step].actor == "irq":
        raise ConfigError(f"fence: {text!r}: irq_work makes no memory access (its wait queue is an SC event)")
    return actor, step


def ordering_table(cfg: "Config", actor: str, step: str) -> dict[tuple[str, str], str]:
    """(location, kind) to the ordering ``actor``'s ``step`` uses: its declaration, then the overrides."""
    table = {(a.var, a.kind): a.order for a in STEPS[step].accesses}
    for text in cfg.orders:
        o = parse_order(text, cfg)
        if o.step == step and o.actor in (None, actor):
            for (var, kind) in list(table):
                if var == o.var:
                    table[(var, kind)] = o.order
    return table


def fenced(cfg: "Config", actor: str, step: str) -> bool:
    """Does ``actor`` execute a full fence just before ``step``?"""
    for text in cfg.fences:
        a, s = parse_fence(text, cfg)
        if s == step and a in (None, actor):
            return True
    return False

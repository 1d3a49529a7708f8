"""Kernel behaviours as data: one ``Rules`` object per variant.

A variant is a name a user types (``--variant v6.10``) and a set of rules the
steps read. No step, engine or encoding compares variant names: the explicit
steps (``model.producer``), the z3 steps (``specs.smt``), the compiled core,
the reference implementations and the kernel probe all ask the rules
(``cfg.rules.pending_scan``), so adding a kernel behaviour is one entry here
plus the steps that implement its new rule (docs/protocol.md#7).
"""

from __future__ import annotations

from dataclasses import dataclass

SPINLOCK = "spinlock"
"""raw_spin_lock_irqsave: a producer on another CPU spins until the lock is free;
in NMI context the kernel only tries the lock once and fails the reservation."""

RQSPINLOCK = "rqspinlock"
"""raw_res_spin_lock_irqsave (v6.15, a650d38915c1): the lock itself may fail, at once on
a deadlock it detects (the holder is a context this one interrupted) or after a timeout."""

LOCKS = (SPINLOCK, RQSPINLOCK)


@dataclass(frozen=True)
class Rules:
    """What one kernel version's ring buffer does differently from the others."""

    name: str
    """The name users give (``v6.10``)."""
    kernel: str
    """Which kernels behave this way, and the commit that made them so."""
    checks_record_size: bool
    """Reserve refuses a record longer than the ring before anything else (CVE-2021-3489 fix)."""
    pending_scan: bool
    """Reserve advances pending_pos over committed records and bounds producer_pos - pending_pos
    by the ring size (CVE-2024-41009 fix)."""
    lock: str = SPINLOCK
    """How the reserve lock behaves (``SPINLOCK`` or ``RQSPINLOCK``)."""
    overwrite: bool = False
    """BPF_F_RB_OVERWRITE: producers never wait for the consumer and overwrite the oldest
    committed records (overwrite_pos)."""
    maps: tuple[str, ...] = ("ringbuf",)
    """The map types this behaviour exists for."""


VARIANTS_BY_NAME: dict[str, Rules] = {}
"""Every variant the model knows, oldest first."""


def register(rules: Rules) -> Rules:
    """Add ``rules`` to the registry (one entry per kernel behaviour)."""
    if rules.name in VARIANTS_BY_NAME:
        raise ValueError(f"variant {rules.name} registered twice")
    if rules.lock not in LOCKS:
        raise ValueError(f"variant {rules.name}: lock {rules.lock!r} is not one of {', '.join(LOCKS)}")
    VARIANTS_BY_NAME[rules.name] = rules
    return rules


V5_8 = register(Rules("v5.8", "Linux 5.8 (457f44363a88), the original algorithm",
                      checks_record_size=False, pending_scan=False))
V5_13 = register(Rules("v5.13", "Linux 5.13 to 6.9 (4b81ccebaeee, the CVE-2021-3489 fix)",
                       checks_record_size=True, pending_scan=False))
V6_10 = register(Rules("v6.10", "Linux 6.10 to 6.14 (cfa1a2329a69, the CVE-2024-41009 fix)",
                       checks_record_size=True, pending_scan=True, maps=("ringbuf", "user")))
V6_15 = register(Rules("v6.15", "Linux 6.15 and later (a650d38915c1: the ring's lock becomes an rqspinlock)",
                       checks_record_size=True, pending_scan=True, lock=RQSPINLOCK, maps=("ringbuf", "user")))
"""The same reserve as v6.10 under a lock that can fail: the user ring buffer exists since 6.1,
so this behaviour is stated for both map types (the user ring never takes the lock)."""
V6_19_OVERWRITE = register(Rules(
    "v6.19-overwrite", "Linux 6.19 rings created with BPF_F_RB_OVERWRITE (feeaf1346f80): reserve "
    "checks space against pending_pos only and advances overwrite_pos over the oldest committed "
    "records; modelled with the plain spinlock, the lock's failure modes being v6.15's",
    checks_record_size=True, pending_scan=True, overwrite=True))


def rules_of(name: str) -> Rules:
    """The rules of variant ``name`` (KeyError for an unknown one; ``Config`` validates first)."""
    return VARIANTS_BY_NAME[name]


def variant_names() -> tuple[str, ...]:
    """Every variant name, oldest first."""
    return tuple(VARIANTS_BY_NAME)

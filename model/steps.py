"""The registry of protocol steps: what each step stands for and which memory it touches.

Every transition function in ``model.producer``, ``model.consumer`` and
``model.adversary`` is registered here with the ``@step`` decorator, which
records the kernel or libbpf function it stands for, its section in
docs/protocol.md and each shared-memory access with its ordering. The orderings
are not used by the sequentially consistent model; they are the hook a weak
memory mode will use without rewriting the transitions, and trace viewers show
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

PLAIN, ACQUIRE, RELEASE, XCHG = "plain", "acquire", "release", "xchg"


@dataclass(frozen=True)
class Access:
    """One shared-memory access of a step: variable, load/store/rmw, ordering."""

    var: str
    kind: str
    order: str

    def __str__(self) -> str:
        return f"{self.kind} {self.var} ({self.order})"


@dataclass(frozen=True)
class StepInfo:
    """What a reader needs to map a trace line to kernel or libbpf code."""

    name: str
    actor: str
    function: str
    protocol: str
    accesses: tuple[Access, ...]
    doc: str
    module: str = ""
    """The module that registered it (which model the step belongs to: the kernel ring's
    producer, consumer or attacker, the user ring buffer's, ...)."""


STEPS: dict[str, StepInfo] = {}
"""Step name (``reserve.lock``) to its description, in protocol order."""


def load(var: str, order: str = PLAIN) -> Access:
    """A read of shared variable ``var``."""
    return Access(var, "load", order)


def store(var: str, order: str = PLAIN) -> Access:
    """A write of shared variable ``var``."""
    return Access(var, "store", order)


def rmw(var: str, order: str = XCHG) -> Access:
    """An atomic read-modify-write of ``var``."""
    return Access(var, "rmw", order)


def step(name: str, actor: str, function: str, protocol: str,
         accesses: tuple[Access, ...] = ()) -> Callable:
    """Register the decorated transition function as protocol step ``name``."""

    def register(fn: Callable) -> Callable:
        if name in STEPS:
            raise ValueError(f"step {name} registered twice")
        STEPS[name] = StepInfo(name, actor, function, protocol, tuple(accesses),
                               (fn.__doc__ or "").strip().split("\n")[0], fn.__module__)
        fn.step_name = name
        return fn

    return register

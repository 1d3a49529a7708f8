"""Litmus programs and an exhaustive explorer, on exactly the memory models the ring model uses.

A litmus program is a few threads, each a short list of instructions, over a
few locations; the question is which final outcomes (register values and
final memory) a memory model allows. ``explore`` runs every interleaving of
the threads together with the model's internal steps (TSO flushes) and every
choice a load or store has (RA), and returns the set of outcomes at the end,
where every thread is done and no store is buffered.

The classic shapes are defined below (``SB``, ``MP``, ...) with the outcome
each one is about (``weak``: the relaxed behaviour). The tests in
``tests/model/memory`` check the textbook verdicts; ``verdict_table`` prints
them for docs/memory-models.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, NamedTuple

from model.memory.base import MemoryModel
from model.steps import ACQUIRE, PLAIN, RELEASE, XCHG


# ------------------------------------------------------------ instructions


class Load(NamedTuple):
    """``reg = load(loc)`` with an order (PLAIN = READ_ONCE, ACQUIRE = smp_load_acquire)."""

    reg: str
    loc: str
    order: str = PLAIN


class Store(NamedTuple):
    """``store(loc, value)`` with an order (PLAIN = WRITE_ONCE, RELEASE = smp_store_release)."""

    loc: str
    value: int
    order: str = PLAIN


class Xchg(NamedTuple):
    """``reg = xchg(loc, value)``: an rmw (XCHG: fully ordered, as the kernel's xchg)."""

    reg: str
    loc: str
    value: int
    order: str = XCHG


class Fence(NamedTuple):
    """``smp_mb()``: a full fence."""


Instruction = Load | Store | Xchg | Fence


@dataclass(frozen=True, eq=False)
class Program:
    """A litmus program: initial memory, threads, and the outcome it asks about."""

    name: str
    init: Mapping[str, int]
    threads: tuple[tuple[Instruction, ...], ...]
    weak: Mapping[str, int] = field(default_factory=dict)
    """The relaxed outcome the shape is named for (registers and/or final memory)."""

    def registers(self) -> tuple[str, ...]:
        regs = [ins.reg for thread in self.threads for ins in thread if isinstance(ins, (Load, Xchg))]
        if len(set(regs)) != len(regs):
            raise ValueError(f"{self.name}: a register is assigned twice")
        if set(regs) & set(self.init):
            raise ValueError(f"{self.name}: a register has a location's name")
        return tuple(regs)


Outcome = frozenset
"""A final outcome: frozenset of (name, value), a name being a register or a location."""


@dataclass(frozen=True)
class Exploration:
    """What ``explore`` found: the final outcomes, the states seen, whether a bound cut."""

    outcomes: frozenset[Outcome]
    states: int
    bounded: bool

    def allows(self, partial: Mapping[str, int]) -> bool:
        """Some final outcome agrees with every (name, value) of ``partial``."""
        want = set(partial.items())
        return any(want <= outcome for outcome in self.outcomes)


# ------------------------------------------------------------ explorer


class _Config(NamedTuple):
    pcs: tuple[int, ...]
    regs: tuple[int, ...]
    mem: object


def explore(program: Program, model: MemoryModel) -> Exploration:
    """Every final outcome of ``program`` under ``model`` (exhaustive, depth-first, with a visited set)."""
    regs = program.registers()
    reg_index = {r: i for i, r in enumerate(regs)}
    start = _Config((0,) * len(program.threads), (0,) * len(regs),
                    model.initial(program.init, len(program.threads)))
    seen = {start}
    stack = [start]
    outcomes: set[Outcome] = set()
    bounded = False
    while stack:
        c = stack.pop()
        successors: list[_Config] = []
        for t, thread in enumerate(program.threads):
            if c.pcs[t] < len(thread):
                for nxt, cut in _execute(model, c, t, thread[c.pcs[t]], reg_index):
                    successors.append(nxt)
                    bounded |= cut
        for step in model.internal_steps(c.mem):
            successors.append(c._replace(mem=step.mem))
        if not successors:
            if not _finished(program, c) or not model.quiescent(c.mem):
                raise RuntimeError(f"{program.name}: stuck in {c} under {model.name}")
            outcomes.add(frozenset(list(zip(regs, c.regs)) +
                                   [(loc, model.value(c.mem, loc)) for loc in program.init]))
        for nxt in successors:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return Exploration(frozenset(outcomes), len(seen), bounded)


def _finished(program: Program, c: _Config) -> bool:
    return all(pc == len(thread) for pc, thread in zip(c.pcs, program.threads))


def _execute(model: MemoryModel, c: _Config, t: int, ins: Instruction,
             reg_index: Mapping[str, int]) -> Iterable[tuple[_Config, bool]]:
    """Each successor of thread ``t`` running ``ins``, with whether a bound cut it."""
    pcs = c.pcs[:t] + (c.pcs[t] + 1,) + c.pcs[t + 1:]
    if isinstance(ins, Load):
        for r in model.load(c.mem, t, ins.loc, ins.order):
            yield _Config(pcs, _set_reg(c.regs, reg_index[ins.reg], r.value), r.mem), r.bounded
    elif isinstance(ins, Store):
        for w in model.store(c.mem, t, ins.loc, ins.value, ins.order):
            yield _Config(pcs, c.regs, w.mem), w.bounded
    elif isinstance(ins, Xchg):
        for r in model.rmw(c.mem, t, ins.loc, lambda _old: ins.value, ins.order):
            yield _Config(pcs, _set_reg(c.regs, reg_index[ins.reg], r.value), r.mem), r.bounded
    else:
        for mem in model.fence(c.mem, t):
            yield _Config(pcs, c.regs, mem), False


def _set_reg(regs: tuple[int, ...], i: int, value: int) -> tuple[int, ...]:
    return regs[:i] + (value,) + regs[i + 1:]


# ------------------------------------------------------------ the classic shapes

XY = {"x": 0, "y": 0}

SB = Program("SB", XY, (
    (Store("x", 1), Load("r0", "y")),
    (Store("y", 1), Load("r1", "x")),
), weak={"r0": 0, "r1": 0})
"""Store buffering: each thread stores, then loads the other's location."""

SB_REL_ACQ = Program("SB+rel+acq", XY, (
    (Store("x", 1, RELEASE), Load("r0", "y", ACQUIRE)),
    (Store("y", 1, RELEASE), Load("r1", "x", ACQUIRE)),
), weak={"r0": 0, "r1": 0})
"""SB with a store-release and a load-acquire: the consumer_pos / producer_pos shape of the lost wakeup."""

SB_FENCES = Program("SB+mb", XY, (
    (Store("x", 1), Fence(), Load("r0", "y")),
    (Store("y", 1), Fence(), Load("r1", "x")),
), weak={"r0": 0, "r1": 0})
"""SB with smp_mb() between store and load in both threads."""

SB_XCHG = Program("SB+xchg", XY, (
    (Xchg("a0", "x", 1), Load("r0", "y", ACQUIRE)),
    (Xchg("a1", "y", 1), Load("r1", "x", ACQUIRE)),
), weak={"r0": 0, "r1": 0})
"""SB whose stores are xchg: the commit's xchg followed by its consumer_pos load."""

LOST_WAKEUP = Program("SB+xchg+rel", {"hdr": 1, "cons": 0}, (
    (Xchg("a0", "hdr", 0), Load("r0", "cons", ACQUIRE)),
    (Store("cons", 1, RELEASE), Load("r1", "hdr", ACQUIRE)),
), weak={"r0": 0, "r1": 1})
"""The lost wakeup in miniature: the producer's commit clears BUSY in the header by xchg and reads
consumer_pos; the consumer publishes consumer_pos and reads the header. The weak outcome: the producer
sees the old consumer_pos (no wakeup) and the consumer still sees BUSY (goes to sleep)."""

LOST_WAKEUP_FENCED = Program("SB+xchg+rel+mb", {"hdr": 1, "cons": 0}, (
    (Xchg("a0", "hdr", 0), Load("r0", "cons", ACQUIRE)),
    (Store("cons", 1, RELEASE), Fence(), Load("r1", "hdr", ACQUIRE)),
), weak={"r0": 0, "r1": 1})
"""The same with smp_mb() in the consumer between its store and its load: the wakeup is not lost."""

MP = Program("MP", XY, (
    (Store("x", 1), Store("y", 1)),
    (Load("r0", "y"), Load("r1", "x")),
), weak={"r0": 1, "r1": 0})
"""Message passing, all accesses relaxed: data x, then flag y."""

MP_REL_ACQ = Program("MP+rel+acq", XY, (
    (Store("x", 1), Store("y", 1, RELEASE)),
    (Load("r0", "y", ACQUIRE), Load("r1", "x")),
), weak={"r0": 1, "r1": 0})
"""MP with a store-release of the flag and a load-acquire of it."""

MP_FENCES = Program("MP+mb", XY, (
    (Store("x", 1), Fence(), Store("y", 1)),
    (Load("r0", "y"), Fence(), Load("r1", "x")),
), weak={"r0": 1, "r1": 0})
"""MP with relaxed accesses and smp_mb() on both sides."""

LB = Program("LB", XY, (
    (Load("r0", "x"), Store("y", 1)),
    (Load("r1", "y"), Store("x", 1)),
), weak={"r0": 1, "r1": 1})
"""Load buffering: each thread loads, then stores what the other loads."""

IRIW_ACQ = Program("IRIW+acq", XY, (
    (Store("x", 1),),
    (Store("y", 1),),
    (Load("r0", "x", ACQUIRE), Load("r1", "y", ACQUIRE)),
    (Load("r2", "y", ACQUIRE), Load("r3", "x", ACQUIRE)),
), weak={"r0": 1, "r1": 0, "r2": 1, "r3": 0})
"""Independent reads of independent writes: two readers see the two writes in opposite orders."""

TWO_TWO_W = Program("2+2W", XY, (
    (Store("x", 1, RELEASE), Store("y", 2, RELEASE)),
    (Store("y", 1, RELEASE), Store("x", 2, RELEASE)),
), weak={"x": 1, "y": 1})
"""Two writers, two locations, opposite orders: both first stores end up last in coherence."""

CORR = Program("CoRR", {"x": 0}, (
    (Store("x", 1),),
    (Load("r0", "x"), Load("r1", "x")),
), weak={"r0": 1, "r1": 0})
"""Coherence of read-read: a second load of x never goes back to an older value."""

SHAPES = (SB, SB_REL_ACQ, SB_FENCES, SB_XCHG, LOST_WAKEUP, LOST_WAKEUP_FENCED, MP, MP_REL_ACQ, MP_FENCES, LB, IRIW_ACQ,
          TWO_TWO_W, CORR)


def verdict_table(models: Iterable[MemoryModel]) -> str:
    """A markdown table: for each shape, whether each model allows its weak outcome."""
    models = list(models)
    lines = ["| shape | weak outcome | " + " | ".join(m.name for m in models) + " |",
             "|---|---|" + "---|" * len(models)]
    for shape in SHAPES:
        weak = ", ".join(f"{k}={v}" for k, v in shape.weak.items())
        cells = ["allowed" if explore(shape, m).allows(shape.weak) else "forbidden" for m in models]
        lines.append(f"| {shape.name} | {weak} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

"""How long a reservation can be made to wait for the ring's lock (issue 15; docs/protocol.md#7).

The figure: the largest number of *critical-section steps* (a lock taken, a
header scanned, the space check with its unlock) that other producers complete
while one reservation waits at its lock step, over every reachable schedule.
It is computed for the two kinds of waiter separately:

* a task-context reservation, which spins (every variant) and, with the
  rqspinlock's ``lock_timeout``, may give up meanwhile;
* an NMI reservation. Under the spinlock (up to v6.14) it never waits: its
  trylock fails at once, so its figure is 0 by construction. Under the
  rqspinlock (v6.15) an NMI that did not interrupt the holder spins on another
  CPU like any waiter, and, since the kernel's NMI waiters spin on a trylock
  without taking a place in the MCS queue, every other producer can overtake
  it: the model's lock, which is not FIFO, is exact for them.

For task-context waiters the kernel's queue serves waiters in order, so the
model's figure (any waiter may take a freed lock) is an upper bound for them.

The model is untimed, so the figure counts steps, not nanoseconds; each step
of a critical section is a few memory accesses in the kernel, and the scan's
header reads are the part that grows with the ring's contents. The 250 ms
timeout is the kernel's bound on a wait whatever the step count.

How: the reachable graph is explored breadth first; for each producer ``p``
the states where ``p`` waits form a subgraph, every edge of which is a step of
another actor (``p``'s own lock step leaves it); an edge weighs 1 when it is a
step of another producer holding the lock before or after it. The longest
path is found over the strongly connected components (Tarjan, iteratively):
steps inside a component weigh 0 (consumer polling loops), and a weighed step
inside one would make the wait unbounded, which is then reported as such.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field

import click

from model.actions import Action
from model.config import Config
from model.ringbuf import RingBufModel
from model.state import P_LOCK, State
from model.variants import RQSPINLOCK
from checker.cli_options import config_options

DEFAULT_MAX_STATES = 2_000_000
"""The exploration stops here; the figure is then a lower bound, and says so."""


@dataclass
class WaitFigure:
    """The longest wait of one kind of waiter, with a schedule that shows it."""

    kind: str
    """``task`` or ``nmi``."""
    steps: int | None
    """Critical-section steps of other producers during the wait; None when no such reservation waits."""
    unbounded: bool = False
    schedule: list[str] = field(default_factory=list)
    """Actions from the initial state: the waiter's arrival at its lock step, then the wait."""
    wait_from: int = 0
    """Index in ``schedule`` where the wait starts (the waiter is at its lock step from there on)."""
    waiter: str = ""


@dataclass
class LockWaitReport:
    """The figure for each kind of waiter, and what was explored to find it."""

    config: Config
    task: WaitFigure
    nmi: WaitFigure
    states: int
    edges: int
    seconds: float
    complete: bool

    def to_dict(self) -> dict:
        def fig(f: WaitFigure) -> dict:
            return {"steps": f.steps, "unbounded": f.unbounded, "waiter": f.waiter,
                    "schedule": f.schedule, "wait_from": f.wait_from}

        return {"config": self.config.to_dict(), "task": fig(self.task), "nmi": fig(self.nmi),
                "states": self.states, "edges": self.edges, "seconds": round(self.seconds, 3),
                "complete": self.complete}

    def lines(self) -> list[str]:
        out = [f"config: {self.config.describe()}",
               f"explored {self.states} states, {self.edges} transitions in {self.seconds:.1f}s"
               + ("" if self.complete else " (stopped at the state limit: the figures are lower bounds)")]
        for f in (self.task, self.nmi):
            if f.steps is None:
                out.append(f"{f.kind} reservation: none in this configuration")
                continue
            if f.kind == "nmi" and not _spins(self.config, True):
                out.append("nmi reservation: 0, it never waits: the spinlock's NMI trylock fails at once")
                continue
            size = "unbounded" if f.unbounded else f"{f.steps} critical-section step(s) of other producers"
            out.append(f"{f.kind} reservation ({f.waiter}) can be made to wait: {size}")
            if f.schedule:
                out.append(f"  schedule ({len(f.schedule)} steps, the wait from step {f.wait_from + 1}):")
                out += [f"  {i + 1:3}  {a}" for i, a in enumerate(f.schedule)]
        return out


def _explore(model: RingBufModel, max_states: int) -> tuple[list[State], list[list[tuple[int, int, Action]]],
                                                            list[tuple[int, Action | None]], bool]:
    """Every reachable state (BFS order), its successors as (target, actor's producer index or -1, action),
    and a BFS parent per state."""
    init = model.initial_states()[0]
    ids = {init: 0}
    states = [init]
    succ: list[list[tuple[int, int, Action]]] = []
    parent: list[tuple[int, Action | None]] = [(-1, None)]
    complete = True
    i = 0
    while i < len(states):
        s = states[i]
        out = []
        for action, t in model.successors(s):
            j = ids.get(t)
            if j is None:
                if len(states) >= max_states:
                    complete = False
                    continue
                j = ids[t] = len(states)
                states.append(t)
                parent.append((i, action))
            out.append((j, _producer_of(action), action))
        succ.append(out)
        i += 1
    return states, succ, parent, complete


def _producer_of(action: Action) -> int:
    actor = action.actor
    return int(actor[1:]) if actor[:1] == "p" and actor[1:].isdigit() else -1


def _weight(states: list[State], i: int, j: int, q: int, p: int) -> int:
    """1 when the step from ``i`` to ``j`` is producer ``q``'s (not ``p``'s) inside its critical section."""
    if q < 0 or q == p:
        return 0
    return int(states[i].lock == q or states[j].lock == q)


def _longest(states: list[State], succ: list, member: list[bool], p: int) -> tuple[dict[int, int], dict[int, int],
                                                                                 list[tuple[int, int]], bool]:
    """Longest weighted path from every member node, staying among members.

    Returns (best value per node, its component, each component's exit edge on the
    longest path as (from, to) or (-1, -1), whether a weighed step lies on a cycle)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    comp_of: dict[int, int] = {}
    best: dict[int, int] = {}
    exits: list[tuple[int, int]] = []
    unbounded = False
    counter = 0
    comps = 0
    for root in range(len(states)):
        if not member[root] or root in index:
            continue
        work = [(root, 0)]
        while work:
            v, k = work.pop()
            if k == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            edges = [e for e in succ[v] if member[e[0]]] if v < len(succ) else []
            recurse = False
            while k < len(edges):
                w = edges[k][0]
                k += 1
                if w not in index:
                    work.append((v, k))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp_of[w] = comps
                    comp.append(w)
                    if w == v:
                        break
                # every successor component is finished (Tarjan emits sinks first): relax from them
                inner = set(comp)
                value = 0
                arg = (-1, -1)
                for u in comp:
                    for w, q, _ in (succ[u] if u < len(succ) else []):
                        if not member[w]:
                            continue
                        wt = _weight(states, u, w, q, p)
                        if w in inner:
                            if wt:
                                unbounded = True
                            continue
                        if wt + best[w] > value or arg[0] < 0 and wt + best[w] >= value:
                            value, arg = wt + best[w], (u, w)
                for u in comp:
                    best[u] = value
                exits.append(arg)
                comps += 1
            if work:
                parent_v = work[-1][0]
                low[parent_v] = min(low[parent_v], low[v])
    return best, comp_of, exits, unbounded


def _inner_path(succ: list, comp_of: dict[int, int], src: int, dst: int) -> list[tuple[int, Action]]:
    """Steps from ``src`` to ``dst`` inside their component (BFS): the uncounted steps on the way."""
    if src == dst:
        return []
    c = comp_of[src]
    prev: dict[int, tuple[int, Action]] = {src: (-1, None)}  # type: ignore[dict-item]
    queue = [src]
    for v in queue:
        for w, _, a in succ[v]:
            if w not in prev and comp_of.get(w) == c:
                prev[w] = (v, a)
                if w == dst:
                    queue = []
                    break
                queue.append(w)
    path = []
    v = dst
    while v != src:
        u, a = prev[v]
        path.append((v, a))
        v = u
    return path[::-1]


def _schedule(succ: list, parent: list, start: int, best: dict[int, int], comp_of: dict[int, int],
              exits: list[tuple[int, int]]) -> tuple[list[str], int]:
    """The actions from the initial state to ``start`` (BFS parents), then along the longest wait
    up to its last counted step."""
    stem: list[str] = []
    i = start
    while parent[i][0] >= 0:
        stem.append(str(parent[i][1]))
        i = parent[i][0]
    stem.reverse()
    wait: list[str] = []
    i = start
    while best[i] > 0:
        u, w = exits[comp_of[i]]
        wait += [str(a) for _, a in _inner_path(succ, comp_of, i, u)]
        wait.append(str(next(a for t, _, a in succ[u] if t == w)))
        i = w
    return stem + wait, len(stem)


def lock_wait(cfg: Config, max_states: int = DEFAULT_MAX_STATES) -> LockWaitReport:
    """The longest lock wait of a task and of an NMI reservation in ``cfg`` (module docstring)."""
    began = time.process_time()
    model = RingBufModel(cfg)
    states, succ, parent, complete = _explore(model, max_states)
    figures = {"task": WaitFigure("task", None), "nmi": WaitFigure("nmi", None)}
    if cfg.nmi and not _spins(cfg, True):
        figures["nmi"] = WaitFigure("nmi", 0)  # the trylock: by construction, never a wait
    for p in range(cfg.producers):
        for kind, nmi in (("task", False), ("nmi", True)):
            member = [s.producers[p].pc == P_LOCK and s.producers[p].nmi == nmi and _spins(cfg, nmi)
                      for s in states]
            if not any(member):
                continue
            best, comp_of, exits, unbounded = _longest(states, succ, member, p)
            start = max(best, key=lambda v: (best[v], -v))
            fig = figures[kind]
            if fig.steps is None or best[start] > fig.steps or unbounded and not fig.unbounded:
                schedule, wait_from = _schedule(succ, parent, start, best, comp_of, exits)
                figures[kind] = WaitFigure(kind, best[start], unbounded, schedule, wait_from, f"p{p}")
    edges = sum(len(e) for e in succ)
    return LockWaitReport(cfg, figures["task"], figures["nmi"], len(states), edges,
                          time.process_time() - began, complete)


def _spins(cfg: Config, nmi: bool) -> bool:
    """Can an attempt of this kind spin on a held lock? Task context always; NMI only under the
    rqspinlock (on another CPU than the holder's); the spinlock's NMI trylock never does."""
    return not nmi or cfg.rules.lock == RQSPINLOCK


@click.command("lock-wait")
@config_options
@click.option("--max-states", default=DEFAULT_MAX_STATES, show_default=True, type=click.IntRange(1, 10**8),
              help="Stop exploring here (the figures are then lower bounds).")
@click.option("--schedule/--no-schedule", "show_schedule", default=True, show_default=True,
              help="Print the schedule that shows each longest wait.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def lock_wait_cmd(max_states: int, show_schedule: bool, as_json: bool, **kw: object) -> None:
    """How long a reservation can be made to wait for the ring's lock, in steps of other producers.

    For a task-context and for an NMI reservation: the largest number of
    critical-section steps (lock, scan, claim) other producers complete while
    it waits at its lock step, over every schedule, with a schedule that shows
    it. On v6.15 (rqspinlock) an NMI reservation on another CPU than the holder's
    waits and can be overtaken by every producer; up to v6.14 its trylock never
    waits. Exit 0; 2 on bad input.
    """
    from checker.cli_common import with_version
    from checker.cli_options import config_from_options, require_sc

    require_sc(str(kw["memory"]), "lock-wait")
    cfg = config_from_options(kw)
    report = lock_wait(cfg, max_states)
    if as_json:
        click.echo(json.dumps(with_version(report.to_dict()), indent=1))
    else:
        for line in report.lines():
            if show_schedule or not line.startswith("  "):
                click.echo(line)
    sys.exit(0)

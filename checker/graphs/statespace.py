"""The whole reachable state graph of a tiny configuration, as a networkx DiGraph.

This is the picture TLC draws with ``-dump dot``: every distinct state once,
numbered in breadth-first order, with its BFS level (distance from the
initial state), and one edge per enabled action. A state that violates a
property is marked (with the first property it breaks, in docs/protocol.md#6 order,
and the reason) and, as in the checker, not expanded further. States where
nothing more happens are marked terminal.

State graphs grow fast, so ``state_graph`` refuses beyond ``max_states``
with a one-line ``StateGraphTooLarge`` that says how to raise the limit.

Under tso/ra two states may differ only in their memory (a store still in
a buffer, an older message still readable), so each node then also holds
``memory`` and ``memory_text`` (``checker.trace_memory.state_frame``) and its
label ends with the buffers or views.
"""

from __future__ import annotations

import json
from collections import deque

import networkx as nx

from checker.graphs.attrs import state_attrs, state_label, step_attrs
from checker.memory import MemoryBudget
from checker.trace import config_dict
from checker.trace_memory import state_frame, state_lines
from model.config import Config
from model.ringbuf import build_model
from model.state import State
from specs import all_properties

DEFAULT_MAX_STATES = 2000
"""Largest state graph drawn without the user asking for more (a drawing beyond that is unreadable)."""


class StateGraphTooLarge(ValueError):
    """The configuration has more reachable states than the limit; the message is one line."""


class StateGraphOutOfMemory(Exception):
    """The graph outgrew the memory budget; the message is one line naming the bound and the states so far."""


def first_violation(config: Config, s: State, terminal: bool) -> tuple[str, str] | None:
    """(property, reason) of the first property ``s`` violates, or None."""
    for prop in all_properties(config):
        reason = prop.check(config, s, terminal)
        if reason is not None:
            return prop.name, reason
    return None


def state_graph(config: Config, max_states: int = DEFAULT_MAX_STATES, start: int = 0,
                budget: MemoryBudget | None = None) -> nx.DiGraph:
    """Every reachable state (BFS order and level) and every transition between them.

    With a ``budget``, the memory is looked at every 256 states and
    ``StateGraphOutOfMemory`` raised once it is over.
    """
    model = build_model(config, start)
    g = nx.DiGraph(name=f"state graph: {config.describe()}", kind="state graph",
                   config=config.describe(), config_json=json.dumps(config_dict(config), sort_keys=True),
                   start=start)
    ids: dict[State, int] = {}
    queue: deque[State] = deque()

    def visit(s: State, level: int) -> int:
        if s in ids:
            return ids[s]
        if len(ids) >= max_states:
            raise StateGraphTooLarge(
                f"state graph: {config.describe()} has more than {max_states} states; "
                f"pass a larger --max-states or choose a smaller configuration")
        n = ids[s] = len(ids)
        if budget is not None and n & 255 == 255 and budget.exceeded():
            raise StateGraphOutOfMemory(f"state graph: stopped at bound {budget.bound()} after {n} states; "
                                        f"nothing written (pass a larger --max-memory or choose a smaller "
                                        f"configuration)")
        terminal = model.is_terminal(s)
        bad = first_violation(config, s, terminal)
        label, extra = state_label(config, s), {}
        if config.weak:
            frame = state_frame(model, s)
            lines = state_lines(frame, config.memory)
            label += "\n" + "\n".join(lines)
            extra = {"memory": json.dumps(frame.to_dict(), sort_keys=True, separators=(",", ":")),
                     "memory_text": "; ".join(lines)}
        g.add_node(n, index=n, level=level, label=label, initial=level == 0,
                   terminal=terminal, violating=bad is not None,
                   property=bad[0] if bad else "", reason=bad[1] if bad else "",
                   **state_attrs(config, s), **extra)
        if bad is None:
            queue.append(s)
        return n

    for s in model.initial_states():
        visit(s, 0)
    while queue:
        s = queue.popleft()
        n = ids[s]
        level = g.nodes[n]["level"]
        for action, nxt in model.successors(s):
            m = visit(nxt, level + 1)
            if g.has_edge(n, m):
                g.edges[n, m]["action"] += " | " + str(action)
            else:
                g.add_edge(n, m, **step_attrs(action))
    return g

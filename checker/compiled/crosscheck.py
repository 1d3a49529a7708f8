"""The compiled core held to the Python model, state by state (issue 14, check (a)).

``reachable`` enumerates a configuration's reachable states with the Python
model; ``cross_check`` compares, on each, the compiled successors (action and
next state, decoded from the packed words the visited set would store) with
``RingBufModel.successors``, and the compiled predicates and terminal test
with the Python ones. It returns the first disagreement in words, or None.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from checker.compiled import predicates, steps
from checker.compiled.actions import decode_action
from checker.compiled.layout import C_MAXSUCC, build_layout, from_flat, pack, pack_changed, to_flat, unpack
from model.config import Config
from model.ringbuf import RingBufModel
from model.state import State
from specs import PROPERTIES, PROPERTY_ORDER


def reachable(cfg: Config, start: int = 0, limit: int | None = None) -> list[State]:
    """Every reachable state (breadth first, Python model), at most ``limit`` of them."""
    m = RingBufModel(cfg, start)
    seen = dict.fromkeys(m.initial_states())
    frontier = list(seen)
    while frontier and (limit is None or len(seen) < limit):
        nxt = []
        for s in frontier:
            for _, t in m.successors(s):
                if t not in seen:
                    seen[t] = None
                    nxt.append(t)
        frontier = nxt
    return list(seen)[:limit]


def cross_check(cfg: Config, start: int = 0, states: list[State] | None = None,
                step_module: ModuleType = steps) -> str | None:
    """None when the compiled core agrees with the Python model on every state, else the first difference."""
    lay = build_layout(cfg, start)
    model = RingBufModel(cfg, start)
    C, FT = lay.C, lay.FT
    cap = int(C[C_MAXSUCC])
    out = np.zeros((cap, lay.nflat), np.int64)
    act = np.zeros(cap, np.int64)
    tmp = np.zeros(lay.nflat, np.int64)
    words = np.zeros(lay.nwords, np.int64)
    back = np.zeros(lay.nflat, np.int64)
    parent_words = np.zeros(lay.nwords, np.int64)
    changed_words = np.zeros(lay.nwords, np.int64)
    for s in reachable(cfg, start) if states is None else states:
        flat = to_flat(lay, s)
        pack(C, FT, flat, parent_words)
        n = step_module.successors(C, flat, out, act, tmp)
        if n < 0:
            return f"the delivery log overflowed its packed size in {s}"
        got = []
        for i in range(n):
            action = decode_action(cfg, act[i], s)
            if not pack(C, FT, out[i], words):
                return f"successor {i} ({action}) of {s} does not fit the packed layout"
            if pack_changed(C, FT, flat, parent_words, out[i], changed_words) < 0 or (
                    changed_words != words).any():
                return f"successor {i} ({action}) of {s}: packing the changed fields differs from packing all"
            unpack(C, FT, words, back)
            got.append((action, from_flat(lay, back)))
        want = model.successors(s)
        if got != want:
            for k, (g, w) in enumerate(zip(got, want)):
                if g != w:
                    return f"successor {k} of {s}: compiled {g[0]} -> {g[1]}, Python {w[0]} -> {w[1]}"
            return f"{s}: compiled has {len(got)} successors, Python {len(want)}"
        terminal = model.is_terminal(s)
        if bool(step_module.is_terminal(C, flat)) != terminal:
            return f"is_terminal differs on {s}"
        for pid, name in enumerate(PROPERTY_ORDER):
            compiled_holds = bool(predicates.holds(C, flat, terminal, pid))
            if compiled_holds != (PROPERTIES[name].predicate(cfg, s, terminal) is None):
                return f"property {name} differs on {s}"
    return None

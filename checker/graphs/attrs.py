"""Flat, scalar attributes of one model state and one step, shared by every graph exporter.

GraphML, DOT and node-link JSON all want attributes that are plain strings,
integers or booleans, so a state is flattened here once: positions as
integers, each 8-byte word of the data area as ``hdr r0 8|BUSY`` (the header
fields) or ``data r0``, each record with its owner producer and status, each
actor's program point, and the ghost state (delivery log, irq_work, edge
event). The full lossless state is kept as JSON in ``state`` so that a graph
read back from a file still holds everything.
"""

from __future__ import annotations

import json
import re

from model.actions import Action
from model.codec import consumer_str, producer_str, record_str, slot_str, state_to_dict, state_view
from model.config import Config
from model.state import CONSUMER_PC_NAMES, PRODUCER_PC_NAMES, State
from model.steps import STEPS


PROTOCOL_DOC = "docs/protocol.md"
"""ringcheck's protocol reference, in the repository; every step's citation has an anchor there."""

LABEL_ALL_WORDS = 16
"""Drawn labels list every word of rings up to this many words, only the written ones beyond."""


def protocol_ref(citation: str) -> str:
    """Where a step's protocol citation is explained: ``3 reserve.4`` -> ``docs/protocol.md#3-reserve-4``."""
    return f"{PROTOCOL_DOC}#{re.sub(r'[^a-z0-9]+', '-', citation.lower()).strip('-')}"


def record_owner(config: Config, rid: int) -> int:
    """The producer that makes reservation attempt ``rid`` (record id = producer * E + attempt)."""
    return rid // config.records


def state_attrs(config: Config, s: State) -> dict[str, str | int | bool]:
    """Scalar attributes of a state, in a fixed order (attribute names are GraphML/DOT safe)."""
    if not isinstance(s, State):
        from checker.graphs.user_attrs import user_state_attrs
        return user_state_attrs(config, s)
    a: dict[str, str | int | bool] = {
        "consumer_pos": s.consumer_pos,
        "producer_pos": s.producer_pos,
        "pending_pos": s.pending_pos,
        "lock": "free" if s.lock < 0 else f"p{s.lock}",
    }
    for i, w in enumerate(s.slots):
        a[f"mem_{8 * i}"] = slot_str(w)
    for rid, r in enumerate(s.records):
        a[f"r{rid}"] = f"owner=p{record_owner(config, rid)} {record_str(r)}"
    for p, pr in enumerate(s.producers):
        a[f"p{p}_pc"] = PRODUCER_PC_NAMES[pr.pc]
        a[f"p{p}"] = producer_str(pr)
    a["consumer_pc"] = CONSUMER_PC_NAMES[s.consumer.pc]
    a["consumer"] = consumer_str(s.consumer)
    a["irq_pending"] = s.irq_pending
    a["edge_ready"] = s.edge_ready
    a["delivered"] = state_view(s)["delivered"]
    a["state"] = json.dumps(state_to_dict(s), sort_keys=True, separators=(",", ":"))
    return a


def state_label(config: Config, s: State) -> str:
    """A few lines for a box in a drawing: positions, lock, the data area word by word."""
    if not isinstance(s, State):
        from checker.graphs.user_attrs import user_state_label
        return user_state_label(config, s)
    lines = [f"cons={s.consumer_pos} prod={s.producer_pos}" +
             (f" pend={s.pending_pos}" if config.has_pending else ""),
             "lock " + ("free" if s.lock < 0 else f"p{s.lock}")]
    words = [(i, w) for i, w in enumerate(s.slots) if w or len(s.slots) <= LABEL_ALL_WORDS]
    lines += [f"[{8 * i}] {slot_str(w)}" for i, w in words]
    lines += [f"p{p}: {PRODUCER_PC_NAMES[pr.pc]}" for p, pr in enumerate(s.producers)]
    if config.honest:
        lines.append(f"c: {CONSUMER_PC_NAMES[s.consumer.pc]}")
    return "\n".join(lines)


def step_attrs(action: Action, changes: list[tuple[str, str, str]] | None = None) -> dict[str, str]:
    """Scalar attributes of a step: who, which step, the kernel/libbpf function, what changed."""
    info = STEPS.get(action.step)
    a = {
        "action": str(action),
        "actor": action.actor,
        "step": action.step,
        "function": info.function if info else "",
        "protocol": info.protocol if info else "",
    }
    if changes is not None:
        a["changed"] = "; ".join(f"{k}: {x} -> {y}" for k, x, y in changes)
    return a

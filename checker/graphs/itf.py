"""ITF (Informal Trace Format) export and import: the trace format of Apalache and Quint.

An ITF file (``*.itf.json``) is one JSON object: ``#meta`` (free-form; here the
configuration, start position and the violated property), ``vars`` (the
variable names) and ``states``, a list of objects, each with
``"#meta": {"index": i}`` and one entry per variable. Values follow the ITF
rules: integers as ``{"#bigint": "16"}`` (JSON numbers are avoided so that
64-bit positions survive every JSON reader), booleans and strings as
themselves, records as objects, sequences as lists, tuples as
``{"#tup": [...]}``, sets as ``{"#set": [...]}`` and maps as
``{"#map": [[key, value], ...]}``.

The ring buffer's variables in ITF:

* ``action``: the step that led to this state (``init`` for state 0);
* ``consumer_pos``, ``producer_pos``, ``pending_pos``, ``lock`` (-1 when free);
* ``mem``: map from byte offset to the 8-byte word there
  ``{kind: empty|header|payload, owner: record id or -1, len: header len word}``;
* ``records``: map from record id to ``{owner, status, pos, size, seq}``;
* ``busy``: the set of record ids reserved and not yet committed (derived);
* ``producers``: sequence of ``{pc, attempts, cur, size, nmi, cons, prod, pend, held, flags}``;
* ``consumer``: ``{pc, cons, prod, got_new, len}``;
* ``irq_pending``, ``edge_ready``; ``delivered``: sequence of ``<<record id, intact>>``.

Under a weak memory model (``--memory tso`` or ``ra``) the memory state is
in further variables (``WEAK_VARS``), each from ``checker.trace_memory``'s
frames, with locations and values written as the text trace writes them
(``consumer_pos``, ``mem[8]``, ``hdr r0 8|BUSY``):

* tso: ``buffers``, map from actor (``p0``, ``c``, ``user``) to its store
  buffer, oldest first, a sequence of ``<<location, value>>``; ``main_memory``,
  map from location to the value in memory (buffers not included);
* ra: ``views``, map from actor to (map from location to the timestamp it
  has seen); ``messages``, map from location to the sequence of its messages
  ``{value, ts, view}``, oldest first;
* both: ``reads_now``, map from actor to (map from location to the sequence
  of values a plain load could return now, newest first); ``step_reads``, the
  loads the step made, ``{actor, location, value, order, stale, newest}``;
  ``stale_read``, whether one of them was stale; ``flush``, a sequence of at
  most one ``{actor, location, value}``: the store the step flushed.

The ring buffer variables are then each location's newest value (a buffered
store counts, ``model.state``). The memory model, its bound and the overrides
are in ``#meta.config``. ``decode_trace`` turns such a file back into a
``Trace`` (the tests check it gives the same states and replays in the
model); a weak trace is rebuilt by replaying its actions, and every state's
ring buffer variables must then agree with the file.

A lasso (a liveness counterexample) carries ITF's ``loop``: the index of the
state the cycle starts at; the cycle runs from there to the last state, which
is followed by ``states[loop]`` again. The trace's closing step (the one back
to the loop state) has no state of its own in ITF, so its action is kept in
``#meta.loop_action``; a cycle of no steps (stuttering) has ``loop`` equal to
the last index and no ``loop_action``.
"""

from __future__ import annotations

import json
from typing import Any

from checker import __version__
from checker.graphs.attrs import record_owner
from checker.json_input import JsonInputError, load_json
from checker.trace import Step, Trace, TraceError, config_dict
from checker.trace_memory import MemoryFrame
from model.actions import ActionSyntaxError, parse_action
from model.codec import slot_to_dict, state_from_dict, state_to_dict
from model.config import Config, ConfigError
from model.state import BUSY, State

ITF_VARS = ("action", "consumer_pos", "producer_pos", "pending_pos", "lock", "mem", "records", "busy",
            "producers", "consumer", "irq_pending", "edge_ready", "delivered")


WEAK_VARS = {"tso": ("buffers", "main_memory", "reads_now", "step_reads", "stale_read", "flush"),
             "ra": ("views", "messages", "reads_now", "step_reads", "stale_read", "flush")}
"""The further variables of a weak-memory trace (module docstring), by memory model."""


def itf_vars(config: Config) -> tuple[str, ...]:
    """Every variable of a trace of ``config``: ``ITF_VARS``, and ``WEAK_VARS`` under tso/ra."""
    return ITF_VARS + WEAK_VARS.get(config.memory, ())


class ItfMap(dict):
    """A dict to be written as an ITF ``#map`` (keys of any type) rather than a record."""


# ---------------------------------------------------------------- generic values


def encode_value(v: Any) -> Any:
    """A Python value in ITF form: int, bool, str, tuple, list, frozenset/set, ItfMap, dict (record)."""
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)}
    if isinstance(v, tuple):
        return {"#tup": [encode_value(x) for x in v]}
    if isinstance(v, list):
        return [encode_value(x) for x in v]
    if isinstance(v, (set, frozenset)):
        items = [encode_value(x) for x in v]
        return {"#set": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if isinstance(v, ItfMap):
        return {"#map": [[encode_value(k), encode_value(x)] for k, x in v.items()]}
    if isinstance(v, dict):
        return {str(k): encode_value(x) for k, x in v.items()}
    raise TypeError(f"ITF cannot hold a {type(v).__name__}")


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    return v


def decode_value(v: Any) -> Any:
    """Inverse of ``encode_value`` (sets come back as frozenset, maps as ItfMap)."""
    if isinstance(v, list):
        return [decode_value(x) for x in v]
    if isinstance(v, dict):
        if "#bigint" in v:
            return int(v["#bigint"])
        if "#tup" in v:
            return tuple(decode_value(x) for x in v["#tup"])
        if "#set" in v:
            return frozenset(_hashable(decode_value(x)) for x in v["#set"])
        if "#map" in v:
            return ItfMap((_hashable(decode_value(k)), decode_value(x)) for k, x in v["#map"])
        if "#unserializable" in v:
            raise ValueError(f"unserializable ITF value {v['#unserializable']!r}")
        return {k: decode_value(x) for k, x in v.items()}
    if isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, float)):
        raise ValueError(f"plain JSON number {v!r}; ITF writes integers as {{\"#bigint\": ...}}")
    raise ValueError(f"not an ITF value: {v!r}")


# ---------------------------------------------------------------- states


def state_vars(config: Config, s: State, action: str) -> dict[str, Any]:
    """One state as the ITF variables listed in the module docstring (Python values)."""
    d = state_to_dict(s)
    mem = ItfMap()
    for i, w in enumerate(s.slots):
        slot = slot_to_dict(w)
        mem[8 * i] = {"kind": slot["kind"], "owner": slot.get("owner", -1), "len": slot.get("len", 0)}
    records = ItfMap((rid, {"owner": record_owner(config, rid), **r}) for rid, r in enumerate(d["records"]))
    return {
        "action": action,
        "consumer_pos": s.consumer_pos,
        "producer_pos": s.producer_pos,
        "pending_pos": s.pending_pos,
        "lock": s.lock,
        "mem": mem,
        "records": records,
        "busy": frozenset(rid for rid, r in enumerate(s.records) if r.status == BUSY),
        "producers": d["producers"],
        "consumer": d["consumer"],
        "irq_pending": s.irq_pending,
        "edge_ready": s.edge_ready,
        "delivered": [(rec, ok) for rec, ok in s.delivered],
    }


def memory_vars(frame: MemoryFrame, memory: str) -> dict[str, Any]:
    """One weak-memory frame as the ``WEAK_VARS`` of its model (Python values)."""
    v: dict[str, Any] = {}
    if memory == "tso":
        v["buffers"] = ItfMap((a.actor, [(loc, val) for loc, val in a.buffer or ()]) for a in frame.actors)
        v["main_memory"] = ItfMap(frame.memory)
    else:
        v["views"] = ItfMap((a.actor, ItfMap(a.view or ())) for a in frame.actors)
        v["messages"] = ItfMap((loc, [{"value": m.value, "ts": m.ts, "view": ItfMap(m.view)} for m in msgs])
                               for loc, msgs in frame.messages or ())
    v["reads_now"] = ItfMap((a.actor, ItfMap((loc, list(vals)) for loc, vals in a.readable))
                            for a in frame.actors)
    v["step_reads"] = [r.to_dict() for r in frame.reads]
    v["stale_read"] = frame.stale
    v["flush"] = [frame.flush.to_dict()] if frame.flush is not None else []
    return v


def state_from_vars(v: dict[str, Any]) -> State:
    """Inverse of ``state_vars`` (derived variables are ignored)."""
    mem = v["mem"]
    slots = []
    for off in sorted(mem):
        w = mem[off]
        slots.append({"kind": w["kind"], "owner": w["owner"], "len": w["len"]})
    records = [{k: r[k] for k in ("status", "pos", "size", "seq")} for _, r in sorted(v["records"].items())]
    return state_from_dict({
        "consumer_pos": v["consumer_pos"], "producer_pos": v["producer_pos"],
        "pending_pos": v["pending_pos"], "lock": v["lock"], "slots": slots, "records": records,
        "producers": v["producers"], "consumer": v["consumer"], "irq_pending": v["irq_pending"],
        "edge_ready": v["edge_ready"], "delivered": [list(t) for t in v["delivered"]],
    })


# ---------------------------------------------------------------- traces


def itf_dict(trace: Trace) -> dict:
    """The trace as an ITF object."""
    actions = ["init"] + [str(st.action) for st in trace.steps]
    frames = trace.memory_frames()
    closes = trace.loop is not None and trace.loop < len(trace.steps)
    shown = trace.states[:-1] if closes else trace.states
    states = []
    for i, (s, a) in enumerate(zip(shown, actions)):
        v = state_vars(trace.config, s, a)
        if frames is not None:
            v.update(memory_vars(frames[i], trace.config.memory))
        states.append({"#meta": {"index": i}, **encode_value(v)})
    meta = {
        "format": "ITF",
        "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
        "source": "ringcheck",
        "version": __version__,
        "description": f"ring buffer trace: {trace.config.describe()}",
        "config": config_dict(trace.config),
        "start": trace.start,
        "property": trace.property,
        "reason": trace.reason,
    }
    if closes:
        meta["loop_action"] = actions[-1]
    out = {"#meta": meta, "vars": list(itf_vars(trace.config)), "states": states}
    if trace.loop is not None:
        out["loop"] = trace.loop
    return out


def itf_text(trace: Trace) -> str:
    """The trace as ITF JSON text (deterministic)."""
    return json.dumps(itf_dict(trace), indent=1) + "\n"


def decode_trace(d: dict) -> Trace:
    """An ITF object written by ``itf_dict`` back into a Trace; TraceError (one line) if malformed."""
    if not isinstance(d, dict) or not isinstance(d.get("#meta"), dict) or not isinstance(d.get("states"), list):
        raise TraceError("itf: expected an object with \"#meta\" (an object) and \"states\" (a list)")
    meta = d["#meta"]
    for key in ("property", "reason"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise TraceError(f"itf: #meta.{key} must be a string or null, not {type(meta[key]).__name__}")
    start = meta.get("start", 0)
    if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start < 2**64 or start % 8:
        raise TraceError("itf: #meta.start must be a multiple of 8 in [0, 2**64)")
    for i, st in enumerate(d["states"]):
        if not isinstance(st, dict) or not isinstance(st.get("#meta"), dict):
            raise TraceError(f"itf: state {i} must be an object with a \"#meta\" object")
    try:
        cfg = Config.from_dict(meta["config"])
        decoded = [decode_value({k: x for k, x in st.items() if k != "#meta"}) for st in d["states"]]
        for i, st in enumerate(d["states"]):
            if st["#meta"]["index"] != i:
                raise ValueError(f"state {i} has #meta.index {st['#meta']['index']}")
        states = [state_from_vars(v) for v in decoded]
        steps = [Step(parse_action(v["action"]), s) for v, s in zip(decoded[1:], states[1:])]
        loop = d.get("loop")
        if loop is not None:
            loop = int(decode_value(loop)) if isinstance(loop, dict) else int(loop)
            if not 0 <= loop < len(states):
                raise ValueError(f"loop {loop} is not a state index")
            if "loop_action" in meta:
                steps.append(Step(parse_action(meta["loop_action"]), states[loop]))
        if cfg.weak:
            trace = Trace.rebuilt(cfg, steps, states[:1] + [st.state for st in steps], start)
            trace.property, trace.reason, trace.loop = meta.get("property"), meta.get("reason"), loop
            return trace
        return Trace(cfg, states[0], steps, meta.get("property"), meta.get("reason"), start, loop)
    except TraceError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, OverflowError, RecursionError,
            ConfigError, ActionSyntaxError) as e:
        text = " ".join(str(e).split())
        raise TraceError(f"itf: malformed ITF trace ({type(e).__name__}: {text[:120]})") from None


def load_itf(text: str) -> Trace:
    """Parse ITF JSON text into a Trace."""
    try:
        d = load_json(text)
    except JsonInputError as e:
        raise TraceError(f"itf: {e}") from None
    return decode_trace(d)

"""What a weak-memory trace shows beside each step: buffers or views, messages, flushes, stale reads.

Under ``--memory sc`` the State's shared fields are memory and there is
nothing more to show: ``memory_frames`` returns None and every output is what
it always was. Under tso and ra the State carries the memory model's state
(``State.memory``, ``model.state``), and the shared fields are only its
projection (the newest value of each location). What a student needs to see
*why* a wakeup was lost is what each actor would read now, and that is here:

* per state, a ``MemoryFrame``: for every actor its store buffer (TSO) or
  view (RA) and, for every location, the values a plain load by that actor
  could return now (``MemoryModel.readable``, newest first); and the shared
  memory (TSO: main memory; RA: each location's messages);
* per step, the loads it made (``RingBufModel.effects``), each with the
  memory model's ``stale`` flag (a newer value of the location existed that
  this actor did not read), and for a flush step which buffered store reached
  memory.

Locations are named as the text trace names the State's fields:
``consumer_pos``, ``producer_pos``, ``pending_pos``, ``lock`` (the
spinlock), ``mem[o]`` (the 8-byte word at offset ``o``); values as there too
(``hdr r0 8|BUSY``, ``free``/``p0``). The text trace (``checker.trace``), the
JSON trace, ITF and the HTML page (``checker.graphs``) all render these
frames, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from model.codec import slot_str
from model.config import Config
from model.memory.base import loc_name

if TYPE_CHECKING:
    from checker.trace import Trace
    from model.ringbuf import RingBufModel

MODEL_TITLES = {
    "tso": "x86-TSO: a FIFO store buffer per actor",
    "ra": "release/acquire: per location a history of messages, per actor a view",
}


@dataclass(frozen=True)
class ReadMark:
    """One load (or the read half of an rmw) a step made."""

    actor: str
    location: str
    value: str
    order: str
    stale: bool
    """The memory model's flag: a newer value of the location existed that this actor did not read."""
    newest: str
    """The newest value of the location just before the read (a buffered store counts)."""

    def to_dict(self) -> dict:
        """JSON form."""
        return {"actor": self.actor, "location": self.location, "value": self.value, "order": self.order,
                "stale": self.stale, "newest": self.newest}


@dataclass(frozen=True)
class FlushMark:
    """A TSO flush: ``actor``'s oldest buffered store reached memory."""

    actor: str
    location: str
    value: str

    def to_dict(self) -> dict:
        """JSON form."""
        return {"actor": self.actor, "location": self.location, "value": self.value}


@dataclass(frozen=True)
class ActorMemory:
    """What one actor holds privately and what it would read now."""

    actor: str
    buffer: tuple[tuple[str, str], ...] | None
    """TSO: (location, value) entries, oldest first; None under RA."""
    view: tuple[tuple[str, int], ...] | None
    """RA: the timestamp this actor has seen, per location; None under TSO."""
    readable: tuple[tuple[str, tuple[str, ...]], ...]
    """Per location, every value a plain load by this actor could return now, newest first."""

    def to_dict(self) -> dict:
        """JSON form (only the part the model has)."""
        d: dict = {}
        if self.buffer is not None:
            d["buffer"] = [[loc, v] for loc, v in self.buffer]
        if self.view is not None:
            d["view"] = dict(self.view)
        d["reads"] = {loc: list(vs) for loc, vs in self.readable}
        return d


@dataclass(frozen=True)
class Message:
    """RA: one message of a location's history."""

    value: str
    ts: int
    view: tuple[tuple[str, int], ...]
    """The view it carries (locations other than its own with a nonzero timestamp)."""


@dataclass(frozen=True)
class MemoryFrame:
    """The memory side of one state of a trace, and of the step that led to it."""

    actors: tuple[ActorMemory, ...]
    memory: tuple[tuple[str, str], ...]
    """TSO: main memory (buffers not included); RA: each location's latest message."""
    messages: tuple[tuple[str, tuple[Message, ...]], ...] | None
    """RA: each location's messages, oldest first; None under TSO."""
    reads: tuple[ReadMark, ...] = ()
    flush: FlushMark | None = None

    @property
    def stale(self) -> bool:
        """The step into this state read a stale value."""
        return any(r.stale for r in self.reads)

    def actor(self, name: str) -> ActorMemory:
        """The panel of actor ``name`` (``p0``, ``c``, ``user``)."""
        return next(a for a in self.actors if a.actor == name)

    def to_dict(self) -> dict:
        """JSON form of the state's memory (``actors``, ``memory``, ``messages``)."""
        d: dict = {"actors": {a.actor: a.to_dict() for a in self.actors}, "memory": dict(self.memory)}
        if self.messages is not None:
            d["messages"] = {loc: [{"value": m.value, "ts": m.ts, "view": dict(m.view)} for m in msgs]
                             for loc, msgs in self.messages}
        return d


# ---------------------------------------------------------------- naming


def memory_summary(config: Config) -> str | None:
    """One line naming the memory model, its bound and every ordering override; None under sc."""
    if not config.weak:
        return None
    if config.memory == "tso":
        line = f"tso ({MODEL_TITLES['tso']}, at most {config.buffer} entries: buffer={config.buffer})"
    else:
        line = f"ra ({MODEL_TITLES['ra']}, at most {config.history} messages kept: history={config.history})"
    extras = [f"--order {o}" for o in config.orders] + [f"--fence {f}" for f in config.fences]
    return line + "; overrides: " + (", ".join(extras) if extras else "none (the kernel's and libbpf's orderings)")


def location_label(loc: object) -> str:
    """A memory location as the text trace names the State field: ``lock``, ``mem[24]``."""
    if isinstance(loc, tuple):
        return f"mem[{8 * loc[1]}]"
    if loc in ("consumer_pos", "producer_pos", "pending_pos"):
        return loc
    return "lock" if loc == "spinlock" else f"{loc} (kernel)"


def value_label(loc: object, value: int) -> str:
    """A value as the text trace shows it: a slot word as ``hdr r0 8|BUSY``, the lock as ``free``/``p0``."""
    if isinstance(loc, tuple):
        return slot_str(value)
    if loc == "spinlock":
        return "free" if value < 0 else f"p{value}"
    return str(value)


def _effect_location(name: str) -> object:
    """``model.shared.location_name`` back to the location: ``slot3`` -> ``("slot", 3)``."""
    if name.startswith("slot") and name[4:].isdigit():
        return ("slot", int(name[4:]))
    return name


# ---------------------------------------------------------------- frames


def state_frame(model: "RingBufModel", s: object) -> MemoryFrame:
    """The memory side of one state of a weak-memory model (no step: no reads, no flush)."""
    weak = model.weak
    mm = weak.mm
    m = s.memory
    locs = list(weak.locations)
    by_name = _names(model, m)
    actors = []
    for a, name in enumerate(model.actor_names):
        panel = mm.panel(m, a)
        buffer = None
        if "buffer" in panel:
            buffer = tuple((location_label(by_name[l]), value_label(by_name[l], v)) for l, v in panel["buffer"])
        view = None
        if "view" in panel:
            view = tuple((location_label(by_name[l]), ts) for l, ts in panel["view"].items() if l in by_name)
        readable = tuple((location_label(loc), tuple(value_label(loc, v) for v in mm.readable(m, a, loc)))
                         for loc in locs)
        actors.append(ActorMemory(name, buffer, view, readable))
    memory = tuple((location_label(loc), value_label(loc, mm.value(m, loc))) for loc in locs)
    messages = None
    shared = mm.shared_panel(m)
    if "messages" in shared:
        real = {loc_name(loc) for loc in locs}
        messages = tuple(
            (location_label(by_name[l]),
             tuple(Message(value_label(by_name[l], msg["value"]), msg["ts"],
                           tuple((location_label(by_name[k]), t) for k, t in msg["view"].items()))
                   for msg in msgs))
            for l, msgs in shared["messages"].items() if l in real)
    return MemoryFrame(tuple(actors), memory, messages)


def _names(model: "RingBufModel", m: object) -> dict[str, object]:
    """Panel location names to locations: the ring's own, then the ring layer's synthetic ones
    (irq_work, wakeup: kernel-internal SC events that always hold 0), which stay out of the tables."""
    by_name = {loc_name(loc): loc for loc in model.weak.locations}
    shared = model.weak.mm.shared_panel(m)
    for name in shared.get("memory") or shared.get("messages") or ():
        by_name.setdefault(name, name)
    return by_name


def memory_frames(trace: "Trace") -> list[MemoryFrame] | None:
    """One frame per state of ``trace`` (None under sc): what every actor holds and would read, and
    what the step into that state read (stale reads marked) or flushed."""
    if not trace.config.weak:
        return None
    model = trace.model()
    weak = model.weak
    locs = list(weak.locations)
    states = trace.states
    frames = [state_frame(model, states[0])]
    for before, st in zip(states, trace.steps):
        frame = state_frame(model, st.state)
        action = st.action
        if action.step == "flush":
            actor = model.actor_names.index(action.actor)
            frame = replace(frame, flush=_flush_mark(weak.mm, before.memory, actor, action.actor,
                                                     _names(model, before.memory)))
        else:
            effects = [e for e in model.effects(before, action) or []
                       if e.stale or _effect_location(e.loc) in locs]
            frame = replace(frame, reads=tuple(_read_marks(effects, action.actor,
                                                           lambda loc: weak.newest(before.memory, loc))))
        frames.append(frame)
    return frames


def _read_marks(effects: list, actor: str, newest: Callable[[object], int]) -> list[ReadMark]:
    out = []
    for e in effects:
        if e.kind not in ("load", "rmw"):
            continue
        loc = _effect_location(e.loc)
        out.append(ReadMark(actor, location_label(loc), value_label(loc, e.value), e.order, bool(e.stale),
                            value_label(loc, newest(loc))))
    return out


def _flush_mark(mm: object, m: object, a: int, actor: str, by_name: dict) -> FlushMark | None:
    buffer = mm.panel(m, a).get("buffer") or []
    if not buffer:
        return None
    l, v = buffer[0]
    loc = by_name[l]
    return FlushMark(actor, location_label(loc), value_label(loc, v))


# ---------------------------------------------------------------- text


def memory_lines(frame: MemoryFrame, previous: MemoryFrame | None, memory: str) -> list[str]:
    """The lines the text trace prints under a step: the flush, the reads (stale ones marked), and the
    buffers (tso) or views and messages (ra) whenever they differ from the ``previous`` state's."""
    lines = []
    if frame.flush is not None:
        f = frame.flush
        lines.append(f"FLUSH {f.actor}: {f.location}={f.value} leaves {f.actor}'s buffer for memory")
    if frame.reads:
        lines.append("reads: " + ", ".join(read_text(r) for r in frame.reads))
    for line, before in zip(state_lines(frame, memory), state_lines(previous, memory) if previous else ()):
        if line != before:
            lines.append(line)
    if previous is None:
        lines.extend(state_lines(frame, memory))
    return lines


TEXT_QUIET_ACTORS = ("irq",)
"""Actors the text trace's buffer and view lines leave out: the irq_work callback touches only the
kernel-internal wait queue (an SC event), never the ring's memory. JSON, ITF and HTML keep it."""


def state_lines(frame: MemoryFrame, memory: str) -> list[str]:
    """Tso: one line of buffers. Ra: one line of views (where each actor may still read an older
    value), one of the positions and the lock with more than one message (data words counted)."""
    actors = [a for a in frame.actors if a.actor not in TEXT_QUIET_ACTORS or a.buffer]
    if memory == "tso":
        return ["buffers: " + " | ".join(
            f"{a.actor} " + (", ".join(f"{l}={v}" for l, v in a.buffer) if a.buffer else "empty")
            for a in actors)]
    several = [(l, msgs) for l, msgs in (frame.messages or ()) if len(msgs) > 1]
    named = [f"{l} " + ", ".join(f"{m.value}@{m.ts}" for m in msgs) for l, msgs in several
             if not l.startswith("mem[")]
    words = [l for l, _ in several if l.startswith("mem[")]
    if words:
        named.append(f"{len(words)} data word{'s' if len(words) > 1 else ''} ({', '.join(words)})")
    return ["views: " + " | ".join(f"{a.actor} " + _lag_text(a) for a in actors),
            "messages: " + (" | ".join(named) or "one per location")]


def read_text(r: ReadMark) -> str:
    text = f"{r.location}={r.value}"
    if r.stale:
        text += f" STALE (newest {r.newest})" if r.newest != r.value else " STALE"
    return text


def distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    """The values in their order with repeats dropped (two messages may hold one value)."""
    return tuple(dict.fromkeys(values))


def _lag_text(a: ActorMemory) -> str:
    """RA: the positions and the lock where this actor may still read an older value (which ones),
    and the data words where it may."""
    lagging = [(l, distinct(vs)) for l, vs in a.readable if len(distinct(vs)) > 1]
    named = [f"{l} {' or '.join(vs)}" for l, vs in lagging if not l.startswith("mem[")]
    words = [l for l, _ in lagging if l.startswith("mem[")]
    if words:
        named.append("older data at " + ", ".join(words))
    return "may read " + "; ".join(named) if named else "up to date"

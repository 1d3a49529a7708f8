"""Exhaustive lockstep of a user ring implementation against the model's operation graph.

The model at API granularity (``model.userring.operations``) has a finite
graph for a configuration: nodes are model states, edges the calls the
configuration allows. With libbpf's producer: reserve of each size (within
``records`` attempts and ``hold`` held samples), submit and (``--discard``)
discard of each held sample; with hostile user space: every producer_pos and
every data word its bounded choices allow (``model.userring.hostile``), within
``hostile_writes``; and always a drain with each flag choice, its callback
either going on or stopping at the first sample. ``check_user_lockstep``
walks the graph breadth first; for every edge a fresh implementation replays
the shortest path to the edge's source (comparing on the way) and runs the
edge, and everything observable is compared: return values, the samples
handed to the callback, both positions, and the len word of every data word
the model holds a header in (or that was never written). The first
difference is a ``UserDivergence`` with the fewest calls.
"""

from __future__ import annotations

import struct
import time
from collections import deque
from dataclasses import dataclass, field

from checker.conformance.user.adapter import Drained, Reserved, UserFactory, UserRingAdapter
from model.config import Config
from model.constants import BUSY_BIT, DISCARD_BIT
from model.state import KIND_HEADER, SLOT_EMPTY, read_len, slot_kind
from model.userring.drain import drain_flag_choices
from model.userring.hostile import HOSTILE_FLAGS, hostile_lens, hostile_prod_values
from model.userring.operations import UserRingOperations
from model.userring.state import UserState

CONFORMS, BOUNDED, DIVERGES = "conforms", "bounded", "diverges"

Call = tuple  # ("reserve", size) | ("submit", pos) | ("discard", pos) | ("producer_pos", v) | ("word", off, v)
#               | ("drain", flags, callback_returns)


def call_str(call: Call) -> str:
    """A call as a reader would write it: ``reserve(8)``, ``drain(flags=0, stop_after=1)``."""
    name, *args = call
    if name == "drain":
        return f"drain(flags={args[0]}" + (", callback returns 1 at once)" if args[1] else ")")
    if name == "word":
        return f"write_word({args[0]}, {args[1]:#x})"
    if name == "producer_pos":
        return f"write_producer_pos({args[0]:#x})"
    return f"{name}({', '.join(hex(a) if name != 'reserve' else str(a) for a in args)})"


@dataclass
class UserDivergence:
    """The first call where the implementation did not do what the model says."""

    calls: list[Call]
    """The calls from the empty ring, the diverging one last."""
    field: str
    expected: object
    got: object

    def headline(self) -> str:
        n = len(self.calls) - 1
        return (f"{call_str(self.calls[-1])} after {n} call{'' if n == 1 else 's'}: {self.field} is {self.got!r}, "
                f"the model says {self.expected!r}")

    def format(self) -> str:
        lines = [f"divergence: {self.headline()}", "calls:"]
        lines += [f"  {i:3}  {call_str(c)}" for i, c in enumerate(self.calls, 1)]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"calls": [call_str(c) for c in self.calls], "field": self.field,
                "expected": repr(self.expected), "got": repr(self.got)}


@dataclass
class UserConformance:
    """The answer of one user ring conformance run."""

    config: Config
    kind: str
    states: int = 0
    transitions: int = 0
    calls: int = 0
    depth: int = 0
    seconds: float = 0.0
    divergence: UserDivergence | None = None
    bound: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 conforms (complete), 1 diverges, 3 conforms up to a bound."""
        return {CONFORMS: 0, DIVERGES: 1, BOUNDED: 3}[self.kind]

    def headline(self) -> str:
        if self.kind == CONFORMS:
            return "conforms (complete)"
        if self.kind == BOUNDED:
            return f"conforms up to bound {self.bound}"
        assert self.divergence is not None
        return f"diverges: {self.divergence.headline()}"

    def to_dict(self) -> dict:
        return {"verdict": self.kind, "method": "lockstep", "config": self.config.to_dict(), "bound": self.bound,
                "stats": {"states": self.states, "transitions": self.transitions, "calls": self.calls,
                          "depth": self.depth, "seconds": round(self.seconds, 4)},
                "notes": self.notes, "divergence": self.divergence.to_dict() if self.divergence else None}


def enabled_calls(cfg: Config, s: UserState) -> list[Call]:
    """The edges of the operation graph out of model state ``s``."""
    out: list[Call] = []
    pr = s.producer
    if cfg.hostile:
        if pr.writes < cfg.hostile_writes:
            out += [("producer_pos", v) for v in hostile_prod_values(cfg, s)]
            out += [("word", 8 * slot, size | flags) for slot in range(cfg.slots)
                    for size in hostile_lens(cfg) for flags in HOSTILE_FLAGS]
    else:
        if pr.attempts < cfg.records and len(pr.held) < cfg.hold:
            out += [("reserve", size) for size in cfg.sizes]
        for rec in pr.held:
            out.append(("submit", s.records[rec].pos))
            if cfg.discard:
                out.append(("discard", s.records[rec].pos))
    out += [("drain", f, r) for f in drain_flag_choices(cfg) for r in ((), (1,))]
    return out


def model_call(ops: UserRingOperations, s: UserState, call: Call) -> tuple[UserState, object]:
    """Run ``call`` in the model: the next state and what the call returns (adapter form)."""
    name, *args = call
    if name == "reserve":
        s, pos = ops.reserve(s, args[0])
        return s, Reserved(pos, ops.last_errno)
    if name == "submit":
        return ops.submit(s, args[0]), None
    if name == "discard":
        return ops.discard(s, args[0]), None
    if name == "producer_pos":
        return ops.write_producer_pos(s, args[0]), None
    if name == "word":
        return ops.write_word(s, args[0], args[1]), None
    s, r = ops.drain(s, args[0], args[1])
    return s, Drained(r.ret, tuple(r.samples))


def impl_call(impl: UserRingAdapter, call: Call) -> object:
    """Run ``call`` on the implementation; what it returns, in the adapter's form."""
    name, *args = call
    if name == "reserve":
        return impl.reserve(args[0])
    if name == "submit":
        return impl.submit(args[0])
    if name == "discard":
        return impl.discard(args[0])
    if name == "producer_pos":
        return impl.write_producer_pos(args[0])
    if name == "word":
        return impl.write_word(args[0], args[1])
    return impl.drain(args[0], args[1])


def compare(cfg: Config, s: UserState, expected: object, got: object, impl: UserRingAdapter) -> tuple | None:
    """(field, expected, got) of the first difference after one call, None when they agree."""
    if expected != got:
        return "returned", expected, got
    obs = impl.observe()
    if (obs.producer_pos, obs.consumer_pos) != (s.producer_pos, s.consumer_pos):
        return "positions", (s.producer_pos, s.consumer_pos), (obs.producer_pos, obs.consumer_pos)
    for i, word in enumerate(s.slots):
        if slot_kind(word) in (KIND_HEADER, SLOT_EMPTY):
            want = read_len(word) & (0xFFFFFFFF if slot_kind(word) == KIND_HEADER else 0)
            have = struct.unpack_from("<I", obs.data, 8 * i)[0]
            if slot_kind(word) == KIND_HEADER and have != want:
                return f"header len at offset {8 * i}", _len_str(want), _len_str(have)
    return None


def _len_str(len_word: int) -> str:
    bits = [str(len_word & (DISCARD_BIT - 1))] + [n for b, n in ((BUSY_BIT, "BUSY"), (DISCARD_BIT, "DISCARD"))
                                                  if len_word & b]
    return "|".join(bits)


def check_user_lockstep(factory: UserFactory, cfg: Config, max_states: int | None = None,
                        timeout: float | None = None) -> UserConformance:
    """Run every edge of ``cfg``'s operation graph on fresh implementations; see the module docstring."""
    began = time.monotonic()
    ops = UserRingOperations(cfg)
    result = UserConformance(cfg, CONFORMS)
    root = ops.initial()
    paths: dict[UserState, list[Call]] = {root: []}
    queue = deque([root])
    while queue:
        s = queue.popleft()
        path = paths[s]
        for call in enabled_calls(cfg, s):
            if max_states is not None and len(paths) >= max_states or \
                    timeout is not None and time.monotonic() - began > timeout:
                result.kind, result.bound = BOUNDED, (f"max_states={max_states}" if max_states is not None
                                                      and len(paths) >= max_states else f"timeout={timeout}s")
                break
            impl = factory(cfg.ring_size)
            try:
                m = root
                for i, c in enumerate(path + [call]):
                    m, expected = model_call(ops, m, c)
                    got = impl_call(impl, c)
                    result.calls += 1
                    diff = compare(cfg, m, expected, got, impl)
                    if diff is not None:
                        result.kind = DIVERGES
                        result.divergence = UserDivergence((path + [call])[:i + 1], *diff)
                        result.states, result.seconds = len(paths), time.monotonic() - began
                        return result
            finally:
                impl.close()
            result.transitions += 1
            if m not in paths:
                paths[m] = path + [call]
                result.depth = max(result.depth, len(path) + 1)
                queue.append(m)
        if result.kind == BOUNDED:
            break
    result.states, result.seconds = len(paths), time.monotonic() - began
    return result

"""Scenarios: which API calls run at once, one thread per producer and one for the consumer.

A scenario is a ring size, a start position and a few threads, each a
list of `Op` in program order: a producer thread reserves, writes and
commits its own records; the consumer thread consumes. Threads run at
once, interleaved access by access; within a thread, calls run one after
another. A write or commit of a record whose reservation returned NULL is
skipped (the BPF program would not call it). ``reopen`` closes the
consumer and opens it again on the same ring (ring_buffer__free, then
ring_buffer__new on the same map fd): the ring keeps its positions and the
bytes of earlier laps; libbpf keeps nothing across it and its next pass
starts from the published consumer_pos, which is what the model says (a
reopen changes no shared state; every model pass starts by loading
consumer_pos).

The bundled scenarios are the smallest ones that put each pair of
operations side by side: two producers reserving, a producer committing
while the consumer consumes, both at once, and a consumer reopened on a
ring a producer keeps using.
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.conformance.ops import (COMMIT, CONSUME, KINDS, REOPEN, RESERVE, WRITE, Op, commit, consume, reserve,
                                     write)


class ScenarioError(ValueError):
    """A scenario that cannot run (one line for the user)."""


@dataclass(frozen=True)
class Scenario:
    """Threads of API calls over one ring: ``threads`` is ((name, ops), ...)."""

    name: str
    ring_size: int
    threads: tuple[tuple[str, tuple[Op, ...]], ...]
    start: int = 0
    description: str = ""

    def __post_init__(self) -> None:
        s = self.ring_size
        if not isinstance(s, int) or s < 16 or s & (s - 1):
            raise ScenarioError(f"scenario {self.name}: ring_size {s!r} is not a power of two >= 16")
        if not self.threads or len(self.threads) > 4:
            raise ScenarioError(f"scenario {self.name}: give 1 to 4 threads")
        names = [n for n, _ in self.threads]
        if len(set(names)) != len(names):
            raise ScenarioError(f"scenario {self.name}: thread names repeat")
        for name, ops in self.threads:
            for op in ops:
                if op.kind not in KINDS + (REOPEN,) or op.kind == "set_consumer_pos":
                    raise ScenarioError(f"scenario {self.name}: thread {name}: {op.kind} is not a concurrent "
                                        f"operation (reserve, write, commit, consume, reopen)")
        owner: dict[int, str] = {}
        for name, ops in self.threads:
            for op in ops:
                if op.kind in (RESERVE, WRITE, COMMIT) and owner.setdefault(op.producer, name) != name:
                    raise ScenarioError(f"scenario {self.name}: producer {op.producer} has calls in threads "
                                        f"{owner[op.producer]} and {name}; give each producer one thread")
        for name, ops in self.threads:
            seen: dict[int, int] = {}
            for op in ops:
                if op.kind != RESERVE:
                    continue
                k = seen.get(op.producer, 0)
                seen[op.producer] = k + 1
                if op.rec != op.producer * self.records + k:
                    raise ScenarioError(f"scenario {self.name}: thread {name}: {op} names record r{op.rec}; the "
                                        f"model calls it r{op.producer * self.records + k} (producer * "
                                        f"{self.records} + attempt)")

    @property
    def producers(self) -> int:
        """One more than the largest producer index used."""
        return 1 + max((op.producer for _, ops in self.threads for op in ops if op.kind in (RESERVE, WRITE, COMMIT)),
                       default=0)

    @property
    def records(self) -> int:
        """The most reservations one producer makes (the model's E)."""
        counts: dict[int, int] = {}
        for _, ops in self.threads:
            for op in ops:
                if op.kind == RESERVE:
                    counts[op.producer] = counts.get(op.producer, 0) + 1
        return max(counts.values(), default=1)

    def describe(self) -> str:
        """``p0: reserve(p0, size=8); write(p0, r0) | c: consume()``."""
        return " | ".join(f"{n}: " + "; ".join(map(str, ops)) for n, ops in self.threads)

    def to_dict(self) -> dict:
        return {"name": self.name, "ring_size": self.ring_size, "start": self.start,
                "threads": [{"name": n, "ops": [op.to_dict() for op in ops]} for n, ops in self.threads]}

    @classmethod
    def from_dict(cls, d: dict) -> "Scenario":
        try:
            threads = tuple((str(t["name"]), tuple(op_from_dict(o) for o in t["ops"])) for t in d["threads"])
            return cls(str(d.get("name", "custom")), int(d["ring_size"]), threads, int(d.get("start", 0)))
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, ScenarioError):
                raise
            raise ScenarioError(f"scenario: malformed ({type(e).__name__}: {e})") from None


def op_from_dict(d: dict) -> Op:
    """Inverse of `Op.to_dict`."""
    kind = d["op"]
    if kind == RESERVE:
        return Op(RESERVE, int(d["producer"]), int(d["size"]), int(d["rec"]), flags=int(d.get("flags", 0)))
    if kind == WRITE:
        return write(int(d["producer"]), int(d["rec"]))
    if kind == COMMIT:
        return commit(int(d["producer"]), int(d["rec"]), bool(d.get("discard", False)), int(d.get("flags", 0)))
    if kind == CONSUME:
        return consume()
    if kind == REOPEN:
        return Op(REOPEN)
    raise ScenarioError(f"scenario: {kind!r} is not reserve, write, commit, consume or reopen")


def _produce(p: int, rec: int, size: int = 8, discard: bool = False) -> tuple[Op, ...]:
    return (reserve(p, size, rec), write(p, rec), commit(p, rec, discard))


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("two-producers", 64, (("p0", _produce(0, 0)), ("p1", _produce(1, 1)))),
    Scenario("produce-consume", 32, (("p0", _produce(0, 0) + _produce(0, 1)), ("c", (consume(), consume()))),
             description="one producer submits two records while the consumer runs two passes; the ring holds "
                         "one record at a time"),
    Scenario("mixed", 64, (("p0", _produce(0, 0)), ("p1", _produce(1, 1)), ("c", (consume(),)))),
    Scenario("reopen", 32, (("p0", _produce(0, 0) + _produce(0, 1)), ("c", (consume(), Op(REOPEN), consume()))),
             description="the consumer is closed and reopened between two passes while a producer submits"),
)}
"""The bundled scenarios by name (``--scenario``)."""

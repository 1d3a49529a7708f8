"""Producer symmetry: an optional reduction (``--symmetry``), never on by default.

Producers run the same program, so two states that differ only by which
producer is called p0 and which p1 behave alike, and every property of
docs/protocol.md#6 treats producers alike. With the reduction on, the BFS
keeps one representative per class: producers sorted by everything they
are (program point, locals, their block of records), with record ids, slot
owner tags, the lock holder and the delivery log renamed to match.

Under weak memory (tso, ra) the memory model's state is renamed with them:
its producer actors are permuted (TSO store buffers, RA views; the consumer
and irq actors keep their places), every value that names a producer or a
record inside it (the spinlock holder, slot words' owner tags) is renamed
exactly as the State's own fields are, and each producer's ``actor_key``
(with its record ids made relative, like the rest of its key) joins the sort
key. One asymmetry is left: the TSO projection of a slot that two buffers
both hold stores to prefers the higher actor (``model.shared``); only a
racing reservation, itself a violation, can make that happen.

Traces found in the reduced space are mapped back to real traces by
``concretize``, which replays them in the unreduced model, so a reported
trace is always a real path.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Callable

from model.actions import Action, producer_actor, producer_index
from model.config import Config
from model.state import Producer, State, evolve, retag, slot_owner

if TYPE_CHECKING:
    from model.memory.base import MemoryModel
    from model.ringbuf import RingBufModel

SPINLOCK = "spinlock"
"""The memory location holding the lock holder (-1 when free): a producer index."""


@lru_cache(maxsize=None)
def _memory_model(name: str) -> "MemoryModel":
    """The memory model called ``name`` (its bound does not matter for renaming)."""
    from model.memory import make
    return make(name)


def _renamer(cfg: Config, producer: Callable[[int], int], record: Callable[[int], int]):
    """``fn(loc, value)`` renaming the producer in the spinlock and the record tag in a slot word."""

    def fn(loc: object, value: int) -> int:
        if loc == SPINLOCK:
            return producer(value) if value >= 0 else value
        if isinstance(loc, tuple) and value:
            return retag(value, record(slot_owner(value)))
        return value

    return fn


def _memory_key(cfg: Config, s: State, p: int) -> tuple:
    """Producer ``p``'s private memory (buffer, views), with producers and records named relative to ``p``."""
    e = cfg.records
    base = p * e
    mm = _memory_model(cfg.memory)
    fn = _renamer(cfg, lambda q: 0 if q == p else 1,
                  lambda r: r - base if base <= r < base + e else e + r % e)
    return mm.actor_key(mm.map_located(s.memory, fn), p)


def _key(cfg: Config, s: State, p: int) -> tuple:
    """Everything producer ``p`` is, with its record ids made relative to its own block."""
    pr = s.producers[p]
    base = p * cfg.records
    return (pr.pc, pr.attempts, pr.cur - base if pr.cur >= 0 else -1, pr.size, pr.nmi, pr.cons, pr.prod,
            pr.pend, tuple(h - base for h in pr.held), pr.flags, s.records[base:base + cfg.records],
            s.lock == p, _memory_key(cfg, s, p) if s.memory is not None else ())


def canonicalize(cfg: Config, s: State) -> tuple[State, tuple[int, ...]]:
    """The representative of ``s`` and ``order``: canonical producer i is real producer order[i]."""
    n = cfg.producers
    if n == 1:
        return s, (0,)
    order = tuple(p for _, p in sorted((_key(cfg, s, p), p) for p in range(n)))
    if order == tuple(range(n)):
        return s, order
    return rename(cfg, s, order), order


def rename(cfg: Config, s: State, order: tuple[int, ...]) -> State:
    """``s`` with real producer order[i] renamed to i (and its records with it)."""
    e = cfg.records
    new_index = [0] * len(order)
    for i, p in enumerate(order):
        new_index[p] = i

    def rec(r: int) -> int:
        if r >= len(s.records):
            return r                    # not a record's: the attacker's words (model.adversary)
        p, k = divmod(r, e)
        return new_index[p] * e + k

    def producer(pr: Producer) -> Producer:
        return evolve(pr, cur=rec(pr.cur) if pr.cur >= 0 else -1, held=tuple(rec(h) for h in pr.held))

    slots = tuple(retag(w, rec(slot_owner(w))) if w else w for w in s.slots)
    memory = s.memory
    if memory is not None:
        mm = _memory_model(cfg.memory)
        actors = list(range(cfg.producers + 2))
        actors[:len(new_index)] = new_index
        memory = mm.permute_actors(mm.map_located(memory, _renamer(cfg, lambda q: new_index[q], rec)), actors)
    records = tuple(r for p in order for r in s.records[p * e:(p + 1) * e])
    return evolve(
        s,
        slots=slots,
        records=records,
        producers=tuple(producer(s.producers[p]) for p in order),
        lock=new_index[s.lock] if s.lock >= 0 else -1,
        delivered=tuple((rec(r) if r >= 0 else r, ok) for r, ok in s.delivered),
        memory=memory,
    )


def real_action(cfg: Config, a: Action, order: tuple[int, ...]) -> Action:
    """The action ``a`` of canonical producer i, as taken by real producer order[i]."""
    i = producer_index(a.actor)
    if i < 0:
        return a
    e = cfg.records

    def rec(c: int) -> int:
        j, k = divmod(c, e)
        return order[j] * e + k

    args = tuple((k, rec(v)) if k == "rec" else (k, v) for k, v in a.args)
    return Action(producer_actor(order[i]), a.step, args)


def concretize(model: "RingBufModel", initial: State,
               path: list[tuple[Action, State]]) -> list[tuple[Action, State]]:
    """Turn a path of representatives into a real path of the unreduced model.

    Raises AssertionError if a step does not map back: that would be a bug in
    the reduction, and must never be reported as a counterexample.
    """
    cfg = model.config
    real = initial
    out: list[tuple[Action, State]] = []
    for a, t_canonical in path:
        _, order = canonicalize(cfg, real)
        act = real_action(cfg, a, order)
        nxt = model.apply(real, act)
        if nxt is None or canonicalize(cfg, nxt)[0] != t_canonical:
            raise AssertionError(f"symmetry: step {len(out) + 1} ({act}) does not map back to the model")
        out.append((act, nxt))
        real = nxt
    return out

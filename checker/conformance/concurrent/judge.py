"""Judging one interleaving twice: the model's properties on the implementation's memory, and linearizability.

Properties, checked on what the implementation put in ringcheck's memory:

* ``no-overlap`` (when a reserve returns): the new record's bytes share no
  word with a live record, one reserved earlier whose end consumer_pos has
  not passed yet (the coherence-latest consumer_pos: no producer can have
  seen a newer one);
* ``samples-intact`` (when a consume returns): every sample is the whole
  payload of a record whose submit (not discard) had been called, none
  twice, in position order across the run;
* ``header-integrity`` (at the end): every record not yet consumed has its
  header len word as the model says (size, BUSY while uncommitted, DISCARD
  for a discard) and its payload words as written.

Linearizability (at the end): the history of calls (each with what it
returned and, per thread, how many calls had returned when it started)
must equal a run of the model at API granularity (``model.operations``
through `Oracle`) in some order that keeps each thread's program order and,
under sc, real-time order (a call that returned before another started
comes first). A Wing and Gong search: extend the order by any call whose
predecessors are all placed, apply it to the model, and backtrack on a
different result; memoised on (calls placed per thread, model state).
One refinement: a consume call is one libbpf pass, which keeps reading
while producers commit into the space it has just freed, so it may be
placed as several consecutive model passes, each delivering the next of
its samples, each at its own point of the order (a pass that delivered
nothing is one empty model pass). A reopen changes no shared state in the
model, so it is placed without a model step.

Under tso and ra a completed call's stores may still be invisible to a call
that starts later (a buffered store; an unsynchronised stale read), which
the kernel allows, so there real-time order is not required and the check
is sequential consistency of the history (program order only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from checker.conformance.adapter import BUSY_BIT, DISCARD_BIT, U64_MASK
from checker.conformance.driver import samples_match
from checker.conformance.ops import COMMIT, CONSUME, REOPEN, RESERVE, WRITE, payload_bytes
from checker.conformance.oracle import Oracle
from checker.conformance.concurrent.protocol import bytes_words
from checker.conformance.reference import record_length
from model.config import Config
from model.operations import OperationError

if TYPE_CHECKING:
    from checker.conformance.concurrent.execution import Call, Execution

LEN_WORD = (1 << 32) - 1
PROPERTIES = ("no-overlap", "samples-intact", "header-integrity", "linearizable", "exception", "deadlock",
              "livelock")


@dataclass
class Violation:
    """A failed judgement: which property, a one-line message, where it was detected."""

    prop: str
    message: str
    thread: int
    call: int
    """History index of the call it was detected in, -1 for the end of the run."""
    step: int
    """Steps taken when it was detected."""
    detail: dict = field(default_factory=dict)


def _words(pos: int, length: int, mask: int) -> set[int]:
    return {((pos + 8 * i) & mask) >> 3 for i in range(min(length, mask + 1) // 8)}


def _ahead(a: int, b: int) -> bool:
    """Position ``a`` is strictly past ``b`` (u64 circle)."""
    d = (a - b) & U64_MASK
    return 0 < d < 1 << 63


def check_reserve(ex: Execution, call: Call) -> Violation | None:
    """no-overlap for the reservation ``call`` just returned."""
    h = ex.handles.get(call.op.rec)
    if h is None:
        return None
    mask = ex.scenario.ring_size - 1
    cons = ex.value("consumer_pos")
    mine = _words(h.position, record_length(h.size), mask)
    for rec, other in ex.handles.items():
        if rec == call.op.rec or other is None:
            continue
        end = (other.position + record_length(other.size)) & U64_MASK
        if _ahead(end, cons) and mine & _words(other.position, record_length(other.size), mask):
            return Violation("no-overlap", f"{call.op} returned position {h.position}, over r{rec} "
                             f"(reserved at {other.position}, {record_length(other.size)} bytes, not consumed: "
                             f"consumer_pos {cons})", call.thread, ex.threads[call.thread].call, len(ex.steps))
    return None


def check_consume(ex: Execution, call: Call) -> Violation | None:
    """samples-intact for the samples the consume ``call`` returned."""
    delivered: list[int] = [r for c in ex.history if c.op.kind == CONSUME and c.done and c is not call
                            for r in c.result if isinstance(r, int)]
    submits = {c.op.rec: c for c in ex.history if c.op.kind == COMMIT}
    start = ex.scenario.start

    def fail(text: str) -> Violation:
        return Violation("samples-intact", f"{call.op} delivered {text}", call.thread,
                         ex.threads[call.thread].call, len(ex.steps))

    for label in call.result:
        if not isinstance(label, int):
            return fail(f"a {(len(label) - 1) // 2}-byte sample ({label}) that is no record's payload")
        commit = submits.get(label)
        if commit is None:
            return fail(f"r{label}, whose submit had not been called")
        if commit.op.discard:
            return fail(f"r{label}, which was discarded")
        if label in delivered:
            return fail(f"r{label} a second time")
        pos = (ex.handles[label].position - start) & U64_MASK
        if delivered and pos < (ex.handles[delivered[-1]].position - start) & U64_MASK:
            return fail(f"r{label} after r{delivered[-1]}, which comes later in the ring")
        delivered.append(label)
    return None


def check_headers(ex: Execution) -> Violation | None:
    """header-integrity at the end: every unconsumed record's len word and payload as the model says."""
    cons = ex.value("consumer_pos")
    size_of_ring = ex.scenario.ring_size
    commits = {c.op.rec: c for c in ex.history if c.op.kind == COMMIT and c.done}
    writes = {c.op.rec for c in ex.history if c.op.kind == WRITE and c.done}
    for rec, h in ex.handles.items():
        if h is None or record_length(h.size) > size_of_ring:
            continue
        if (h.position - cons) & U64_MASK >= size_of_ring:
            continue
        commit = commits.get(rec)
        want = h.size | (BUSY_BIT if commit is None else 0) | (DISCARD_BIT if commit and commit.op.discard else 0)
        got = ex.value(ex.shm.word(h.position)) & LEN_WORD
        if got != want:
            return Violation("header-integrity", f"the header of r{rec} at {h.position} holds len {got:#x}, "
                             f"the model says {want:#x}", -1, -1, len(ex.steps))
        if rec in writes:
            for i, word in enumerate(bytes_words(payload_bytes(rec, h.size))):
                loc = ex.shm.word(h.position + 8 + 8 * i)
                if ex.value(loc) != word:
                    return Violation("header-integrity", f"payload word {i} of r{rec} holds "
                                     f"{ex.value(loc):#x}, written as {word:#x}", -1, -1, len(ex.steps))
    return None


def oracle_for(ex: Execution, variant: str) -> Oracle:
    """The model at API granularity for the scenario's producers, records and sizes."""
    sc = ex.scenario
    ops = [op for _, t in sc.threads for op in t]
    sizes = tuple(sorted({op.size for op in ops if op.kind == RESERVE})) or (8,)
    config = Config(variant=variant, ring_size=sc.ring_size, producers=sc.producers, records=sc.records,
                    hold=min(2, sc.records), sizes=sizes,
                    discard=any(op.discard for op in ops), wakeup_flags=any(op.flags for op in ops if op.kind == COMMIT))
    return Oracle(config, sc.start)


def linearize(calls: list[Call], oracle: Oracle, real_time: bool) -> tuple[bool, dict]:
    """Some order of ``calls`` the model allows (program order, and real-time order if asked)?

    Returns (found, detail); detail names the furthest order tried and the
    call whose result the model did not give there.
    """
    by_thread: dict[int, list[Call]] = {}
    for c in calls:
        by_thread.setdefault(c.thread, []).append(c)
    threads = sorted(by_thread)
    lists = [by_thread[t] for t in threads]
    memo: set = set()
    best: dict[str, Any] = {"depth": -1}

    def ready(pos: tuple[int, ...], c: Call) -> bool:
        if not real_time:
            return True
        return all(pos[j] >= c.invoked[t] for j, t in enumerate(threads) if t != c.thread)

    def search(pos: tuple[int, ...], part: tuple[int, ...], s: Any, order: list[Call]) -> bool:
        if all(p == len(lst) for p, lst in zip(pos, lists)):
            return True
        key = (pos, part, oracle.key(s))
        if key in memo:
            return False
        memo.add(key)
        for j, lst in enumerate(lists):
            if pos[j] == len(lst) or (not part[j] and not ready(pos, lst[pos[j]])):
                continue
            c = lst[pos[j]]
            if c.op.kind == REOPEN:
                if search(pos[:j] + (pos[j] + 1,) + pos[j + 1:], part, s, order + [c]):
                    return True
                continue
            try:
                nxt, exp = oracle.apply(s, c.op, strict=False)
            except OperationError as e:
                _note(best, order, c, f"the model cannot run it ({e})")
                continue
            taken = _taken(c, exp.result, part[j])
            if taken is None:
                _note(best, order, c, f"the model returns {_show(c.op.kind, exp.result)}, the implementation "
                                      f"returned {_show(c.op.kind, c.result)}"
                      + (f" (after its first {part[j]} samples)" if part[j] else ""))
                continue
            done = c.op.kind != CONSUME or part[j] + taken == len(c.result)
            npos = pos[:j] + (pos[j] + done,) + pos[j + 1:]
            npart = part[:j] + (0 if done else part[j] + taken,) + part[j + 1:]
            if search(npos, npart, nxt, order + [c]):
                return True
        return False

    found = search((0,) * len(lists), (0,) * len(lists), oracle.initial(), [])
    return found, best


def _taken(c: Call, expected: Any, offset: int) -> int | None:
    """None if the model's result does not fit the call; for a consume, how many samples it accounts for.

    A consume pass may be split into several model passes, each delivering
    the next samples of the call (a pass keeps reading while producers
    commit into space it has just freed); every part but a lone empty pass
    delivers at least one sample.
    """
    if c.op.kind == RESERVE:
        return 0 if expected == c.result else None
    if c.op.kind != CONSUME:
        return 0
    if not expected:
        return 0 if not c.result else None
    chunk = c.result[offset:offset + len(expected)]
    return len(expected) if len(chunk) == len(expected) and samples_match(expected, chunk) else None


def _note(best: dict, order: list[Call], c: Call, why: str) -> None:
    if len(order) > best["depth"]:
        best.update(depth=len(order), order=[f"{o.op}{_arrow(o)}" for o in order], call=str(c.op), why=why)


def _arrow(c: Call) -> str:
    return f" -> {_show(c.op.kind, c.result)}" if c.op.kind in (RESERVE, CONSUME) else ""


def _show(kind: str, value: Any) -> str:
    if kind == RESERVE:
        return "NULL" if value is None else f"position {value}"
    if kind == CONSUME:
        return "[" + ", ".join(f"r{v}" if isinstance(v, int) else str(v) for v in value) + "]"
    return str(value)


def judge_end(ex: Execution, variant: str) -> Violation | None:
    """The end of a complete run: header integrity, then linearizability (sequential consistency off sc)."""
    v = check_headers(ex)
    if v is not None:
        return v
    real_time = ex.model.name == "sc"
    found, best = linearize(ex.history, oracle_for(ex, variant), real_time)
    if found:
        return None
    what = "linearization" if real_time else "sequential order"
    text = (f"no {what} of the {len(ex.history)} calls is a run of the model"
            + (f"; furthest: {' ; '.join(best['order']) or '(none)'}, then {best['call']}: {best['why']}"
               if best["depth"] >= 0 else ""))
    return Violation("linearizable", text, -1, -1, len(ex.steps), best)

"""Driving an implementation with `Op`s, and comparing what it did with the model.

`ImplDriver` turns operations into `Adapter` calls (keeping the handle of
every record the model knows by id, and writing `payload_bytes(rec, size)`
as each payload) and reports what the implementation returned. `compare`
decides whether that agrees with the model's `Expected` outcome.

What is compared, after every operation, in this order (the first
difference is the divergence):

1. ``result``: reserve returns NULL exactly when the model does, and
   otherwise a handle whose position is the model's record position.
2. ``samples``: consume delivers as many samples as the model, in the same
   order, each the intact payload of the same record. A delivered payload
   is named by the record whose payload pattern it equals; bytes equal to
   no record's pattern are ``?<hex>``. Where the model itself delivers a
   torn or garbage sample (only after a corruption) any bytes match.
3. ``producer_pos`` and ``consumer_pos``: equal as u64 values.
4. ``header[off]``: for every 8-byte slot where the model knows a record
   header, the little-endian u32 at that offset of the implementation's
   data area equals the model's len word (size, BUSY and DISCARD bits).
   pg_off, payload bytes and padding are not compared: the model does not
   fix them byte for byte.

A call that raises (anything, ``sys.exit`` included) is a divergence in
field ``exception``; a call that does not return within the guard's limit
ends the run with a divergence in field ``timeout`` (`guard`); a result of
the wrong type is an `AdapterContractError`, not a divergence.
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.conformance.adapter import Adapter, Handle, Observation
from checker.conformance.guard import (AdapterContractError, AdapterRaised, CallTimedOut, GuardedAdapter,
                                       describe_exception)
from checker.conformance.ops import (ATTACKER_WORD, COMMIT, CONSUME, REOPEN, RESERVE,
                                     SET_PRODUCER_POS, WRITE, WRITE_HEADER, WRITE_PAYLOAD, Op, payload_bytes)
from checker.conformance.oracle import Expected


@dataclass(frozen=True)
class Observed:
    """What the implementation did for one operation: its result and the observation after it."""

    result: object
    """reserve: the handle's position or None; consume: tuple of sample labels; else None."""
    observation: Observation | None
    error: str | None = None
    """``Type: message`` when the call raised."""


@dataclass(frozen=True)
class Mismatch:
    """One compared field on which model and implementation disagree."""

    field: str
    expected: object
    observed: object


class ImplDriver:
    """An adapter plus the bookkeeping that lets it be driven by model record ids."""

    def __init__(self, adapter: Adapter, ring_size: int) -> None:
        self.adapter = adapter
        self.ring_size = ring_size
        self.handles: dict[int, Handle] = {}
        self.written: dict[int, bytes] = {}
        self.applied: list[Op] = []
        """Operations started on this implementation, in order (a timed-out one last)."""
        if isinstance(adapter, GuardedAdapter):
            adapter.guard.driver_ops = self.applied

    def apply(self, op: Op, observe: bool = True) -> Observed:
        """Run one operation; exceptions from the adapter become `Observed.error`."""
        self.applied.append(op)
        try:
            result = self._call(op)
            return Observed(result, self.adapter.observe() if observe else None)
        except AdapterRaised as e:
            return Observed(None, None, str(e))
        except (AdapterContractError, CallTimedOut):
            raise
        except Exception as e:  # noqa: BLE001  (an unguarded adapter: anything it raises is a finding)
            return Observed(None, None, describe_exception(e))

    def _call(self, op: Op) -> object:
        a = self.adapter
        if op.kind == RESERVE:
            h = a.reserve(op.producer, op.size, op.flags)
            if h is None:
                return None
            self.handles[op.rec] = h
            return h.position
        if op.kind == WRITE:
            h = self.handles[op.rec]
            data = payload_bytes(op.rec, h.size)
            a.write(h, data)
            self.written[op.rec] = data
            return None
        if op.kind == COMMIT:
            a.commit(self.handles.pop(op.rec), op.discard, op.flags)
            return None
        if op.kind == CONSUME:
            return tuple(self.label(sample) for sample in a.consume())
        if op.kind == REOPEN:
            reopen = getattr(a, "reopen", None)
            if reopen is not None:
                reopen()
            return None
        if op.kind == SET_PRODUCER_POS:
            a.write_producer_pos(op.value)  # type: ignore[attr-defined]  (a capability, checked before the run)
            return None
        if op.kind == WRITE_HEADER:
            a.write_header(op.offset, op.value)  # type: ignore[attr-defined]
            return None
        if op.kind == WRITE_PAYLOAD:
            a.write_payload(op.offset, ATTACKER_WORD)  # type: ignore[attr-defined]
            return None
        a.set_consumer_pos(op.value)
        return None

    def label(self, sample: bytes) -> int | str | frozenset[int]:
        """The record whose written payload `sample` is, else ``?<hex>``.

        Only empty payloads can equal several records' patterns; they get
        the set of candidates.
        """
        sample = bytes(sample)
        recs = [rec for rec, data in self.written.items() if data == sample]
        if len(recs) == 1:
            return recs[0]
        return frozenset(recs) if recs else "?" + sample.hex()

    def close(self) -> None:
        """Close the adapter, ignoring errors (it may be the thing under test)."""
        try:
            self.adapter.close()
        except Exception:  # noqa: BLE001
            pass


def compare(op: Op, expected: Expected, observed: Observed, full: bool = True) -> Mismatch | None:
    """The first field on which `observed` disagrees with the model, or None.

    With `full=False` only the return value and the samples are compared
    (used while replaying a path that was already compared in full).
    """
    if observed.error is not None:
        return Mismatch("exception", "no exception", observed.error)
    if op.kind == RESERVE and expected.result != observed.result:
        return Mismatch("result", expected.result, observed.result)
    if op.kind == CONSUME and not samples_match(expected.result, observed.result):  # type: ignore[arg-type]
        return Mismatch("samples", expected.result, observed.result)
    if not full:
        return None
    obs = observed.observation
    model = expected.observation
    if obs is None:
        return Mismatch("observation", "an observation", None)
    if obs.producer_pos != model.producer_pos:
        return Mismatch("producer_pos", model.producer_pos, obs.producer_pos)
    if obs.consumer_pos != model.consumer_pos:
        return Mismatch("consumer_pos", model.consumer_pos, obs.consumer_pos)
    data = bytes(obs.data)
    if len(data) < max((off + 4 for off, _ in model.headers), default=0):
        return Mismatch("data", f"{len(data)} >= ring size bytes", len(data))
    for off, len_word in model.headers:
        got = int.from_bytes(data[off:off + 4], "little")
        if got != len_word:
            return Mismatch(f"header[{off}]", len_word, got)
    return None


def samples_match(expected: tuple, observed: tuple) -> bool:
    """Same length, and each sample the same record (a None expectation matches anything)."""
    if len(expected) != len(observed):
        return False
    return all(e is None or e == o or (isinstance(o, frozenset) and e in o)
               for e, o in zip(expected, observed))


def header_words(data: bytes) -> dict[int, int]:
    """The u32 at every 8-aligned offset of a data area: the header len word if a header is there."""
    return {off: int.from_bytes(data[off:off + 4], "little") for off in range(0, len(data) - 3, 8)}

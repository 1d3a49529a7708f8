"""Recording a ringcheck-log/1 log (see `tracelog`) from any adapter.

`LogRecorder` wraps an `Adapter`, forwards every call and writes one JSON
line per call, with an observation after each, so a run of any Python
adapter becomes a log `tracelog.validate_log` can check, and so the log
format has a reference writer for implementers in other languages to
compare against. `record_operations` drives a fresh implementation along a
model path while recording.
"""

from __future__ import annotations

import json
from typing import IO

from checker.conformance.adapter import Adapter, Factory, Handle, Observation
from checker.conformance.driver import header_words
from checker.conformance.guard import DEFAULT_CALL_TIMEOUT, CallTimedOut, guarded
from checker.conformance.lockstep import new_driver
from checker.conformance.ops import COMMIT, CONSUME, OBSERVE, REOPEN, RESERVE, SET_CONSUMER_POS, WRITE, Op
from checker.conformance.oracle import Oracle
from checker.conformance.tracelog import LOG_FORMAT
from model.config import Config


class LogRecorder:
    """An Adapter that forwards every call to another and writes the log of what happened.

    After every call it also writes an observation (positions and the u32 at
    every 8-aligned offset), unless `observe_every_call` is false.
    """

    def __init__(self, inner: Adapter, out: IO[str], ring_size: int, variant: str,
                 config: Config | None = None, observe_every_call: bool = True) -> None:
        self.inner = inner
        self.out = out
        self.observe_every_call = observe_every_call
        head: dict = {"format": LOG_FORMAT, "ring_size": ring_size, "variant": variant}
        if config is not None:
            head["config"] = config.to_dict()
        self._emit(head)

    def _emit(self, obj: dict) -> None:
        self.out.write(json.dumps(obj) + "\n")

    def _after(self) -> None:
        if self.observe_every_call:
            self.observe()

    def reserve(self, producer: int, size: int, flags: int = 0) -> Handle | None:
        h = self.inner.reserve(producer, size, flags)
        line: dict = {"op": RESERVE, "producer": producer, "size": size}
        if flags:
            line["flags"] = flags
        line["result"] = None if h is None else {"position": h.position}
        self._emit(line)
        self._after()
        return h

    def write(self, handle: Handle, data: bytes) -> None:
        self.inner.write(handle, data)
        self._emit({"op": WRITE, "producer": handle.producer, "position": handle.position,
                    "data": bytes(data).hex()})
        self._after()

    def commit(self, handle: Handle, discard: bool = False, flags: int = 0) -> None:
        self.inner.commit(handle, discard, flags)
        self._emit({"op": COMMIT, "producer": handle.producer, "position": handle.position,
                    "discard": bool(discard), "flags": flags})
        self._after()

    def consume(self) -> list[bytes]:
        samples = self.inner.consume()
        self._emit({"op": CONSUME, "result": {"samples": [bytes(s).hex() for s in samples]}})
        self._after()
        return samples

    def set_consumer_pos(self, value: int) -> None:
        self.inner.set_consumer_pos(value)
        self._emit({"op": SET_CONSUMER_POS, "value": value})
        self._after()

    def reopen(self) -> None:
        """The consumer closed and opened again: the inner adapter's ``reopen()`` if it has one, logged."""
        inner = getattr(self.inner, "reopen", None)
        if inner is not None:
            inner()
        self._emit({"op": REOPEN})
        self._after()

    def observe(self) -> Observation:
        obs = self.inner.observe()
        self._emit({"op": OBSERVE, "producer_pos": obs.producer_pos, "consumer_pos": obs.consumer_pos,
                    "headers": {str(k): v for k, v in header_words(bytes(obs.data)).items()}})
        return obs

    def close(self) -> None:
        self.inner.close()


def record_operations(factory: Factory, config: Config, operations: list[Op], out: IO[str],
                      call_timeout: float | None = DEFAULT_CALL_TIMEOUT) -> str | None:
    """Drive a fresh implementation through `operations` while recording its log to `out`.

    `operations` must be a path of the model (OperationError otherwise); the
    implementation's answers are recorded whatever they are, and a call that
    fails or refers to a record the implementation did not reserve ends the log.
    The implementation runs behind an `AdapterGuard`; returns why the log
    ended early (a call that raised or overran `call_timeout`), or None.
    """
    oracle = Oracle(config)
    s = oracle.initial()
    for op in operations:
        s, _ = oracle.apply(s, op)
    guard = guarded(factory, call_timeout)
    try:
        return guard.run(lambda: _record(guard, config, operations, out))
    except CallTimedOut as t:
        return str(t)


def _record(factory: Factory, config: Config, operations: list[Op], out: IO[str]) -> str | None:
    drv = new_driver(factory, config)
    drv.adapter = LogRecorder(drv.adapter, out, config.ring_size, config.variant, config)
    try:
        for op in operations:
            error = drv.apply(op, observe=False).error
            if error is not None:
                return error
        return None
    finally:
        drv.close()

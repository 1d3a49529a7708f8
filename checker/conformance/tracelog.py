"""Trace validation: is a JSON-lines log written by any implementation a behaviour of the model?

The log format, ``ringcheck-log/1``: UTF-8 text, one JSON object per line
(blank lines are ignored). The first line is a header; every other line is
an operation the implementation performed, with what it returned, or an
observation of the ring.

    {"format": "ringcheck-log/1", "ring_size": 32, "variant": "v6.10"}
    {"op": "reserve", "producer": 0, "size": 8, "result": {"position": 0}}
    {"op": "observe", "producer_pos": 16, "consumer_pos": 0, "headers": {"0": 2147483656, "8": 0}}
    {"op": "write", "producer": 0, "position": 0, "data": "0000000001112131"}
    {"op": "commit", "producer": 0, "position": 0, "discard": false, "flags": 0}
    {"op": "consume", "result": {"samples": ["0000000001112131"]}}
    {"op": "set_consumer_pos", "value": 48}
    {"op": "reopen"}

Header: ``ring_size`` and ``variant`` are required; ``config`` (the object
of `Config.to_dict`) may give the whole configuration. Otherwise producers
is one more than the largest producer index in the log, records the most
reservations one producer makes (the model tracks at most 16 each),
consumer ``level`` if the log consumes and ``adversarial`` if it does not.

Operations (positions and values are unsigned 64-bit integers):

- ``reserve``: ``producer``, ``size``, optional ``flags`` (default 0);
  ``result`` is ``{"position": P}`` (the record's header position) or null
  for NULL.
- ``write``: ``producer``, ``position`` of the reservation, ``data`` (hex
  of the payload). Delivered samples are matched to records by these bytes.
- ``commit``: ``producer``, ``position``, ``discard`` (default false),
  ``flags`` (default 0).
- ``consume``: ``result`` is ``{"samples": [hex, ...]}``, the payloads one
  ring_buffer__consume pass delivered, in order.
- ``set_consumer_pos``: ``value``.
- ``set_producer_pos`` (``value``), ``write_header`` (``offset``, ``value``: the len word),
  ``write_payload`` (``offset``): hostile user space writing what the kernel maps read-only
  (``--attacker``, docs/attacker.md); the header's config must be adversarial.
- ``reopen``: no fields; the consumer was closed and opened again on the
  same ring (ring_buffer__free then ring_buffer__new). The model's ring
  does not change, so the next ``consume`` must go on from the stored
  consumer_pos (a consumer that starts again at 0 is refused at that line).
- ``observe``: ``producer_pos``, ``consumer_pos``, and either ``headers``
  (an object from byte offset, as a decimal string, to the u32 at that
  offset of the data area, for every 8-aligned offset) or ``data`` (hex of
  the whole data area). Write one after every operation for a complete
  check; the log is compared as `driver.compare` describes, at every
  offset where the model knows a header (an offset missing from
  ``headers`` there is a difference).

A record that the log never writes is treated as written at once by the
model (its samples then match any bytes). A log that is not in this format
raises `LogFormatError` naming the line; a well-formed log the model cannot
produce gives a `Divergence` naming the first line that is not a behaviour
of the model. `recorder.LogRecorder` writes such a log from any `Adapter`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from checker.conformance.adapter import Observation
from checker.conformance.divergence import Divergence, build_divergence
from checker.conformance.driver import header_words, samples_match
from checker.conformance.lockstep import CONFORMS, DIVERGES, ConformanceResult, LockstepStats
from checker.conformance.ops import (ATTACKER_KINDS, COMMIT, CONSUME, OBSERVE, REOPEN, RESERVE, SET_CONSUMER_POS,
                                     SET_PRODUCER_POS, WRITE, WRITE_HEADER, Op, commit, consume, reserve,
                                     set_consumer_pos, set_producer_pos, write, write_header, write_payload)
from checker.conformance.oracle import Oracle
from checker.json_input import JsonInputError, load_json
from model.config import Config, ConfigError
from model.constants import U64
from model.state import P_WRITE

LOG_FORMAT = "ringcheck-log/1"
_OPS = (RESERVE, WRITE, COMMIT, CONSUME, SET_CONSUMER_POS, REOPEN, OBSERVE) + ATTACKER_KINDS


class LogFormatError(ValueError):
    """The log is not in the ringcheck-log/1 format (one line naming the log line)."""


# ------------------------------------------------------------------ reading


def read_log(lines: Iterable[str]) -> tuple[dict, list[tuple[int, dict]]]:
    """The header and the (line number, object) of every entry; LogFormatError on bad JSON or shape."""
    header: dict | None = None
    entries: list[tuple[int, dict]] = []
    for n, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            obj = load_json(text)
        except JsonInputError as e:
            raise LogFormatError(f"line {n}: {e}") from None
        if not isinstance(obj, dict):
            raise LogFormatError(f"line {n}: expected a JSON object")
        if header is None:
            if obj.get("format") != LOG_FORMAT or not isinstance(obj.get("format"), str):
                raise LogFormatError(f"line {n}: the first line must be a header with "
                                     f"\"format\": \"{LOG_FORMAT}\"")
            header = obj
            continue
        if not isinstance(obj.get("op"), str) or obj["op"] not in _OPS:
            raise LogFormatError(f"line {n}: \"op\" must be one of {', '.join(_OPS)}, "
                                 f"not {_shown(obj.get('op'))}")
        entries.append((n, obj))
    if header is None:
        raise LogFormatError("the log is empty (no header line)")
    return header, entries


def _shown(v: object) -> str:
    """A value quoted in an error line, cut to a readable length."""
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _int(obj: dict, key: str, n: int, default: int | None = None, limit: int = U64) -> int:
    v = obj.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= limit:
        raise LogFormatError(f"line {n}: \"{key}\" must be an integer from 0 to {limit}, not {_shown(v)}")
    return v


def _hex(value: object, n: int, what: str) -> bytes:
    if not isinstance(value, str):
        raise LogFormatError(f"line {n}: {what} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise LogFormatError(f"line {n}: {what} is not valid hex") from None


def log_config(header: dict, entries: list[tuple[int, dict]]) -> Config:
    """The configuration the log is checked against: the header's, or inferred from the log."""
    for key, kind in (("ring_size", int), ("variant", str)):
        if key not in header and "config" not in header:
            raise LogFormatError(f"line 1: the header needs \"{key}\" (or \"config\")")
        if key in header and (not isinstance(header[key], kind) or isinstance(header[key], bool)):
            raise LogFormatError(f"line 1: header \"{key}\" must be {'an integer' if kind is int else 'a string'}, "
                                 f"not {_shown(header[key])}")
    try:
        if "config" in header:
            return Config.from_dict(header["config"])
        reserves: dict[int, int] = {}
        for n, e in entries:
            if e["op"] in (RESERVE, WRITE, COMMIT):
                p = _int(e, "producer", n, limit=7)
                if e["op"] == RESERVE:
                    reserves[p] = reserves.get(p, 0) + 1
        producers = max(reserves, default=0) + 1
        records = max(reserves.values(), default=1)
        if records > 16:
            raise LogFormatError(f"the log makes {records} reservations on one producer; the model "
                                 "tracks at most 16 per producer: split the log")
        consumer = "level" if any(e["op"] in (CONSUME, REOPEN) for _, e in entries) else "adversarial"
        return Config(variant=header.get("variant"), ring_size=header.get("ring_size"),
                      producers=producers, records=records, hold=2, consumer=consumer)
    except ConfigError as e:
        raise LogFormatError(f"line 1: {e}") from None


# ------------------------------------------------------------------ validating


class _Validator:
    """Runs the model along a log, line by line."""

    def __init__(self, config: Config) -> None:
        self.oracle = Oracle(config)
        self.state = self.oracle.initial()
        self.applied: list[Op] = []
        self.by_position: dict[int, int] = {}
        self.written: dict[int, bytes] = {}

    def reject(self, n: int, op: Op, field: str, expected: object, observed: object,
               observation: Observation | None = None) -> Divergence:
        """The divergence at line `n`; `op` is the line's operation, unless the model already ran it."""
        done = self.applied if self.applied and self.applied[-1] is op else self.applied + [op]
        return build_divergence(self.oracle, done, field, expected, observed, observation,
                                "trace", line=n, strict=False)

    def run(self, op: Op) -> Any:
        s, exp = self.oracle.apply(self.state, op, strict=False)
        self.state = s
        self.applied.append(op)
        return exp

    def flush_write(self, p: int) -> None:
        """The model writes a fresh reservation the log never wrote before the producer's next call."""
        pr = self.state.producers[p]
        if pr.pc == P_WRITE:
            self.run(write(p, pr.cur))

    def step(self, n: int, e: dict) -> Divergence | None:
        kind = e["op"]
        cfg = self.oracle.config
        if kind in (RESERVE, WRITE, COMMIT):
            p = _int(e, "producer", n, limit=7)
            if p >= cfg.producers:
                return self.reject(n, Op(kind, p), "operation", f"producer < {cfg.producers}", p)
        if kind == RESERVE:
            size = _int(e, "size", n)
            flags = _int(e, "flags", n, 0)
            res = e.get("result")
            if res is not None and not isinstance(res, dict):
                raise LogFormatError(f"line {n}: \"result\" must be {{\"position\": P}} or null")
            got = None if res is None else _int(res, "position", n)
            self.flush_write(p)
            pr = self.state.producers[p]
            op = reserve(p, size, p * cfg.records + pr.attempts)._replace(flags=flags)
            reason = self.oracle.check_allowed(self.state, op, strict=False)
            if reason:
                return self.reject(n, op, "operation", "a call the model can make", reason)
            exp = self.run(op)
            if exp.result != got:
                return self.reject(n, op, "result", exp.result, got)
            if got is not None:
                self.by_position[got] = op.rec
            return None
        if kind in (WRITE, COMMIT):
            pos = _int(e, "position", n)
            rec = self.by_position.get(pos)
            if rec is None or rec not in self.state.producers[p].held:
                op = Op(kind, p, rec=-1 if rec is None else rec)
                return self.reject(n, op, "operation", "a record this producer holds",
                                   f"no reservation of producer {p} at position {pos}")
            if kind == WRITE:
                self.written[rec] = _hex(e.get("data"), n, "\"data\"")
                pr = self.state.producers[p]
                if pr.pc == P_WRITE and pr.cur == rec:
                    self.run(write(p, rec))
                return None
            discard = e.get("discard", False)
            if not isinstance(discard, bool):
                raise LogFormatError(f"line {n}: \"discard\" must be true or false")
            self.flush_write(p)
            self.run(commit(p, rec, discard, _int(e, "flags", n, 0)))
            return None
        if kind == SET_CONSUMER_POS:
            self.run(set_consumer_pos(_int(e, "value", n)))
            return None
        if kind in ATTACKER_KINDS:
            op = set_producer_pos(_int(e, "value", n)) if kind == SET_PRODUCER_POS else \
                write_header(_int(e, "offset", n), _int(e, "value", n)) if kind == WRITE_HEADER else \
                write_payload(_int(e, "offset", n))
            reason = self.oracle.check_allowed(self.state, op, strict=False)
            if reason:
                return self.reject(n, op, "operation", "a call the model can make", reason)
            self.run(op)
            return None
        if kind == REOPEN:
            op = Op(REOPEN)
            extra = sorted(set(e) - {"op"})
            if extra:
                raise LogFormatError(f"line {n}: a reopen line has no fields but \"op\", not {_shown(extra[0])}")
            reason = self.oracle.check_allowed(self.state, op, strict=False)
            if reason:
                return self.reject(n, op, "operation", "a call the model can make", reason)
            self.run(op)
            return None
        if kind == CONSUME:
            op = consume()
            res = e.get("result")
            if not isinstance(res, dict) or not isinstance(res.get("samples"), list):
                raise LogFormatError(f"line {n}: \"result\" must be {{\"samples\": [hex, ...]}}")
            samples = tuple(self.label(_hex(x, n, "a sample")) for x in res["samples"])
            reason = self.oracle.check_allowed(self.state, op, strict=False)
            if reason:
                return self.reject(n, op, "operation", "a call the model can make", reason)
            exp = self.run(op)
            expected = tuple(r if r is None or r in self.written else None for r in exp.result)
            if not samples_match(expected, samples):
                return self.reject(n, op, "samples", exp.result, samples)
            return None
        return self.observe(n, e)

    def label(self, sample: bytes) -> int | str | frozenset[int]:
        recs = [r for r, d in self.written.items() if d == sample]
        if len(recs) == 1:
            return recs[0]
        return frozenset(recs) if recs else "?" + sample.hex()

    def observe(self, n: int, e: dict) -> Divergence | None:
        prod, cons = _int(e, "producer_pos", n), _int(e, "consumer_pos", n)
        if "headers" in e:
            if not isinstance(e["headers"], dict):
                raise LogFormatError(f"line {n}: \"headers\" must be an object from offset to u32")
            words = {}
            for k, v in e["headers"].items():
                if not k.isdecimal() or len(k) > 20 or not isinstance(v, int) or isinstance(v, bool) \
                        or not 0 <= v <= 0xFFFFFFFF:
                    raise LogFormatError(f"line {n}: \"headers\" maps decimal offsets to u32 values; "
                                         f"not {_shown(k)}: {_shown(v)}")
                words[int(k)] = v
            data = b""
        elif "data" in e:
            data = _hex(e["data"], n, "\"data\"")
            words = header_words(data)
        else:
            raise LogFormatError(f"line {n}: an observation needs \"headers\" or \"data\"")
        model = self.oracle.ops.observe(self.state)
        obs = Observation(prod, cons, data or _words_to_data(words, self.oracle.config.ring_size))
        op = Op(OBSERVE)
        if prod != model.producer_pos:
            return self.reject(n, op, "producer_pos", model.producer_pos, prod, obs)
        if cons != model.consumer_pos:
            return self.reject(n, op, "consumer_pos", model.consumer_pos, cons, obs)
        for off, len_word in model.headers:
            got = words.get(off)
            if got != len_word:
                return self.reject(n, op, f"header[{off}]", len_word, "missing" if got is None else got, obs)
        return None


def _words_to_data(words: dict[int, int], ring_size: int) -> bytes:
    data = bytearray(ring_size)
    for off, w in words.items():
        if 0 <= off <= ring_size - 4:
            data[off:off + 4] = (w & 0xFFFFFFFF).to_bytes(4, "little")
    return bytes(data)


def validate_log(lines: Iterable[str], config: Config | None = None) -> ConformanceResult:
    """Decide whether the log is a behaviour of the model; LogFormatError if it is malformed."""
    t0 = time.perf_counter()
    header, entries = read_log(lines)
    cfg = config or log_config(header, entries)
    v = _Validator(cfg)
    stats = LockstepStats()
    for n, e in entries:
        div = v.step(n, e)
        stats.transitions += 1
        if div is not None:
            stats.seconds = time.perf_counter() - t0
            stats.depth = len(v.applied)
            stats.states = stats.depth + 1
            return ConformanceResult(cfg, "trace", DIVERGES, stats, div)
    stats.seconds = time.perf_counter() - t0
    stats.depth = len(v.applied)
    stats.states = stats.depth + 1
    return ConformanceResult(cfg, "trace", CONFORMS, stats,
                             notes=[f"{len(entries)} log entries, {len(v.applied)} model operations"])

"""Conformance from a used ring: a warm-up that runs the ring round before lockstep starts.

A fresh ring hides mistakes that need positions away from zero or memory
holding earlier laps (a consumer that masks with the wrong width, one that
trusts a stale header from the previous lap). `warmup_operations` is a
fixed prefix of whole records: producer 0 reserves the config's largest
size, writes, commits, and the record is consumed (or, with the
adversarial consumer, consumer_pos is stored at producer_pos), `records`
times. After it both positions are equal and non-zero and the data area
holds the old, consumed headers and payloads.

The model has no other way to start "used": record ids are per
reservation, so the warm-up's records are counted in a config with
`records` raised by the warm-up's length (`warmup_config`), and the
exploration afterwards gives producer 0 only its usual number of
reservations (`Oracle(..., budget=...)`). The prefix is part of every path
lockstep replays, so a divergence shows it and replays from a fresh ring.
"""

from __future__ import annotations

from checker.conformance.ops import Op, commit, consume, reserve, set_consumer_pos, write
from checker.conformance.oracle import Oracle
from model.config import Config
from model.constants import HDR_SZ
from model.operations import OperationError

MAX_RECORDS = 16
"""Config.records allows at most 16 reservations per producer, warm-up included."""


def warmup_config(config: Config, records: int) -> Config:
    """`config` with room for `records` more reservations of producer 0 (ValueError if over 16)."""
    if records < 0:
        raise ValueError(f"warm-up: {records} records is not a count")
    if config.records + records > MAX_RECORDS:
        raise ValueError(f"warm-up: {records} records plus the config's {config.records} exceed the "
                         f"{MAX_RECORDS} reservations the model tracks per producer")
    return config.with_(records=config.records + records)


def warmup_budget(config: Config, records: int) -> tuple[int, ...]:
    """Reservations each producer may make in all: the warm-up's plus the usual `config.records`."""
    return tuple(config.records + (records if p == 0 else 0) for p in range(config.producers))


def warmup_operations(config: Config, records: int) -> list[Op]:
    """The warm-up prefix in `warmup_config(config, records)`: `records` whole records made and consumed."""
    cfg = warmup_config(config, records)
    fitting = [s for s in cfg.sizes if (s + HDR_SZ + 7) // 8 * 8 <= cfg.ring_size]
    if records and not fitting:
        raise ValueError("warm-up: no size of the config fits in the ring")
    size = max(fitting, default=0)
    oracle = Oracle(cfg)
    s = oracle.initial()
    out: list[Op] = []
    for rec in range(records):
        ops = [reserve(0, size, rec), write(0, rec), commit(0, rec)]
        for op in ops:
            s, exp = oracle.apply(s, op)
            if op.kind == "reserve" and exp.result is None:
                raise OperationError(f"warm-up: reservation {rec} of {size} bytes returned NULL")
        last = consume() if cfg.honest else set_consumer_pos(s.producer_pos)
        s, _ = oracle.apply(s, last)
        out += ops + [last]
    return out

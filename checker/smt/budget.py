"""Time limits of the SMT engines: one obligation's (``--timeout``) and the whole run's (``--max-seconds``).

An obligation of ``prove`` may take several solver calls (a quick incremental
try, eager rounds of z3 and Bitwuzla, a general-solver fallback, one set per
conjunct); each call gets what is *left* of the obligation's time, not the
full ``--timeout`` again, so an obligation ends within its limit. The whole
run's limit is a deadline every call is also cut to; once it has passed,
``OutOfTime`` ends the run, and what was not settled is reported as
"unknown", bounded by ``max_seconds=...``, never as holding.

Deadlines are ``time.monotonic()`` values (one clock for the machine, so a
worker process could be handed one). The run's deadline is process-wide
(``run_limit``), as a run is.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

_run = {"until": None, "seconds": None}


class OutOfTime(Exception):
    """The whole run's time limit (``run_limit``) has passed."""

    def __init__(self, bound: str) -> None:
        super().__init__(f"the run's time limit {bound} was reached")
        self.bound = bound


def check_seconds(name: str, value: float | None) -> float | None:
    """``value`` if it is None or a positive finite number of seconds; ValueError naming ``name`` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: must be a positive finite number of seconds, got {value!r}")
    return float(value)


@contextmanager
def run_limit(seconds: float | None) -> Iterator[None]:
    """Inside, every solver call is cut to ``seconds`` from now in all (None: no limit of its own; a limit
    already in force stays)."""
    check_seconds("max-seconds", seconds)
    saved = dict(_run)
    if seconds is not None:
        until = time.monotonic() + seconds
        if _run["until"] is None or until < _run["until"]:  # an inner limit only ever shortens the outer one
            _run["until"], _run["seconds"] = until, seconds
    try:
        yield
    finally:
        _run.update(saved)


def run_bound() -> str | None:
    """``max_seconds=N`` for the limit in force, or None."""
    return None if _run["seconds"] is None else f"max_seconds={_run['seconds']:g}"


def run_until() -> float | None:
    """The run's deadline (``time.monotonic()``), or None."""
    return _run["until"]


def check_run(slack: float = 0.0) -> None:
    """OutOfTime if the run's limit has passed, or will within ``slack`` seconds (a solver cut to the limit
    may return a little before it)."""
    until = _run["until"]
    if until is not None and time.monotonic() + slack >= until:
        raise OutOfTime(run_bound() or "")


def left(want: float, until: float | None = None) -> float:
    """``want`` seconds cut to what the obligation (deadline ``until``) and the run have left; may be <= 0
    when the obligation's time is up. OutOfTime when the run's is."""
    check_run()
    now = time.monotonic()
    out = want
    for deadline in (until, _run["until"]):
        if deadline is not None:
            out = min(out, deadline - now)
    return out


def ms(seconds: float) -> int:
    """A z3 ``timeout`` in milliseconds: at least 1 (z3 reads 0 as no limit at all)."""
    return max(1, int(seconds * 1000))

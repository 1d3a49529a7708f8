"""How much memory a search may use, and a cheap look at how much it uses now.

A search keeps every distinct state it has seen, so on a big configuration
it grows until the machine runs out. ``MemoryBudget`` lets the engines stop
before that, with an honest "holds up to bound max_memory=..." instead of a
MemoryError or the kernel's OOM killer.

The default budget (``default_max_memory_mb``) is the smaller of

- what this process holds when the run starts plus three quarters of
  ``MemAvailable`` in /proc/meminfo: the memory the kernel says it can hand
  out without swapping, less a quarter left to whatever else runs on the
  machine meanwhile (what the process already holds counts, or a long-lived
  process such as a notebook would start over its budget); and
- when RLIMIT_AS is set (``ulimit -v``, ``prlimit --as``), the resident
  memory this process can still grow by before its address space hits the
  limit, plus what it holds now, times 0.8. RLIMIT_AS counts address space,
  not resident memory, and Python already has mapped more than it touches
  (libraries, arenas), so the headroom is measured from the current address
  space; the 0.8 keeps the last allocations (a verdict, a trace) possible.

The budget is compared with the resident set size read from
/proc/self/statm (one small read, a few microseconds), which the engines do
every few hundred states.

Under RLIMIT_AS the same read also guards the address space itself, whatever
``--max-memory`` says: the search stops while a reserve of it is still free
(``ADDRESS_SPACE_RESERVE``). Running into the limit is not a safe way to stop:
CPython 3.11 answers some failed small allocations with a crash rather than a
MemoryError (a dict-items iterator whose result tuple cannot be allocated is
freed before it is tracked, and the process dies of SIGSEGV), so the search
must not get there. A MemoryError raised by a large allocation is still
caught by the engines and reported.
"""

from __future__ import annotations

import math
import os
import resource

MB = 1 << 20
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

AVAILABLE_FRACTION = 0.75
"""Share of MemAvailable a search may take by default."""

ADDRESS_SPACE_FRACTION = 0.8
"""Share of the RLIMIT_AS headroom a search may take by default."""

ADDRESS_SPACE_RESERVE = 0.2
"""Share of the RLIMIT_AS headroom at the budget's creation kept free, whatever the budget: the search stops
before its mapped address space reaches the rest (``MemoryBudget.exceeded``)."""

ADDRESS_SPACE_RESERVE_MIN_MB = 8.0
"""The reserve is at least this: more than a few hundred states and one arena ever take between two checks."""


class MemoryBudgetError(ValueError):
    """A ``--max-memory`` value cannot be used (one-line message)."""


def _statm() -> tuple[int, int]:
    """(address space, resident set) of this process in bytes, from /proc/self/statm."""
    with open("/proc/self/statm", "rb") as f:
        size, resident = f.read().split()[:2]
    return int(size) * PAGE, int(resident) * PAGE


def rss_mb() -> float:
    """Resident memory of this process now, in MiB (peak so far where /proc is missing)."""
    try:
        return _statm()[1] / MB
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mem_available_mb() -> float | None:
    """MemAvailable from /proc/meminfo in MiB, or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def mem_total_mb() -> float | None:
    """Physical memory (MemTotal) in MiB, or None."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * PAGE / MB
    except (ValueError, OSError, AttributeError):
        return None


def _address_space_limit() -> tuple[int, tuple[int, int] | None] | None:
    """(RLIMIT_AS in bytes, (mapped, resident) bytes or None where /proc cannot be read), or None if unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        return soft, _statm()
    except OSError:
        return soft, None


def address_space_headroom_mb() -> float | None:
    """Resident memory this process can reach before RLIMIT_AS stops it, or None if unlimited."""
    limit = _address_space_limit()
    if limit is None:
        return None
    soft, statm = limit
    if statm is None:
        return soft / MB
    size, resident = statm
    return max(0.0, soft - size + resident) / MB


def _address_space_stop() -> int | None:
    """Mapped bytes past which a search must stop under RLIMIT_AS, keeping the reserve free; None if unlimited."""
    limit = _address_space_limit()
    if limit is None or limit[1] is None:
        return None
    soft, (size, _) = limit
    reserve = max(ADDRESS_SPACE_RESERVE_MIN_MB * MB, ADDRESS_SPACE_RESERVE * max(0, soft - size))
    return int(soft - reserve)


def default_max_memory_mb() -> float:
    """The default budget in MiB: see the module docstring for which limits and why."""
    candidates = []
    avail = mem_available_mb()
    if avail is not None:
        candidates.append(rss_mb() + AVAILABLE_FRACTION * avail)
    headroom = address_space_headroom_mb()
    if headroom is not None:
        candidates.append(ADDRESS_SPACE_FRACTION * headroom)
    return max(1.0, min(candidates)) if candidates else 4096.0


def parse_memory(text: str) -> float:
    """``512``, ``512M``, ``1.5G`` or ``800000K`` to MiB (a bare number is MiB); one-line error otherwise."""
    t = str(text).strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0 * 1024}
    factor = 1.0
    if t and t[-1] in scale:
        factor, t = scale[t[-1]], t[:-1]
    try:
        value = float(t) * factor
    except ValueError:
        raise MemoryBudgetError(f"max-memory: {text!r} is not a size; use e.g. 512M or 2G") from None
    total = mem_total_mb()
    if not math.isfinite(value) or value <= 0:
        raise MemoryBudgetError(f"max-memory: {text!r} must be a positive size, e.g. 512M or 2G")
    if total is not None and value > total:
        raise MemoryBudgetError(f"max-memory: {text} is more than this machine's {total:.0f} MB of memory")
    return value


class MemoryLimitReached(Exception):
    """Raised by ``MemoryBudget.check`` for engines that unwind rather than return; ``bound`` names it."""

    def __init__(self, bound: str) -> None:
        super().__init__(bound)
        self.bound = bound


class MemoryBudget:
    """A limit on this process's resident memory, checked cheaply while a search runs."""

    def __init__(self, limit_mb: float | None = None) -> None:
        self.limit_mb = default_max_memory_mb() if limit_mb is None else limit_mb
        self.out_of_memory: float | None = None
        """Peak MiB when a MemoryError was caught: memory ran out before the budget was reached."""
        self.address_space_stop = _address_space_stop()
        """Mapped bytes at which the search stops under RLIMIT_AS (None without a limit): see the module docstring."""
        self.stopped_at_address_space: float | None = None
        """Resident MiB when the address-space guard stopped the search."""

    def exceeded(self) -> bool:
        """True when the resident set is above the limit, or the address space is at its guard."""
        try:
            size, resident = _statm()
        except OSError:
            return rss_mb() > self.limit_mb
        if self.address_space_stop is not None and size > self.address_space_stop:
            self.stopped_at_address_space = resident / MB
            return True
        return resident / MB > self.limit_mb

    def check(self) -> None:
        """Raise MemoryLimitReached when the resident set is above the limit."""
        if self.exceeded():
            raise MemoryLimitReached(self.bound())

    def ran_out(self) -> None:
        """Note that a MemoryError ended the search (at the peak memory so far)."""
        self.out_of_memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def bound(self) -> str:
        """The bound a verdict names when memory stopped the search."""
        if self.out_of_memory is not None:
            return (f"max_memory={self.out_of_memory:.0f}MB (MemoryError: the process could not get more, "
                    f"below the {self.limit_mb:.0f}MB budget)")
        if self.stopped_at_address_space is not None:
            soft, _ = resource.getrlimit(resource.RLIMIT_AS)
            return (f"max_memory={self.stopped_at_address_space:.0f}MB (the address-space limit, ulimit -v "
                    f"{soft / MB:.0f}MB, was near; below the {self.limit_mb:.0f}MB budget)")
        return f"max_memory={self.limit_mb:.0f}MB"

"""Command-line options shared by every subcommand that takes a configuration.

``config_options`` adds ``--variant --ring-size --producers --records --hold
--sizes --consumer --nmi --discard --wakeup-flags --lock-timeout --memory --buffer
--history --order --fence --attacker --position-bits`` and the user ring buffer's ``--map
--user-producer --drains --drain-limit --hostile-writes`` to a click command, and
``config_from_options`` turns them into a validated ``Config`` (a bad value
becomes a one-line ``ConfigError``).
"""

from __future__ import annotations

import os
from typing import Callable

import click

from model.config import (ATTACKER_POWERS, CONSUMERS, DEFAULT_ATTACKER, DEFAULT_BUFFER, DEFAULT_HISTORY,
                          DEFAULT_HOSTILE_WRITES, MAPS, MAX_USER_RINGBUF_SAMPLES, MEMORY_MODELS,
                          USER_PRODUCERS, Config, ConfigError)
from model.variants import variant_names

VARIANTS = variant_names()


def parse_sizes(text: str) -> tuple[int, ...]:
    """``8,16`` (or ``0x2ff8``) to a tuple of payload sizes."""
    try:
        return tuple(int(x.strip(), 0) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"sizes: {text!r} is not a comma-separated list of integers, e.g. 8,16") from None


def config_options(fn: Callable) -> Callable:
    """Decorate a click command with the configuration options."""
    opts = [
        click.option("--variant", default="v6.10", show_default=True, metavar="[" + "|".join(VARIANTS) + "]",
                     help=f"Kernel behaviour: {', '.join(VARIANTS)}."),
        click.option("--ring-size", default="32", show_default=True, metavar="BYTES",
                     help="Data area size S in bytes (power of two >= 16; 0x4000 works)."),
        click.option("--producers", default=1, show_default=True, type=int, help="BPF programs producing."),
        click.option("--records", default=2, show_default=True, type=int,
                     help="Reservation attempts per producer."),
        click.option("--hold", default=1, show_default=True, type=int,
                     help="Reservations one producer may hold at once (1 or 2)."),
        click.option("--sizes", default="8,16", show_default=True, metavar="N,N,...",
                     help="Payload sizes a reservation may choose from."),
        click.option("--consumer", default="level", show_default=True, metavar="[" + "|".join(CONSUMERS) + "]",
                     help=f"Consumer: {', '.join(CONSUMERS)}."),
        click.option("--nmi", is_flag=True,
                     help="A reservation may run in NMI context (trylock; v6.15: fails on a held lock only "
                          "when it interrupted the holder, else waits)."),
        click.option("--discard", is_flag=True, help="A commit may discard."),
        click.option("--wakeup-flags", is_flag=True, help="A commit may pass NO_WAKEUP or FORCE_WAKEUP."),
        click.option("--lock-timeout", is_flag=True,
                     help="rqspinlock variants (v6.15): a reservation waiting for the lock may give up "
                          "(NULL), as after the kernel's 250 ms timeout."),
        click.option("--memory", default="sc", show_default=True, metavar="[" + "|".join(MEMORY_MODELS) + "]",
                     help=f"Memory model of the shared accesses: {', '.join(MEMORY_MODELS)}."),
        click.option("--buffer", default=DEFAULT_BUFFER, show_default=True, type=int,
                     help="--memory tso: store-buffer entries per actor (hitting it bounds the verdict)."),
        click.option("--history", default=DEFAULT_HISTORY, show_default=True, type=int,
                     help="--memory ra: messages kept per location (hitting it bounds the verdict)."),
        click.option("--order", "orders", multiple=True,
                     help="Override an ordering, STEP:LOCATION=ORDERING (repeatable), e.g. "
                          "p0.reserve.claim:producer_pos=plain; a step without actor means every actor."),
        click.option("--fence", "fences", multiple=True,
                     help="A full fence just before this step (repeatable), e.g. c.poll.wait."),
        click.option("--attacker", default=",".join(DEFAULT_ATTACKER), show_default=True, metavar="POWERS",
                     help=f"--consumer adversarial: what hostile user space may store, a comma list of "
                          f"{', '.join(ATTACKER_POWERS)} (beyond consumer_pos: as if the producer pages were "
                          "writable; docs/attacker.md)."),
        click.option("--position-bits", default="64", show_default=True, metavar="[64|32]",
                     help="Width of the positions: 64, or 32 (a 32-bit machine's unsigned long; with --start "
                          "near 2**32 to see the wrap)."),
        click.option("--map", "map", default="ringbuf", show_default=True, metavar="[" + "|".join(MAPS) + "]",
                     help="Map type: ringbuf (BPF programs produce) or user (user space produces, "
                          "bpf_user_ringbuf_drain consumes; docs/user-ringbuf.md)."),
        click.option("--user-producer", default="libbpf", show_default=True,
                     metavar="[" + "|".join(USER_PRODUCERS) + "]",
                     help="--map user: libbpf's user_ring_buffer__reserve/submit/discard, or hostile user space."),
        click.option("--drains", default=1, show_default=True, type=int,
                     help="--map user: BPF programs draining (2 race for the busy word)."),
        click.option("--drain-limit", default=MAX_USER_RINGBUF_SAMPLES, show_default=True, type=int,
                     help="--map user: samples one drain call takes at most."),
        click.option("--hostile-writes", default=DEFAULT_HOSTILE_WRITES, show_default=True, type=int,
                     help="--map user --user-producer adversarial: writes hostile user space makes."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


CONFIG_KEYS = ("variant", "ring_size", "producers", "records", "hold", "sizes", "consumer", "nmi",
               "discard", "wakeup_flags", "memory", "buffer", "history", "orders", "fences", "attacker",
               "position_bits", "lock_timeout", "map", "user_producer", "drains", "drain_limit",
               "hostile_writes")


def config_from_options(kw: dict) -> Config:
    """Pop the configuration options out of ``kw`` and build the Config."""
    raw = {k: kw.pop(k) for k in CONFIG_KEYS}
    try:
        raw["ring_size"] = int(str(raw["ring_size"]), 0)
    except ValueError:
        raise ConfigError(f"ring_size: {raw['ring_size']!r} is not an integer; use a power of two >= 16") from None
    raw["sizes"] = parse_sizes(raw["sizes"])
    raw["orders"] = tuple(raw["orders"])
    raw["fences"] = tuple(raw["fences"])
    raw["attacker"] = tuple(p.strip() for p in str(raw["attacker"]).split(",") if p.strip())
    try:
        raw["position_bits"] = int(str(raw["position_bits"]), 0)
    except ValueError:
        raise ConfigError(f"position_bits: {raw['position_bits']!r} is not allowed; use 64 or 32") from None
    return Config(**raw)


def require_sc(memory: str, command: str) -> None:
    """Refuse a weak memory model in a command that stays sequentially consistent (one line, exit 2)."""
    if memory != "sc":
        raise ConfigError(f"{command}: stays sequentially consistent; --memory {memory} works with check, "
                          "states and trace")


MAX_MEMORY_HELP = ("Stop the search, with a bounded verdict, when this process holds more memory than this "
                   "(e.g. 512M, 2G; a bare number is MB). Default: what the process holds plus 3/4 of "
                   "MemAvailable at the start, or less under ulimit -v.")


def max_memory_option(fn: Callable) -> Callable:
    """Decorate an exploring command with ``--max-memory`` (parsed by ``max_memory_from``)."""
    return click.option("--max-memory", "max_memory", default=None, metavar="SIZE", help=MAX_MEMORY_HELP)(fn)


def max_memory_from(text: object) -> float | None:
    """``--max-memory`` text to MiB, None for the machine's default; one-line error if it is not a size."""
    from checker.memory import MemoryBudgetError, parse_memory

    try:
        return None if text is None else parse_memory(str(text))
    except MemoryBudgetError as e:
        raise click.UsageError(str(e)) from None


MAX_THREADS = 64


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class ThreadCount(click.ParamType):
    """``--threads``: a number from 1 to 64, or ``auto`` for the CPUs this process may use."""

    name = "N|auto"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        elif isinstance(value, str) and value.strip().lower() == "auto":
            return max(1, min(MAX_THREADS, usable_cpus()))
        else:
            try:
                n = int(str(value))
            except ValueError:
                self.fail(f"{value!r} is not a number of threads; use 1 to {MAX_THREADS} or auto", param, ctx)
        if not 1 <= n <= MAX_THREADS:
            self.fail(f"{n} is not in the range 1 to {MAX_THREADS} (or use auto)", param, ctx)
        return n


def engine_option(fn: Callable) -> Callable:
    """Decorate an exploring command with ``--engine {auto,python,compiled}``, ``--threads N|auto``, ``--store``."""
    fn = click.option("--store", default="flat", show_default=True, type=click.Choice(["flat", "tree"]),
                      help="How the compiled BFS keeps visited states: flat (whole packed states) or tree "
                           "(shared nodes: a third of the memory or less, somewhat slower; BFS).")(fn)
    fn = click.option("--threads", default="1", show_default=True, type=ThreadCount(),
                      help="Threads for the compiled BFS in this process (same counts and traces as one); "
                           "auto: one per CPU this process may use.")(fn)
    return click.option("--engine", default="auto", show_default=True,
                        type=click.Choice(["auto", "python", "compiled"]),
                        help="Explicit-state core: compiled (numba) where it supports the run under auto.")(fn)


def distributed_options(fn: Callable) -> Callable:
    """Decorate ``check`` with the distributed search's options (checker.distributed, docs/distributed.md)."""
    opts = [
        click.option("--workers", type=click.IntRange(1, 1024), default=None,
                     help="Distributed search over N worker processes on this machine (a hash-partitioned BFS "
                          "on the compiled core; same counts and shortest traces as one); with --ray, N actors "
                          "(default: the cluster's CPUs)."),
        click.option("--ray", "ray_address", metavar="ADDRESS", default=None,
                     help="Run the workers on a running Ray cluster (ray start --head; e.g. auto or "
                          "10.0.0.1:6379); needs pip install 'ringcheck[distributed]'."),
        click.option("--worker-memory", metavar="SIZE", default=None,
                     help="Memory bound of each worker (e.g. 4G); default: --max-memory split between them."),
        click.option("--checkpoint", "checkpoint_dir", metavar="DIR", default=None,
                     help="Write the visited shards and the frontier to DIR at the end of every level "
                          "(a new or empty directory)."),
        click.option("--resume", "resume_dir", metavar="DIR", default=None,
                     help="Continue the run checkpointed in DIR (refused if it was made for another "
                          "configuration or model)."),
        click.option("--on-worker-loss", type=click.Choice(["stop", "resume"]), default="stop", show_default=True,
                     help="When a worker dies: stop with a bounded verdict naming it, or restart the workers "
                          "from the last checkpoint (needs --checkpoint)."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


DISTRIBUTED_KEYS = ("workers", "ray_address", "worker_memory", "checkpoint_dir", "resume_dir", "on_worker_loss")


def wants_distributed(kw: dict) -> bool:
    """True when an option of the distributed search was given."""
    return any(kw[k] is not None for k in DISTRIBUTED_KEYS if k != "on_worker_loss") \
        or kw["on_worker_loss"] != "stop"

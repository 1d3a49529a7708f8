"""A validated configuration of the ring buffer model.

Every field is checked once, here, so that the transitions and engines can
trust it; a bad value raises ``ConfigError`` whose message is one line that
names the field and the values it accepts.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Iterator

from model.constants import MAX_RECORD_SZ, POSITION_WIDTHS, position_mask
from model.variants import RQSPINLOCK, VARIANTS_BY_NAME, Rules

MAPS = ("ringbuf", "user")
"""Map types: BPF_MAP_TYPE_RINGBUF (the kernel produces, user space consumes) and
BPF_MAP_TYPE_USER_RINGBUF (user space produces, ``bpf_user_ringbuf_drain`` consumes; docs/user-ringbuf.md)."""

USER_PRODUCERS = ("libbpf", "adversarial")
"""The user ring's producer: libbpf's user_ring_buffer__reserve/submit/discard, or hostile user space."""

MAX_USER_RINGBUF_SAMPLES = 128 * 1024
"""BPF_MAX_USER_RINGBUF_SAMPLES: the most loop iterations one bpf_user_ringbuf_drain call makes."""

DEFAULT_HOSTILE_WRITES = 2
"""Writes the adversarial user producer makes (each a producer_pos or a data-area word)."""

CONSUMERS = ("level", "edge", "adversarial", "overwrite-safe")
"""libbpf with level-triggered epoll, with edge-triggered epoll, hostile user space, or (overwrite
rings only) a consumer that starts at max(consumer_pos, overwrite_pos) and discards what was
overwritten while it copied (``model.consumer_overwrite``)."""

MEMORY_MODELS = ("sc", "tso", "ra")
"""Sequential consistency (every earlier verdict), x86-TSO, release/acquire (``model.memory``)."""

DEFAULT_BUFFER = 2
"""TSO store-buffer entries per actor. Two is the smallest bound that shows both
reorderings TSO has over SC in this protocol: a store still waiting while its
actor's later load goes to memory (the lost wakeup needs only that, one entry),
and a second store queued behind it, so that stores are seen to drain in order.
A producer's claim makes four stores and its write one or two more, so with the
default the bound is hit (the oldest entry is flushed early) and a verdict says
"holds up to bound buffer=2"; ``--buffer 6`` covers a v6.10 producer with sizes
up to 16, and the honest consumer's stores between loads, completely."""

DEFAULT_HISTORY = 3
"""RA messages kept per location (loom keeps 7; three keep the state spaces small
while letting a load read two stale values)."""

ORDERINGS = ("plain", "acquire", "release", "xchg")
"""What ``--order STEP:LOCATION=ORDERING`` may set (``model.steps``)."""


MAX_RING_SIZE = 1 << 20
"""Largest ring the explicit model takes: a state holds one entry per 8-byte word (1 MiB
of words per state at this size), so a 24 GB machine still holds some thousands of states."""

MAX_REPLAY_RING_SIZE = 1 << 32
"""Largest ring a single trace may be replayed at (``replay_ring_sizes``): some states exist only on
rings the search cannot take, a sample longer than a dynptr's 2**24 - 1 bytes needs S >= 2**25."""

_ring_cap: ContextVar[int] = ContextVar("ring_cap", default=MAX_RING_SIZE)


@contextmanager
def replay_ring_sizes() -> Iterator[None]:
    """Accept rings up to ``MAX_REPLAY_RING_SIZE`` within: for replaying one SMT counterexample step
    by step in the explicit model (a few states, each a tuple of S/8 words), never for a search."""
    token = _ring_cap.set(MAX_REPLAY_RING_SIZE)
    try:
        yield
    finally:
        _ring_cap.reset(token)


MAX_SIZES = 64
"""Most payload sizes a reservation may choose from (each is a branch of every reserve)."""

MAX_ADVERSARY_REACH = 2 * MAX_RING_SIZE
"""Largest adversary reach: the adversary has reach/4 successors in every state."""

ATTACKER_POWERS = ("consumer_pos", "producer_pos", "header", "payload")
"""What hostile user space may store (``Config.attacker``, docs/attacker.md): the consumer page
(the only one the kernel maps writable), and, to ask "what if the producer pages were
writable", producer_pos, header words and payload words of the data area."""

DEFAULT_ATTACKER = ("consumer_pos",)
"""Today's adversary: it writes consumer_pos and nothing else."""


LATER_FIELDS = ("map", "attacker", "position_bits", "lock_timeout", "user_producer", "drains",
                "drain_limit", "hostile_writes")
"""Fields added after JSON logs, reports and proof digests were first kept: ``to_dict``
writes them only when they differ from their default, so that everything kept before
reads, and hashes, the same."""


def _plain(v: object) -> object:
    """A field value in JSON form (tuples as lists)."""
    return list(v) if isinstance(v, tuple) else v


class ConfigError(ValueError):
    """A configuration value is not allowed; the message is one line for the user."""


@dataclass(frozen=True)
class Config:
    """What is being checked: the ring, its producers, its consumer and the kernel variant."""

    variant: str = "v6.10"
    """Kernel behaviour, a name in ``model.variants`` (its rules: ``Config.rules``)."""
    map: str = "ringbuf"
    """Map type (``MAPS``)."""
    ring_size: int = 32
    producers: int = 1
    records: int = 2
    hold: int = 1
    sizes: tuple[int, ...] = (8, 16)
    consumer: str = "level"
    nmi: bool = False
    discard: bool = False
    wakeup_flags: bool = False
    adversary_reach: int | None = field(default=None)
    """How far from producer_pos the adversary may store consumer_pos (default 2*S)."""
    memory: str = "sc"
    """Memory model of the shared accesses: sc (today's model, bit for bit), tso or ra."""
    buffer: int = DEFAULT_BUFFER
    """TSO: store-buffer entries per actor (see DEFAULT_BUFFER for why 2)."""
    history: int = DEFAULT_HISTORY
    """RA: messages kept per location."""
    orders: tuple[str, ...] = ()
    """Ordering overrides ``STEP:LOCATION=ORDERING`` (``p0.reserve.claim:producer_pos=plain``;
    a step without its actor, ``reserve.claim:...``, applies to every actor taking it)."""
    fences: tuple[str, ...] = ()
    """Steps to put a full fence (smp_mb) just before: ``c.poll.wait``, or ``commit.wakeup`` for every producer."""
    attacker: tuple[str, ...] = DEFAULT_ATTACKER
    """With ``consumer="adversarial"``: what hostile user space stores (``ATTACKER_POWERS``)."""
    position_bits: int = 64
    """Width of the positions (64, or 32 for a 32-bit machine's ``unsigned long``): arithmetic modulo 2**bits."""
    lock_timeout: bool = False
    """rqspinlock variants (v6.15): a reservation waiting for a lock held on another CPU may
    give up (NULL), as the kernel does after 250 ms. Off by default: the timeout only fires
    when a holder stalls for a quarter of a second, which the untimed model cannot tell from
    an ordinary wait, so with it on every contended lock step also fails; the default is the
    kernel's usual behaviour (wait for the holder) and the switch explores the rare one."""
    user_producer: str = "libbpf"
    """map=user: who writes the ring (``USER_PRODUCERS``)."""
    drains: int = 1
    """map=user: BPF programs calling bpf_user_ringbuf_drain, 1 or 2 (two race for the busy word)."""
    drain_limit: int = MAX_USER_RINGBUF_SAMPLES
    """map=user: loop iterations per drain call (the kernel's BPF_MAX_USER_RINGBUF_SAMPLES; smaller
    values let a small model reach the limit)."""
    hostile_writes: int = DEFAULT_HOSTILE_WRITES
    """map=user, adversarial producer: how many writes (producer_pos or a data word) it makes."""

    def __post_init__(self) -> None:
        validate(self)

    @property
    def mask(self) -> int:
        """``S - 1``: a position's offset in the data area is ``pos & mask``."""
        return self.ring_size - 1

    @property
    def slots(self) -> int:
        """Number of 8-byte words in the data area."""
        return self.ring_size // 8

    @property
    def rules(self) -> Rules:
        """What the variant's kernel does (``model.variants``); steps ask this, never the name."""
        return VARIANTS_BY_NAME[self.variant]

    @property
    def has_pending(self) -> bool:
        """True for variants with the pending_pos scan (the CVE-2024-41009 fix)."""
        return self.rules.pending_scan

    @property
    def checks_record_size(self) -> bool:
        """True for variants that refuse records longer than the ring (CVE-2021-3489 fix)."""
        return self.rules.checks_record_size

    @property
    def honest(self) -> bool:
        """True when the consumer is libbpf rather than hostile user space."""
        return self.consumer != "adversarial"

    @property
    def reach(self) -> int:
        """Distance from producer_pos within which the adversary stores consumer_pos."""
        return 2 * self.ring_size if self.adversary_reach is None else self.adversary_reach

    @property
    def pos_mask(self) -> int:
        """All ones at the position width: positions wrap modulo ``2**position_bits``."""
        return position_mask(self.position_bits)

    def with_(self, **changes: object) -> "Config":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @property
    def weak(self) -> bool:
        """True under a weak memory model (tso, ra): the State then carries the memory's state."""
        return self.memory != "sc"

    def describe(self) -> str:
        """One line naming every field, as a run header or a table row (SC with no override: as before)."""
        flags = [n for n in ("nmi", "discard", "wakeup_flags", "lock_timeout") if getattr(self, n)]
        line = (
            f"{self.variant} S={self.ring_size} P={self.producers} E={self.records} "
            f"hold={self.hold} sizes={','.join(map(str, self.sizes))} "
            f"consumer={self.consumer}" + (f" +{'+'.join(flags)}" if flags else "")
        )
        if self.memory == "tso":
            line += f" memory=tso buffer={self.buffer}"
        elif self.memory == "ra":
            line += f" memory=ra history={self.history}"
        if self.map == "user":
            line = self._describe_user()
        line += "".join(f" order={o}" for o in self.orders)
        line += "".join(f" fence={f}" for f in self.fences)
        if self.attacker != DEFAULT_ATTACKER:
            line += f" attacker={','.join(self.attacker)}"
        if self.position_bits != 64:
            line += f" position_bits={self.position_bits}"
        return line

    def _describe_user(self) -> str:
        """The user ring's run header: its producer, drains and bounds."""
        flags = [n for n in ("discard", "wakeup_flags") if getattr(self, n)]
        if self.user_producer == "adversarial":
            who = f"producer=adversarial writes={self.hostile_writes} reach={self.reach}"
        else:
            who = f"producer=libbpf E={self.records} hold={self.hold} sizes={','.join(map(str, self.sizes))}"
        line = f"{self.variant} map=user S={self.ring_size} {who} drains={self.drains}"
        if self.drain_limit != MAX_USER_RINGBUF_SAMPLES:
            line += f" limit={self.drain_limit}"
        return line + (f" +{'+'.join(flags)}" if flags else "")

    @property
    def hostile(self) -> bool:
        """map=user: True when the user producer is hostile user space rather than libbpf."""
        return self.user_producer == "adversarial"

    def to_dict(self) -> dict:
        """Plain JSON-ready form, read back by ``Config.from_dict``."""
        return {
            "variant": self.variant,
            "ring_size": self.ring_size,
            "producers": self.producers,
            "records": self.records,
            "hold": self.hold,
            "sizes": list(self.sizes),
            "consumer": self.consumer,
            "nmi": self.nmi,
            "discard": self.discard,
            "wakeup_flags": self.wakeup_flags,
            "adversary_reach": self.adversary_reach,
            "memory": self.memory,
            "buffer": self.buffer,
            "history": self.history,
            "orders": list(self.orders),
            "fences": list(self.fences),
        } | {name: _plain(getattr(self, name)) for name in LATER_FIELDS
             if getattr(self, name) != Config.__dataclass_fields__[name].default}

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        """Inverse of ``to_dict``; unknown keys are an error."""
        if not isinstance(d, dict):
            raise ConfigError(f"config: expected an object of configuration fields, not {type(d).__name__}")
        known = set(cls.__dataclass_fields__)
        extra = sorted(set(d) - known)
        if extra:
            raise ConfigError(f"config: unknown field {extra[0]!r}; known: {', '.join(sorted(known))}")
        d = dict(d)
        for name, what in (("sizes", "payload sizes"), ("orders", "STEP:LOCATION=ORDERING strings"),
                           ("fences", "step names"), ("attacker", "attacker powers")):
            if name in d:
                if not isinstance(d[name], (list, tuple)):
                    raise ConfigError(f"{name}: expected a list of {what}, not {type(d[name]).__name__}")
                d[name] = tuple(d[name])
        return cls(**d)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def validate(c: Config) -> None:
    """Raise ConfigError for the first field that is out of range."""
    if not isinstance(c.variant, str) or c.variant not in VARIANTS_BY_NAME:
        raise ConfigError(f"variant: {c.variant!r} is not one of {', '.join(VARIANTS_BY_NAME)}")
    if not isinstance(c.map, str) or c.map not in MAPS:
        raise ConfigError(f"map: {c.map!r} is not one of {', '.join(MAPS)}")
    if c.map == "user" and "user" not in c.rules.maps:
        raise ConfigError(f"variant: {c.variant} predates the user ring buffer (BPF_MAP_TYPE_USER_RINGBUF, "
                          f"Linux 6.1); use one of {', '.join(n for n, r in VARIANTS_BY_NAME.items() if 'user' in r.maps)}")
    if c.map not in c.rules.maps:
        raise ConfigError(f"variant: {c.variant} is a behaviour of the {', '.join(c.rules.maps)} map, "
                          f"not of {c.map}")
    s = c.ring_size
    if not _is_int(s) or s < 16 or s & (s - 1):
        raise ConfigError(f"ring_size: {s!r} is not allowed; use a power of two >= 16 (16, 32, 64, ...)")
    if s > _ring_cap.get():
        raise ConfigError(f"ring_size: {s:#x} is too large for the explicit model; "
                          f"use a power of two from 16 to {MAX_RING_SIZE:#x}")
    if not _is_int(c.producers) or not 1 <= c.producers <= 8:
        raise ConfigError(f"producers: {c.producers!r} is not allowed; use 1 to 8")
    if not _is_int(c.records) or not 1 <= c.records <= 16:
        raise ConfigError(f"records: {c.records!r} is not allowed; use 1 to 16 records per producer")
    if c.hold not in (1, 2) or not _is_int(c.hold):
        raise ConfigError(f"hold: {c.hold!r} is not allowed; use 1 or 2")
    if not isinstance(c.sizes, tuple) or not c.sizes:
        raise ConfigError("sizes: give at least one payload size, e.g. 8,16")
    for v in c.sizes:
        if not _is_int(v) or v < 0 or v > 2 * MAX_RECORD_SZ:
            raise ConfigError(f"sizes: {v!r} is not allowed; use payload sizes from 0 to {2 * MAX_RECORD_SZ}")
    if len(c.sizes) > MAX_SIZES:
        raise ConfigError(f"sizes: {len(c.sizes)} sizes are too many; give at most {MAX_SIZES}")
    if len(set(c.sizes)) != len(c.sizes):
        raise ConfigError(f"sizes: {','.join(map(str, c.sizes))} repeats a size; list each once")
    if c.consumer not in CONSUMERS:
        raise ConfigError(f"consumer: {c.consumer!r} is not one of {', '.join(CONSUMERS)}")
    for name in ("nmi", "discard", "wakeup_flags", "lock_timeout"):
        if not isinstance(getattr(c, name), bool):
            raise ConfigError(f"{name}: {getattr(c, name)!r} is not allowed; use true or false")
    if c.lock_timeout and c.rules.lock != RQSPINLOCK:
        raise ConfigError(f"lock_timeout: the {c.variant} lock is a spinlock, which never times out; "
                          "use a variant with the rqspinlock (v6.15)")
    if c.adversary_reach is not None:
        r = c.adversary_reach
        if not _is_int(r) or r < 0 or r % 8 or r > MAX_ADVERSARY_REACH:
            raise ConfigError(f"adversary_reach: {r!r} is not allowed; use a multiple of 8 "
                              f"from 0 to {MAX_ADVERSARY_REACH:#x}")
    if c.memory not in MEMORY_MODELS:
        raise ConfigError(f"memory: {c.memory!r} is not one of {', '.join(MEMORY_MODELS)}")
    if c.consumer == "overwrite-safe" and not c.rules.overwrite:
        raise ConfigError(f"consumer: overwrite-safe reads overwrite_pos, which {c.variant} does not have; "
                          "use it with an overwrite variant (v6.19-overwrite)")
    if c.rules.overwrite and c.memory != "sc":
        raise ConfigError(f"memory: {c.variant} is modelled under sc only (docs/overwrite.md); "
                          f"not {c.memory}")
    if not _is_int(c.buffer) or not 1 <= c.buffer <= 64:
        raise ConfigError(f"buffer: {c.buffer!r} is not allowed; use 1 to 64 store-buffer entries")
    if not _is_int(c.history) or not 1 <= c.history <= 64:
        raise ConfigError(f"history: {c.history!r} is not allowed; use 1 to 64 messages per location")
    if not isinstance(c.orders, tuple) or not all(isinstance(o, str) for o in c.orders):
        raise ConfigError("orders: give a list of STEP:LOCATION=ORDERING strings")
    if not isinstance(c.fences, tuple) or not all(isinstance(f, str) for f in c.fences):
        raise ConfigError("fences: give a list of step names, e.g. c.poll.wait")
    _validate_attacker(c)
    if c.position_bits not in POSITION_WIDTHS or not _is_int(c.position_bits):
        raise ConfigError(f"position_bits: {c.position_bits!r} is not allowed; use 64 or 32")
    _validate_user(c)
    if c.position_bits != 64 and (c.map == "user" or c.rules.overwrite):
        raise ConfigError(f"position_bits: 32-bit positions are modelled for the kernel ring's reserve and "
                          f"consumers, not for {'the user ring buffer' if c.map == 'user' else c.variant}; use 64")
    if c.orders or c.fences:
        from model.overrides import parse_fence, parse_order
        for o in c.orders:
            parse_order(o, c)
        for f in c.fences:
            parse_fence(f, c)


def _validate_attacker(c: Config) -> None:
    """The attacker's powers: known names, each once, and only for hostile user space."""
    a = c.attacker
    if not isinstance(a, tuple) or not a or not all(isinstance(p, str) for p in a):
        raise ConfigError(f"attacker: give one or more of {', '.join(ATTACKER_POWERS)}")
    for p in a:
        if p not in ATTACKER_POWERS:
            raise ConfigError(f"attacker: {p!r} is not one of {', '.join(ATTACKER_POWERS)}")
    if len(set(a)) != len(a):
        raise ConfigError(f"attacker: {','.join(a)} repeats a power; list each once")
    if a != DEFAULT_ATTACKER and c.consumer != "adversarial":
        raise ConfigError(f"attacker: {','.join(a)} are powers of hostile user space; "
                          "use them with consumer adversarial")
def _validate_user(c: Config) -> None:
    """The user ring's fields: in range, and set only with ``map="user"``; what the user model refuses."""
    if c.user_producer not in USER_PRODUCERS:
        raise ConfigError(f"user_producer: {c.user_producer!r} is not one of {', '.join(USER_PRODUCERS)}")
    if not _is_int(c.drains) or c.drains not in (1, 2):
        raise ConfigError(f"drains: {c.drains!r} is not allowed; use 1 or 2 draining programs")
    if not _is_int(c.drain_limit) or not 1 <= c.drain_limit <= MAX_USER_RINGBUF_SAMPLES:
        raise ConfigError(f"drain_limit: {c.drain_limit!r} is not allowed; use 1 to {MAX_USER_RINGBUF_SAMPLES} "
                          "samples per drain call")
    if not _is_int(c.hostile_writes) or not 0 <= c.hostile_writes <= 8:
        raise ConfigError(f"hostile_writes: {c.hostile_writes!r} is not allowed; use 0 to 8 writes")
    if c.map != "user":
        for name in ("user_producer", "drains", "drain_limit", "hostile_writes"):
            if getattr(c, name) != Config.__dataclass_fields__[name].default:
                raise ConfigError(f"{name}: only meaningful with map user (the user ring buffer)")
        return
    if c.memory != "sc":
        raise ConfigError(f"memory: the user ring buffer model is sequentially consistent only; "
                          f"--memory {c.memory} is for the kernel ring (map ringbuf)")
    if c.producers != 1:
        raise ConfigError("producers: the user ring buffer has one user-space producer "
                          "(libbpf's is single-threaded); use 1")
    if c.nmi:
        raise ConfigError("nmi: the user ring buffer's producer is user space, not a BPF program; nmi is for map ringbuf")
    if c.consumer != "level":
        raise ConfigError("consumer: the user ring buffer is drained by bpf_user_ringbuf_drain; "
                          "choose the producer with user_producer instead")
    if c.orders or c.fences:
        raise ConfigError("orders: ordering overrides and fences are for the kernel ring's weak memory modes")

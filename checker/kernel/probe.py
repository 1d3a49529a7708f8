"""Classify the running kernel's ring buffer by behaviour, not by version number.

Two experiments, each on a fresh ring of 0x4000 bytes, tell apart the three
variants of docs/protocol.md#7:

(a) CVE-2021-3489: with consumer_pos moved far ahead through the writable
    consumer page, is a record longer than the whole ring accepted?  Only the
    original algorithm ("v5.8") lacks the length check.
(b) CVE-2024-41009: consumer_pos := 0x3000, reserve 0x2ff8 (a record of
    0x3000 at position 0), then, while holding it, reserve 0x2ff8 again.  The
    second record would start at 0x3000 and wrap over the first; only kernels
    with the ``pending_pos`` check ("v6.10") refuse it.

Every reservation is discarded in the same run without writing to it, so the
probe is harmless even on a vulnerable kernel.

What the experiments cannot see: the lock. v6.15 (a650d38915c1) made the
ring's spinlock an rqspinlock; its reserve is v6.10's otherwise, so both
experiments give the same answers on both. The two ways the new lock fails
need what PROG_TEST_RUN cannot give: the AA failure needs a reservation in an
NMI that interrupted the lock holder on its own CPU (test runs are task
context, never NMI), and the 250 ms timeout needs a holder stalled on another
CPU (the probe's reservations never contend). So the probe reports the variant
the behaviour shows (``variant``, the model ``kernel diff`` compares with) and,
separately, the variant the kernel release indicates among those that behave so
(``indicated``: v6.15 on 6.15 and later), with what it observed of the lock
and what it could not observe.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from checker.kernel.program import run_script
from checker.kernel.ringmap import RingMap, record_length
from checker.kernel.script import Discard, Reserve
from model.variants import RQSPINLOCK, V5_8, V5_13, V6_10, V6_15, VARIANTS_BY_NAME

PROBE_RING_SIZE = 0x4000
OVERSIZE_PAYLOAD = PROBE_RING_SIZE + 8  # a record longer than the ring
PENDING_CONSUMER_POS = 0x3000
PENDING_PAYLOAD = 0x2FF8  # record length 0x3000

FIRST_RELEASE = {V5_8.name: (5, 8), V5_13.name: (5, 13), V6_10.name: (6, 10), V6_15.name: (6, 15)}
"""The first mainline release of each kernel-default variant (data: the variants' own history)."""

NOT_OBSERVABLE = (
    "not observable here: the AA failure (an NMI reservation nested over the lock holder on its CPU "
    "gets NULL) needs a program in NMI context, and PROG_TEST_RUN never runs one in NMI",
    "not observable here: the 250 ms timeout needs a lock holder stalled on another CPU; "
    "the probe's reservations never contend for the lock",
)


@dataclass(frozen=True)
class ProbeResult:
    """The variant the kernel behaves like and the observations that say so."""

    variant: str
    """The variant the observed behaviour shows (v5.8, v5.13 or v6.10: the lock is not seen)."""
    oversize_accepted: bool
    overlap_accepted: bool
    evidence: tuple[str, ...]
    release: str = ""
    """The running kernel's release (uname)."""
    indicated: str = ""
    """The variant the release indicates among those that behave like ``variant`` (v6.15 from 6.15 on)."""
    lock: tuple[str, ...] = field(default=())
    """What the probe observed of the lock and what it could not observe."""

    def report(self) -> str:
        lines = [f"kernel ring buffer behaves like {self.variant}", *self.evidence]
        if self.indicated:
            same_lock = VARIANTS_BY_NAME[self.indicated].lock == VARIANTS_BY_NAME[self.variant].lock
            lines.append(f"release {self.release} indicates {self.indicated}"
                         + ("" if same_lock else f" (the rqspinlock; its reserve behaves as {self.variant}'s "
                                            "in these experiments)"))
        lines += [f"lock: {line}" for line in self.lock]
        return "\n".join(lines)


def _verdict(accepted: bool) -> str:
    return "accepted" if accepted else "refused (NULL)"


def _sanity_check() -> str:
    """A plain reservation must work, or the other experiments mean nothing."""
    with RingMap(PROBE_RING_SIZE) as ring:
        result = run_script(ring, [Reserve(0, 16), Discard(0)])
    if not result[0].ok or result[0].value != 0:
        raise RuntimeError(f"probe sanity check failed: reserve(16) on an empty ring gave {result[0]}")
    return "sanity: reserve(16) on an empty 0x4000 ring accepted at position 0"


def probe_oversize_record() -> tuple[bool, str]:
    """Experiment (a): can a record longer than the ring be reserved? Returns (accepted, evidence)."""
    consumer_pos = record_length(OVERSIZE_PAYLOAD)
    with RingMap(PROBE_RING_SIZE) as ring:
        ring.consumer_pos = consumer_pos
        result = run_script(ring, [Reserve(0, OVERSIZE_PAYLOAD), Discard(0)])
    accepted = result[0].ok
    return accepted, (
        f"(a) CVE-2021-3489: consumer_pos := {consumer_pos:#x}, reserve({OVERSIZE_PAYLOAD:#x}) "
        f"on a {PROBE_RING_SIZE:#x} ring: {_verdict(accepted)}"
        + (" -> records longer than the ring are accepted" if accepted else " -> length check present"))


def probe_overlapping_record() -> tuple[bool, str]:
    """Experiment (b): is a reservation overlapping a busy one accepted? Returns (accepted, evidence)."""
    with RingMap(PROBE_RING_SIZE) as ring:
        ring.consumer_pos = PENDING_CONSUMER_POS
        result = run_script(ring, [Reserve(0, PENDING_PAYLOAD), Reserve(1, PENDING_PAYLOAD), Discard(1), Discard(0)])
    first, second = result[0], result[1]
    if not first.ok:
        raise RuntimeError(f"probe (b): the first reserve({PENDING_PAYLOAD:#x}) was refused; cannot decide")
    accepted = second.ok
    where = f" at {second.value:#x}" if accepted else ""
    return accepted, (
        f"(b) CVE-2024-41009: consumer_pos := {PENDING_CONSUMER_POS:#x}, reserve({PENDING_PAYLOAD:#x}) "
        f"accepted at {first.value:#x}, second reserve({PENDING_PAYLOAD:#x}) while holding it: "
        f"{_verdict(accepted)}{where}"
        + (" -> overlaps the busy record" if accepted else " -> pending_pos check present"))


def classify(oversize_accepted: bool, overlap_accepted: bool) -> str:
    """Map the two observations to a protocol variant name."""
    if oversize_accepted:
        return V5_8.name
    return V5_13.name if overlap_accepted else V6_10.name


def release_numbers(release: str) -> tuple[int, int] | None:
    """``6.18.44-fc`` to (6, 18); None when the release does not start with two numbers."""
    m = re.match(r"(\d+)\.(\d+)", release)
    return (int(m.group(1)), int(m.group(2))) if m else None


def indicated_variant(behaviour: str, release: str) -> str:
    """The newest variant that behaves like ``behaviour`` in both experiments and that ``release``
    has (by FIRST_RELEASE); ``behaviour`` itself when the release says nothing more."""
    seen = VARIANTS_BY_NAME[behaviour]
    numbers = release_numbers(release)
    best = behaviour
    for name, first in FIRST_RELEASE.items():
        rules = VARIANTS_BY_NAME[name]
        if (numbers is not None and first <= numbers and not rules.overwrite
                and (rules.checks_record_size, rules.pending_scan) == (seen.checks_record_size, seen.pending_scan)):
            best = name
    return best


def lock_lines(indicated: str) -> tuple[str, ...]:
    """What the probe saw of the lock (the experiments' uncontended reservations) and what it cannot see."""
    seen = "every reservation above took the lock at once (uncontended) and none failed for it"
    if VARIANTS_BY_NAME[indicated].lock == RQSPINLOCK:
        return (seen, *NOT_OBSERVABLE)
    return (seen, "an NMI reservation's trylock cannot be driven either: PROG_TEST_RUN has no NMI")


def probe() -> ProbeResult:
    """Run both experiments on the live kernel (needs bpf(); raises BpfUnavailable otherwise)."""
    sanity = _sanity_check()
    oversize_accepted, oversize_line = probe_oversize_record()
    overlap_accepted, overlap_line = probe_overlapping_record()
    variant = classify(oversize_accepted, overlap_accepted)
    release = os.uname().release
    indicated = indicated_variant(variant, release)
    return ProbeResult(variant, oversize_accepted, overlap_accepted, (sanity, oversize_line, overlap_line),
                       release, indicated, lock_lines(indicated))

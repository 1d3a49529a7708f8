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
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.kernel.program import run_script
from checker.kernel.ringmap import RingMap, record_length
from checker.kernel.script import Discard, Reserve

PROBE_RING_SIZE = 0x4000
OVERSIZE_PAYLOAD = PROBE_RING_SIZE + 8  # a record longer than the ring
PENDING_CONSUMER_POS = 0x3000
PENDING_PAYLOAD = 0x2FF8  # record length 0x3000


@dataclass(frozen=True)
class ProbeResult:
    """The variant the kernel behaves like and the observations that say so."""

    variant: str  # "v5.8", "v5.13" or "v6.10"
    oversize_accepted: bool
    overlap_accepted: bool
    evidence: tuple[str, ...]

    def report(self) -> str:
        return "\n".join([f"kernel ring buffer behaves like {self.variant}", *self.evidence])


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
        return "v5.8"
    return "v5.13" if overlap_accepted else "v6.10"


def probe() -> ProbeResult:
    """Run both experiments on the live kernel (needs bpf(); raises BpfUnavailable otherwise)."""
    sanity = _sanity_check()
    oversize_accepted, oversize_line = probe_oversize_record()
    overlap_accepted, overlap_line = probe_overlapping_record()
    variant = classify(oversize_accepted, overlap_accepted)
    return ProbeResult(variant, oversize_accepted, overlap_accepted, (sanity, oversize_line, overlap_line))

"""Hypothesis strategies for user ring scenarios.

A scenario is honest (libbpf's producer only), hostile (only writes of
``producer_pos`` and data words) or mixed, with drains in between.  The
generation aims at every check the drain makes: producer_pos misaligned, a
sample longer than ``producer_pos - consumer_pos``, one longer than the ring,
one longer than a dynptr may be, BUSY and DISCARD headers (and both), an
empty ring, a full ring (libbpf may fill it completely), producer_pos behind
consumer_pos or 2**63 ahead, callbacks returning 1, flags the drain refuses,
and rarely the sample limit (a zeroed ring is a ring of empty samples, so
producer_pos 2**21 ahead makes one drain run into the 131072-sample limit;
rarely, because the Python model takes seconds for such a drain).

Filled payload words are distinct per slot, so the first word a callback
sees names the sample it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from checker.kernel.user.scenario import (USER_RING_SIZE, Discard, Drain, Fill, Reserve, SetProducerPos, Step, Submit,
                                          U64_MASK, WriteWord)

S = USER_RING_SIZE
BUSY, DISCARD = 1 << 31, 1 << 30
MAX_STEPS = 12
MAX_RESERVES = 12
LIMIT_DELTA = 1 << 21  # producer_pos this far ahead of an all-zero ring: more samples than one drain takes

SPECIAL_SIZES = (0, 1, 7, 8, 9, 16, 0x7F8, S - 16, S - 9, S - 8, S - 7, S, S + 8, (1 << 24) - 1, 1 << 24,
                 (1 << 30) - 1, 1 << 30, 1 << 31, 0xFFFFFFFF)
HEADER_LENGTHS = (0, 1, 5, 8, 16, 24, 0x100, S - 24, S - 16, S - 9, S - 8, S - 7, S, (1 << 24) - 9, 1 << 24,
                  (1 << 30) - 1)
ALIGNED_DELTAS = (0, 16, S - 8, S, S + 8, 2 * S)
FAR_DELTAS = (1 << 24, 1 << 63, S << 8, -8, -S)  # negative deltas wrap far ahead while consumer_pos is small
MISALIGNED_DELTAS = (1, 4, 7, 12, S + 4)
PRODUCER_DELTAS = (8, 16, S)
RARE = 37  # the value of a uniform draw that picks a rare case: hypothesis favours 0 and the bounds, not 37
DRAIN_FLAGS = (0, 0, 0, 0, 1, 2, 3, 4, 5, 1 << 32, U64_MASK)


def fill_value(slot: int) -> int:
    """The first payload word written into slot ``slot``: all eight bytes non-zero and distinct per slot."""
    return 0x8877665544332211 ^ (0x0101010101010101 * ((slot + 1) & 0x7F))


sizes = st.one_of(st.integers(0, 48), st.sampled_from(SPECIAL_SIZES), st.integers(0, S + 16))
header_lengths = st.one_of(st.integers(0, 48), st.sampled_from(HEADER_LENGTHS))
header_flags = st.sampled_from((0, 0, 0, BUSY, DISCARD, BUSY | DISCARD))
pg_offs = st.one_of(st.just(0), st.just(0), st.integers(0, 0xFFFFFFFF))
callback_returns = st.one_of(st.just(()), st.just(()), st.lists(st.integers(0, 1), max_size=6).map(tuple))


@dataclass
class _Producer:
    """Generation-time bookkeeping of the honest slots: their sizes and which are still open."""

    sizes: list[int] = field(default_factory=list)
    open: list[int] = field(default_factory=list)
    filled: set[int] = field(default_factory=set)


def _honest_step(draw: st.DrawFn, producer: _Producer) -> list[Step]:
    kinds = ["reserve"] * (len(producer.sizes) < MAX_RESERVES) * 2
    if producer.open:
        kinds += ["commit", "commit"]
        if any(producer.sizes[s] and s not in producer.filled for s in producer.open):
            kinds.append("fill")
    if not kinds:
        return []
    kind = draw(st.sampled_from(kinds))
    if kind == "reserve":
        slot = len(producer.sizes)
        producer.sizes.append(draw(sizes))
        producer.open.append(slot)
        steps: list[Step] = [Reserve(producer.sizes[slot])]
        if producer.sizes[slot] and draw(st.booleans()):
            producer.filled.add(slot)
            steps.append(Fill(slot, fill_value(slot)))
        return steps
    if kind == "fill":
        slot = draw(st.sampled_from([s for s in producer.open if producer.sizes[s] and s not in producer.filled]))
        producer.filled.add(slot)
        return [Fill(slot, fill_value(slot))]
    slot = draw(st.sampled_from(producer.open))
    producer.open.remove(slot)
    return [draw(st.sampled_from((Submit, Submit, Submit, Discard)))(slot)]


def header_word(draw: st.DrawFn) -> int:
    return draw(header_lengths) | draw(header_flags) | (draw(pg_offs) << 32)


@st.composite
def producer_positions(draw: st.DrawFn, aligned: bool = False) -> SetProducerPos:
    """A producer_pos store: mostly aligned and near consumer_pos, sometimes misaligned (never if ``aligned``).

    Rarely (one in a hundred) far ahead or random: over a zeroed ring, that
    is a drain of more than 100,000 empty samples, cheap on the kernel but
    seconds in the Python model.
    """
    kind = draw(st.integers(0, 99))
    if kind == RARE:
        return SetProducerPos(draw(st.sampled_from(FAR_DELTAS)), "consumer")
    if kind == RARE + 1:
        return SetProducerPos(draw(st.integers(0, U64_MASK)) & (~7 if aligned else U64_MASK))
    if kind < 50:
        return SetProducerPos(8 * draw(st.integers(0, 64)), "consumer")
    if kind < 70:
        return SetProducerPos(draw(st.sampled_from(ALIGNED_DELTAS)), "consumer")
    if kind < 85 and not aligned:
        return SetProducerPos(draw(st.sampled_from(MISALIGNED_DELTAS)), "consumer")
    return SetProducerPos(draw(st.sampled_from(PRODUCER_DELTAS)), "producer")


OVERSIZED_LENGTHS = (S - 7, S - 1, S, S + 1, 2 * S - 8)
ADVERTISING_DELTAS = (2 * S, 2 * S + 8, 4 * S)  # enough for every length above, and few empty samples behind it


@st.composite
def oversized_sample(draw: st.DrawFn) -> list[Step]:
    """A header longer than the ring where the drain looks, and producer_pos advertising all of it.

    Lengths of 2**24 and more (the dynptr limit) come from ``header_lengths``;
    advertising them takes producer_pos so far ahead that a later rewrite of
    the header sends the drain into the sample limit, so they are left rare.
    """
    len_word = draw(st.sampled_from(OVERSIZED_LENGTHS)) | draw(header_flags) | (draw(pg_offs) << 32)
    return [WriteWord(0, len_word, "consumer"), SetProducerPos(draw(st.sampled_from(ADVERTISING_DELTAS)), "consumer")]


@st.composite
def hostile_steps(draw: st.DrawFn, aligned: bool = False) -> Step:
    """One write by hostile user space: producer_pos, a header where the drain looks, or any word.

    ``aligned``: producer_pos stays a multiple of 8, for scenarios where
    libbpf's producer reserves too: libbpf writes a header at any byte offset
    producer_pos gives, which the word-granular model does not represent
    (NOTES-kernel.md, reported to the model).

    One write in a thousand puts producer_pos ``LIMIT_DELTA`` ahead (the
    sample limit, when the words on the way read as empty samples).
    """
    kind = draw(st.integers(0, 999))
    if kind == RARE:
        return SetProducerPos(LIMIT_DELTA, "consumer")
    if kind < 400:
        return draw(producer_positions(aligned))
    if kind < 900:
        return WriteWord(8 * draw(st.integers(0, 8)), header_word(draw), "consumer")
    return WriteWord(8 * draw(st.integers(0, S // 8 - 1)), draw(st.integers(0, U64_MASK)))


def _drain(draw: st.DrawFn) -> Drain:
    return Drain(draw(st.sampled_from(DRAIN_FLAGS)), draw(callback_returns))


@st.composite
def scenarios(draw: st.DrawFn, mode: str | None = None) -> tuple[Step, ...]:
    """A whole scenario: ``mode`` honest, hostile or mixed (drawn when None); it ends with a drain."""
    mode = mode or draw(st.sampled_from(("honest", "honest", "hostile", "mixed")))
    producer = _Producer()
    steps: list[Step] = []
    limit_seen = False
    for _ in range(draw(st.integers(1, MAX_STEPS))):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            steps.append(_drain(draw))
        elif mode == "honest" or (mode == "mixed" and choice == 1):
            steps += _honest_step(draw, producer)
        elif choice == 3 and draw(st.integers(0, 9)) == 5:
            steps += draw(oversized_sample())
        else:
            step = draw(hostile_steps(aligned=mode == "mixed"))
            if isinstance(step, SetProducerPos) and step.delta == LIMIT_DELTA:
                if limit_seen:
                    continue
                limit_seen = True
            steps.append(step)
    steps.append(_drain(draw))
    return tuple(steps)

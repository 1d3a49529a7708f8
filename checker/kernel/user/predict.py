"""What the user ring model says a scenario will show on the kernel.

Every prediction comes from ``model.userring.operations.UserRingOperations``
(libbpf's producer, hostile writes and the kernel drain at API granularity);
this module only walks the scenario, maps slots to the positions the model
granted, and writes down the expectations under the locators of
``checker.kernel.user.run``.

The model keeps a data word as its 32-bit len word (its high half, a
header's ``pg_off``, is never read by the kernel), and the bytes of a sample
libbpf's application wrote read as zero when taken for a header.  So:

- the first payload word a callback sees is predicted in its low 32 bits,
  from the model's word at the sample's position + 8 (a ``Fill`` is the
  application's write of that word, given to the model as a word write);
- the kernel's honest producer zeroes a sample's payload when it reserves it
  (the application's write; ``checker.kernel.user.run``), so a payload word
  later read as a header reads 0 on both sides;
- at the end, every data word's low 32 bits are compared with the model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.kernel.user.scenario import (USER_RING_SIZE, Discard, Drain, Fill, Reserve, Scenario, SetProducerPos,
                                          Submit, WriteWord, check_scenario, resolve, slot_sizes)
from model.config import Config
from model.state import read_len
from model.userring.operations import UserRingOperations

HDR_SZ = 8
LOW32 = 0xFFFFFFFF


@dataclass(frozen=True)
class Expect:
    """The model says ``value`` will be found at locator ``where`` on the kernel."""

    label: str
    value: object
    where: tuple


@dataclass
class Prediction:
    config: Config
    expects: list[Expect]
    states: list = field(default_factory=list)
    """The model state after each step (for a disagreement's report)."""


def model_config(scenario: Scenario, ring_size: int = USER_RING_SIZE) -> Config:
    """The user ring configuration that predicts ``scenario``: one drain, libbpf's producer and hostile writes.

    ``records`` counts the scenario's reservations, capped at Config's 16:
    the bounds only restrict which actions the explorer would choose, and
    the operations API adds a record per reservation whatever they say.
    """
    sizes = slot_sizes(scenario)
    hostile = any(isinstance(step, (SetProducerPos, WriteWord)) for step in scenario)
    return Config(map="user", ring_size=ring_size, producers=1, records=min(16, max(1, len(sizes))),
                  user_producer="adversarial" if hostile and not sizes else "libbpf",
                  discard=True, wakeup_flags=True, drains=1)


def first_word_bits(length: int) -> int:
    """Mask of the first-word bits a callback sees of a ``length``-byte sample, within the low 32 bits."""
    return (1 << (8 * min(length, 4))) - 1


def sample_view(length: int, first_word: int) -> tuple[int, int]:
    """A sample as compared: its length and the low 32 bits of its first word that it holds."""
    return length, first_word & first_word_bits(length)


class _Walk:
    def __init__(self, config: Config) -> None:
        self.ops = UserRingOperations(config)
        self.state = self.ops.initial()
        self.mask = config.ring_size - 1
        self.positions: list[int | None] = []
        self.expects: list[Expect] = []
        self.states: list = []

    def expect(self, label: str, value: object, where: tuple) -> None:
        self.expects.append(Expect(label, value, where))

    def word(self, offset: int) -> int:
        """The low 32 bits the model holds at data offset ``offset``."""
        return read_len(self.state.slots[(offset & self.mask) >> 3])

    def step(self, index: int, step) -> None:
        label = f"step {index} {step}"
        if isinstance(step, Reserve):
            self.state, pos = self.ops.reserve(self.state, step.size)
            self.positions.append(pos)
            err = 0 if pos is not None else self.ops.last_errno
            self.expect(f"{label} -> (position, errno)", (pos, err), ("reserve", index))
        elif isinstance(step, (Fill, Submit, Discard)):
            pos = self.positions[step.slot]
            if pos is not None:
                if isinstance(step, Fill):
                    self.state = self.ops.write_word(self.state, (pos + HDR_SZ) & self.mask, step.value)
                elif isinstance(step, Submit):
                    self.state = self.ops.submit(self.state, pos)
                else:
                    self.state = self.ops.discard(self.state, pos)
        elif isinstance(step, SetProducerPos):
            value = resolve(step.base, step.delta, self.state.producer_pos, self.state.consumer_pos)
            self.state = self.ops.write_producer_pos(self.state, value)
        elif isinstance(step, WriteWord):
            offset = resolve(step.base, step.delta, self.state.producer_pos, self.state.consumer_pos) & self.mask
            self.state = self.ops.write_word(self.state, offset, step.value)
        elif isinstance(step, Drain):
            self.state, result = self.ops.drain(self.state, step.flags, step.returns)
            self.expect(f"{label} -> return value", result.ret, ("ret", index))
            self.expect(f"{label} -> samples (length, first word)",
                        [sample_view(length, self.word(pos + HDR_SZ)) for pos, length in result.samples],
                        ("samples", index))
        self.states.append(self.state)
        self.expect(f"after step {index}: producer_pos", self.state.producer_pos, ("producer_pos", index))
        self.expect(f"after step {index}: consumer_pos", self.state.consumer_pos, ("consumer_pos", index))


def predict(scenario: Scenario, config: Config | None = None) -> Prediction:
    """The model's expectations for ``scenario``, in scenario order (ValueError for a bad scenario)."""
    check_scenario(scenario)
    cfg = config if config is not None else model_config(scenario)
    walk = _Walk(cfg)
    for index, step in enumerate(scenario):
        walk.step(index, step)
    walk.expect("at the end: the data area's words (low 32 bits)",
                tuple(read_len(word) for word in walk.state.slots), ("data",))
    return Prediction(cfg, walk.expects, walk.states)

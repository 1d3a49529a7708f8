"""Run a user ring scenario on the live kernel and write down what it showed.

Every observation is keyed by a locator that ``checker.kernel.user.predict``
uses for the model's expectation of the same thing:

- ``("reserve", i)``: (header position or None, errno) of the Reserve at step i
  (a granted sample's payload is then written with zeros, the application's
  write, so that what the model reads there is what the kernel reads);
- ``("ret", i)``: the return value of the Drain at step i;
- ``("samples", i)``: what its callback saw, (length, first payload word) per sample;
- ``("producer_pos", i)``, ``("consumer_pos", i)``: the positions after step i;
- ``("data",)``: every data word at the end (the kernel never writes the data
  area of a user ring, so the model must hold exactly what user space wrote).
"""

from __future__ import annotations

from checker.kernel.user.drain import DrainRecorder
from checker.kernel.user.producer import PRODUCERS
from checker.kernel.user.scenario import (USER_RING_SIZE, Discard, Drain, Fill, Reserve, Scenario, SetProducerPos,
                                          Submit, WriteWord, check_scenario, resolve)
from checker.kernel.user.usermap import UserRingMap

Observation = dict[tuple, object]


def _run_step(step, index: int, ring: UserRingMap, producer, drain, seen: Observation, granted: list[bool]) -> None:
    if isinstance(step, Reserve):
        position, err = producer.reserve(step.size)
        granted.append(position is not None)
        if position is not None:
            producer.clear(len(granted) - 1, step.size)
        seen[("reserve", index)] = (position, err)
    elif isinstance(step, (Fill, Submit, Discard)):
        if granted[step.slot]:
            if isinstance(step, Fill):
                producer.fill(step.slot, step.value)
            elif isinstance(step, Submit):
                producer.submit(step.slot)
            else:
                producer.discard(step.slot)
    elif isinstance(step, SetProducerPos):
        ring.producer_pos = resolve(step.base, step.delta, ring.producer_pos, ring.consumer_pos)
    elif isinstance(step, WriteWord):
        ring.write_word(resolve(step.base, step.delta, ring.producer_pos, ring.consumer_pos), step.value)
    elif isinstance(step, Drain):
        result = drain.run(step.flags, step.returns)
        seen[("ret", index)] = result.ret
        seen[("samples", index)] = list(result.samples)


class UserRingRunner:
    """Runs scenarios on the kernel, each on a fresh user ring; keeps the drain's record maps between them."""

    def __init__(self, producer: str = "python", ring_size: int = USER_RING_SIZE) -> None:
        if producer not in PRODUCERS:
            raise ValueError(f"producer {producer!r} is not one of {', '.join(PRODUCERS)}")
        self.producer = producer
        self.ring_size = ring_size
        self.recorder = DrainRecorder()

    def observe(self, scenario: Scenario) -> Observation:
        """Run ``scenario`` on a fresh ring and return what the kernel showed (BpfUnavailable without bpf())."""
        check_scenario(scenario)
        seen: Observation = {}
        granted: list[bool] = []
        with UserRingMap(self.ring_size) as ring, self.recorder.program(ring) as drain:
            producer = PRODUCERS[self.producer](ring)
            try:
                for index, step in enumerate(scenario):
                    _run_step(step, index, ring, producer, drain, seen, granted)
                    seen[("producer_pos", index)] = ring.producer_pos
                    seen[("consumer_pos", index)] = ring.consumer_pos
                seen[("data",)] = ring.words()
            finally:
                producer.close()
        return seen

    def close(self) -> None:
        self.recorder.close()

    def __enter__(self) -> UserRingRunner:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def observe_kernel(scenario: Scenario, producer: str = "python", ring_size: int = USER_RING_SIZE) -> Observation:
    """Run one scenario on the kernel with a runner of its own."""
    with UserRingRunner(producer, ring_size) as runner:
        return runner.observe(scenario)

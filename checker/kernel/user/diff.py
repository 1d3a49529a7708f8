"""Differential check of the user ring buffer: a scenario on the live kernel against the model.

``predict`` says what ``UserRingOperations`` expects at each locator;
``UserRingRunner.observe`` runs the scenario on a fresh kernel ring; the walk
below compares them in scenario order and reports the first difference as a
``UserDisagreement`` (the expectation, what the kernel showed, and the
model's positions after every step up to it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.kernel.user.predict import LOW32, Expect, Prediction, predict, sample_view
from checker.kernel.user.run import Observation, UserRingRunner
from checker.kernel.user.scenario import Drain, Scenario, scenario_str
from model.config import Config


def kernel_view(where: tuple, observed: object) -> object:
    """The kernel's value in the form the model predicts it (samples and data words as in ``predict``)."""
    if where[0] == "samples":
        return [sample_view(length, word) for length, word in observed]  # type: ignore[union-attr]
    if where[0] == "data":
        return tuple(word & LOW32 for word in observed)  # type: ignore[union-attr]
    return observed


def show(value: object) -> str:
    """A predicted or observed value for people."""
    if isinstance(value, tuple) and len(value) == 2 and (value[0] is None or isinstance(value[0], int)) \
            and isinstance(value[1], int):
        pos, err = value
        return "NULL errno " + str(err) if pos is None else f"position {pos:#x}"
    if isinstance(value, list):
        return "[" + ", ".join(f"len {length:#x} word {word:#x}" for length, word in value) + "]"
    if isinstance(value, tuple):
        return f"{len(value)} words"
    if isinstance(value, int):
        return f"{value:#x}" if value >= 0 else str(value)
    return repr(value)


def _first_difference(expected: tuple, observed: tuple) -> str:
    for index, (e, o) in enumerate(zip(expected, observed)):
        if e != o:
            return f"word {index} (offset {8 * index:#x}): model {e:#x}, kernel {o:#x}"
    return "lengths differ"


@dataclass
class UserDisagreement:
    """The first place where the kernel and the user ring model differ."""

    scenario: tuple
    expect: Expect
    observed: object
    positions: list[tuple[int, int]]
    """The model's (producer_pos, consumer_pos) after each step up to the disagreement."""

    def headline(self) -> str:
        if self.expect.where[0] == "data":
            detail = _first_difference(self.expect.value, self.observed)  # type: ignore[arg-type]
            return f"{self.expect.label}: {detail}"
        return f"{self.expect.label}: model expects {show(self.expect.value)}, kernel gave {show(self.observed)}"

    def format(self) -> str:
        lines = ["scenario:", *("  " + line for line in scenario_str(self.scenario).splitlines()),
                 "model positions after each step (producer_pos, consumer_pos):",
                 *(f"  {i}: {prod:#x}, {cons:#x}" for i, (prod, cons) in enumerate(self.positions)),
                 f"disagreement: {self.headline()}"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"scenario": [str(step) for step in self.scenario], "where": self.expect.label,
                "expected": show(self.expect.value), "observed": show(self.observed),
                "headline": self.headline()}


ERRNO_NAMES = {-22: "EINVAL", -7: "E2BIG", -16: "EBUSY"}
LIMIT_SEEN = 100_000  # callbacks in one drain: only the sample limit stops a drain this late on a 4 KiB ring


def outcome_kinds(scenario: tuple, seen: Observation) -> set[str]:
    """What the scenario's drains and reservations did on the kernel, by name (for a coverage line)."""
    names: set[str] = set()
    for where, value in seen.items():
        if where[0] == "ret":
            drain = scenario[where[1]]
            names.add(ERRNO_NAMES.get(value, f"error {value}") if value < 0 else "samples" if value else "no sample")
            delivered = seen[("samples", where[1])]
            if len(delivered) >= LIMIT_SEEN:
                names.add("sample limit")
            if isinstance(drain, Drain) and 1 in drain.returns[:len(delivered)]:
                names.add("callback stopped")
        elif where[0] == "reserve":
            names.add("reserve granted" if value[0] is not None else f"reserve errno {value[1]}")
    return names


@dataclass
class UserDiffResult:
    compared: int
    disagreement: UserDisagreement | None = None
    kinds: set[str] = field(default_factory=set)

    @property
    def agrees(self) -> bool:
        return self.disagreement is None


def compare(scenario: tuple, prediction: Prediction, seen: Observation) -> UserDiffResult:
    """Walk the expectations in order; stop at the first the kernel does not meet."""
    for count, expect in enumerate(prediction.expects, 1):
        observed = kernel_view(expect.where, seen[expect.where])
        if observed != expect.value:
            steps = expect.where[1] + 1 if isinstance(expect.where[-1], int) and len(expect.where) > 1 \
                else len(prediction.states)
            positions = [(s.producer_pos, s.consumer_pos) for s in prediction.states[:steps]]
            return UserDiffResult(count, UserDisagreement(scenario, expect, observed, positions))
    return UserDiffResult(len(prediction.expects), kinds=outcome_kinds(scenario, seen))


def diff_scenario(scenario: Scenario, runner: UserRingRunner, config: Config | None = None) -> UserDiffResult:
    """Predict ``scenario``, run it on the kernel with ``runner``, compare (``config`` plants another model)."""
    scenario = tuple(scenario)
    prediction = predict(scenario, config)
    return compare(scenario, prediction, runner.observe(scenario))

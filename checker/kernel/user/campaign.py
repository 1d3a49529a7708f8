"""Many user ring scenarios against the kernel: hypothesis generates them and shrinks a disagreement.

The shape of ``checker.kernel.campaign`` (seeded, stops at the first
disagreement and shrinks it, Ctrl-C and SIGTERM end it between scenarios),
with one ``UserRingRunner`` kept for the whole run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import hypothesis.errors
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from checker.interrupt import Interrupted, deferred, raise_at_safe_point, requested
from checker.kernel.user.diff import UserDiffResult, UserDisagreement, diff_scenario
from checker.kernel.user.run import UserRingRunner
from checker.kernel.user.strategies import scenarios


class _Disagreed(Exception):
    def __init__(self, result: UserDiffResult) -> None:
        super().__init__(result.disagreement.headline() if result.disagreement else "disagreement")
        self.result = result


@dataclass
class UserCampaignResult:
    """The summary ``ringcheck kernel diff --map user`` prints."""

    producer: str
    seed: int
    scripts: int = 0
    compared: int = 0
    disagreements: int = 0
    shrink_runs: int = 0
    seconds: float = 0.0
    minimal: UserDisagreement | None = None
    interrupted: str | None = None
    shrunk: bool = True
    kinds: dict[str, int] = field(default_factory=dict)
    """How many agreeing scenarios reached each outcome (``diff.outcome_kinds``), to show what was covered."""

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else 0 if self.disagreements == 0 else 1

    @property
    def verdict(self) -> str:
        return "interrupted" if self.interrupted else "disagrees" if self.disagreements else "agrees"

    def summary(self) -> str:
        line = (f"kernel diff (map user, {self.producer} producer, seed {self.seed}): {self.scripts} scripts run, "
                f"{self.compared} predictions compared, {self.disagreements} disagreements, {self.seconds:.1f} s")
        if self.shrink_runs:
            line += f" (+{self.shrink_runs} runs while shrinking)"
        if self.interrupted:
            line += f"; interrupted by {self.interrupted}" + ("" if self.shrunk else " while shrinking")
        return line

    def coverage(self) -> str:
        """One line: how many scenarios saw each drain outcome."""
        return "drain outcomes: " + ", ".join(f"{name} {count}" for name, count in sorted(self.kinds.items()))

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "interrupted": self.interrupted, "shrunk": self.shrunk, "map": "user",
                "producer": self.producer, "seed": self.seed, "scripts": self.scripts,
                "predictions_compared": self.compared, "disagreements": self.disagreements,
                "shrink_runs": self.shrink_runs, "seconds": round(self.seconds, 3),
                "drain_outcomes": dict(sorted(self.kinds.items())),
                "disagreement": self.minimal.to_dict() if self.minimal else None}


def run_user_campaign(scripts: int, seed_value: int, producer: str = "python",
                      strategy: st.SearchStrategy | None = None, config_for=None,
                      progress: Callable[[UserCampaignResult], None] | None = None) -> UserCampaignResult:
    """Generate ``scripts`` scenarios (seeded), diff each against the kernel, shrink the first disagreement.

    ``config_for(scenario)`` replaces the model configuration (a test plants
    a wrong model this way); ``strategy`` replaces ``scenarios()``.
    """
    result = UserCampaignResult(producer, seed_value)
    shrinking = [False]
    first: list[UserDiffResult] = []

    with UserRingRunner(producer) as runner:
        @seed(seed_value)
        @settings(max_examples=scripts, database=None, deadline=None, phases=(Phase.generate, Phase.shrink),
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False, verbosity=Verbosity.quiet,
                  print_blob=False)
        @given(strategy if strategy is not None else scenarios())
        def check_one(scenario: tuple) -> None:
            raise_at_safe_point()
            run = diff_scenario(scenario, runner, config_for(scenario) if config_for else None)
            if shrinking[0]:
                result.shrink_runs += 1
            else:
                result.scripts += 1
                result.compared += run.compared
                if run.agrees:
                    for name in run.kinds:
                        result.kinds[name] = result.kinds.get(name, 0) + 1
            if progress is not None:
                progress(result)
            if not run.agrees:
                if not shrinking[0]:
                    result.disagreements, shrinking[0] = 1, True
                    first.append(run)
                raise _Disagreed(run)

        started = time.monotonic()
        try:
            with deferred():
                check_one()
        except _Disagreed as found:
            result.minimal = found.result.disagreement
        except Interrupted as stop:
            result.interrupted = stop.signal_name
            if first:
                result.minimal, result.shrunk = first[0].disagreement, False
        except hypothesis.errors.HypothesisException:
            if requested() is None:
                raise
            result.interrupted = requested()
            if first:
                result.minimal, result.shrunk = first[0].disagreement, False
        result.seconds = time.monotonic() - started
    return result

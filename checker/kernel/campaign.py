"""Many scenarios against the kernel: hypothesis generates them and shrinks a disagreement.

``run_campaign`` is what ``ringcheck kernel diff`` runs.  Hypothesis drives the
generation with a fixed seed (the same ``--seed`` gives the same scenarios on
the same kernel), stops at the first disagreement and shrinks it to a minimal
scenario, which is reported with the model's trace.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from checker.kernel.diff import DiffResult, Disagreement, diff_scenario
from checker.kernel.strategies import scenarios


class _Disagreed(Exception):
    """Raised inside the hypothesis test so that hypothesis shrinks the scenario."""

    def __init__(self, result: DiffResult) -> None:
        super().__init__(result.disagreement.headline() if result.disagreement else "disagreement")
        self.result = result


@dataclass
class CampaignResult:
    """The summary ``ringcheck kernel diff`` prints."""

    variant: str
    consumer: str
    seed: int
    scripts: int = 0
    """Scenarios generated and run (before any shrinking)."""
    compared: int = 0
    """Predictions compared with the kernel in those scenarios."""
    disagreements: int = 0
    """Generated scenarios that disagreed: 0 or 1, since hypothesis stops at the first to shrink it."""
    shrink_runs: int = 0
    seconds: float = 0.0
    minimal: Disagreement | None = None
    """The disagreement after shrinking."""

    @property
    def exit_code(self) -> int:
        return 0 if self.disagreements == 0 else 1

    def summary(self) -> str:
        line = (f"kernel diff (model {self.variant}, {self.consumer} consumer, seed {self.seed}): "
                f"{self.scripts} scripts run, {self.compared} operations compared, "
                f"{self.disagreements} disagreements, {self.seconds:.1f} s")
        if self.shrink_runs:
            line += f" (+{self.shrink_runs} runs while shrinking)"
        return line

    def to_dict(self) -> dict:
        return {
            "variant": self.variant,
            "consumer": self.consumer,
            "seed": self.seed,
            "scripts": self.scripts,
            "operations_compared": self.compared,
            "disagreements": self.disagreements,
            "shrink_runs": self.shrink_runs,
            "seconds": round(self.seconds, 3),
            "disagreement": self.minimal.to_dict() if self.minimal else None,
        }


def run_campaign(scripts: int, seed_value: int, variant: str, consumer: str = "python",
                 strategy: st.SearchStrategy | None = None) -> CampaignResult:
    """Generate ``scripts`` scenarios (seeded), diff each against the kernel, shrink the first disagreement.

    ``variant`` is the model the kernel is compared with (normally the probed
    one; a test plants a wrong one); ``strategy`` replaces ``scenarios()``.
    """
    result = CampaignResult(variant, consumer, seed_value)
    shrinking = [False]

    @seed(seed_value)
    @settings(max_examples=scripts, database=None, deadline=None, phases=(Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False, verbosity=Verbosity.quiet,
              print_blob=False)
    @given(strategy if strategy is not None else scenarios())
    def check_one(scenario: tuple) -> None:
        run = diff_scenario(scenario, variant, consumer)
        if shrinking[0]:
            result.shrink_runs += 1
        else:
            result.scripts += 1
            result.compared += run.compared
        if not run.agrees:
            if not shrinking[0]:
                result.disagreements, shrinking[0] = 1, True
            raise _Disagreed(run)

    started = time.monotonic()
    try:
        check_one()
    except _Disagreed as found:
        result.minimal = found.result.disagreement
    result.seconds = time.monotonic() - started
    return result


"""Many scenarios against the kernel: hypothesis generates them and shrinks a disagreement.

``run_campaign`` is what ``ringcheck kernel diff`` runs.  Hypothesis drives the
generation with a fixed seed (the same ``--seed`` gives the same scenarios on
the same kernel), stops at the first disagreement and shrinks it to a minimal
scenario, which is reported with the model's trace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import hypothesis.errors
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from checker.interrupt import Interrupted, deferred, raise_at_safe_point, requested
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
    """The disagreement after shrinking (or as found, when the run was interrupted while shrinking)."""
    interrupted: str | None = None
    """The signal (Ctrl-C: ``SIGINT``, ``SIGTERM``) that ended the run early; the counts are of the scripts
    run before it."""
    shrunk: bool = True
    """False when ``minimal`` is the disagreement as found, the shrinking cut short by the signal."""

    @property
    def exit_code(self) -> int:
        """0 no disagreement, 1 one, 130 interrupted (with whatever was found before)."""
        return 130 if self.interrupted else 0 if self.disagreements == 0 else 1

    @property
    def verdict(self) -> str:
        """``interrupted``, ``disagrees`` or ``agrees``."""
        return "interrupted" if self.interrupted else "disagrees" if self.disagreements else "agrees"

    def summary(self) -> str:
        line = (f"kernel diff (model {self.variant}, {self.consumer} consumer, seed {self.seed}): "
                f"{self.scripts} scripts run, {self.compared} operations compared, "
                f"{self.disagreements} disagreements, {self.seconds:.1f} s")
        if self.shrink_runs:
            line += f" (+{self.shrink_runs} runs while shrinking)"
        if self.interrupted:
            line += f"; interrupted by {self.interrupted}" + ("" if self.shrunk else " while shrinking")
        return line

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "interrupted": self.interrupted,
            "shrunk": self.shrunk,
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
                 strategy: st.SearchStrategy | None = None,
                 progress: Callable[[CampaignResult], None] | None = None) -> CampaignResult:
    """Generate ``scripts`` scenarios (seeded), diff each against the kernel, shrink the first disagreement.

    ``variant`` is the model the kernel is compared with (normally the probed
    one; a test plants a wrong one); ``strategy`` replaces ``scenarios()``;
    ``progress`` gets the running result after each scenario. On Ctrl-C or
    SIGTERM (``checker.interrupt``) the result counts what ran before and
    keeps a disagreement already found (unshrunk if shrinking was cut short).
    """
    result = CampaignResult(variant, consumer, seed_value)
    shrinking = [False]
    first: list[DiffResult] = []

    @seed(seed_value)
    @settings(max_examples=scripts, database=None, deadline=None, phases=(Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False, verbosity=Verbosity.quiet,
              print_blob=False)
    @given(strategy if strategy is not None else scenarios())
    def check_one(scenario: tuple) -> None:
        raise_at_safe_point()
        run = diff_scenario(scenario, variant, consumer)
        if shrinking[0]:
            result.shrink_runs += 1
        else:
            result.scripts += 1
            result.compared += run.compared
        if progress is not None:
            progress(result)
        if not run.agrees:
            if not shrinking[0]:
                result.disagreements, shrinking[0] = 1, True
                first.append(run)
            raise _Disagreed(run)

    started = time.monotonic()
    try:
        with deferred():  # a signal is only recorded while hypothesis runs; check_one raises it between scenarios
            check_one()
    except _Disagreed as found:
        result.minimal = found.result.disagreement
    except Interrupted as stop:
        result.interrupted = stop.signal_name
        if first:
            result.minimal, result.shrunk = first[0].disagreement, False
    except hypothesis.errors.HypothesisException:
        # A signal that lands inside hypothesis's own data generation can surface as its complaint that
        # generation was not repeatable (FlakyStrategyDefinition): with a signal pending, that is the interrupt.
        if requested() is None:
            raise
        result.interrupted = requested()
        if first:
            result.minimal, result.shrunk = first[0].disagreement, False
    result.seconds = time.monotonic() - started
    return result


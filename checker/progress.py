"""Progress on stderr for runs longer than a second, drawn by tqdm.

One bar per run: what it counts (states, record cases of a proof, states
cross-checked, model states of a lockstep walk, kernel scenarios), how far,
and a short note. It appears only after a second (tqdm's ``delay``), goes to
stderr only, never to stdout, and is off when stderr is not a terminal unless
``--progress`` asks for it (a log file or a CI job gets no carriage-return
noise by default). ``--no-progress`` turns it off on a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

DELAY_S = 1.0
"""A run shorter than this shows no bar at all."""

progress_option = click.option(
    "--progress/--no-progress", "progress", default=None,
    help="Show progress on stderr (default: only when stderr is a terminal).")


def wanted(asked: bool | None) -> bool:
    """Whether to draw: as asked, else only when stderr is a terminal."""
    if asked is not None:
        return asked
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Bar:
    """A tqdm bar on stderr (or nothing, when not ``wanted``) with a count, a total that may grow, and a note."""

    def __init__(self, what: str, total: int | None = None, enabled: bool | None = None, unit: str = "it") -> None:
        self._bar = None
        if wanted(enabled):
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=what, unit=unit, file=sys.stderr, delay=DELAY_S, leave=False,
                             dynamic_ncols=True, mininterval=0.25)

    @property
    def shown(self) -> bool:
        """Whether a bar is drawn (or will be, after the delay)."""
        return self._bar is not None

    def grow(self, n: int) -> None:
        """``n`` more to do."""
        if self._bar is not None:
            self._bar.total = (self._bar.total or 0) + n  # drawn at the next step (refresh() ignores the delay)

    def step(self, n: int = 1) -> None:
        """``n`` more done."""
        if self._bar is not None:
            self._bar.update(n)

    def to(self, done: int) -> None:
        """The count is now ``done``."""
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def note(self, text: str) -> None:
        """A short note after the count (what is being done)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.update(0)  # drawn now if the delay and tqdm's interval have passed

    def echo(self, line: str) -> None:
        """A line of the run's own output on stdout, printed so that the bar stays intact below it."""
        if self._bar is not None and self._bar.format_dict["elapsed"] >= DELAY_S:
            from tqdm import tqdm

            tqdm.write(line, file=sys.stdout)  # clears the bar, prints, draws it again
        else:
            click.echo(line)  # no bar yet (tqdm.write would draw it before its delay)

    def close(self) -> None:
        """Remove the bar (before the result is printed)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def search_progress(bar: Bar) -> Callable[[object], None]:
    """A ``checker.search.Progress`` callback that moves ``bar`` to the search's statistics."""

    def show(stats) -> None:  # checker.verdict.Stats
        bar.to(stats.states)
        bar.note(f"{stats.transitions:,} transitions, depth {stats.depth}")

    return show

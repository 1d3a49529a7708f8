"""Pieces every ringcheck subcommand shares: one-line errors, safe file writing,
verdict printing and progress. Subcommand modules import from here, so the
top-level ``checker.cli`` can import them without a cycle."""

from __future__ import annotations

import json
from pathlib import Path

import click

from checker.search import SearchError
from checker.trace import TraceError
from checker.verdict import Stats, Verdict
from model.config import ConfigError
from specs import UnknownProperty

EXIT_ERROR = 2
USER_ERRORS = (ConfigError, SearchError, TraceError, UnknownProperty)


class UserError(click.ClickException):
    """A one-line error for the user; exit code 2."""

    exit_code = EXIT_ERROR


def progress_printer(stats: Stats) -> None:
    """Progress on stderr, for runs longer than a second."""
    click.echo(f"  ... {stats.states} states, {stats.transitions} transitions, depth {stats.depth}, "
               f"{stats.seconds:.0f}s, {stats.states_per_second:,.0f} states/s", err=True)


def write_new_file(path: str, text: str, force: bool = False) -> None:
    """Write ``text`` to ``path``, refusing to overwrite an existing file unless ``force``."""
    p = Path(path)
    if p.exists() and not force:
        raise UserError(f"{path} exists; choose another name or pass --force to overwrite it")
    try:
        p.write_text(text)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror}") from None


def parse_position(text: str) -> int:
    """A 64-bit position from decimal or 0x-hex text, multiple of 8."""
    try:
        v = int(text, 0)
    except ValueError:
        raise UserError(f"start: {text!r} is not an integer") from None
    if not 0 <= v < 2**64 or v % 8:
        raise UserError(f"start: {text} must be a multiple of 8 in [0, 2**64)")
    return v


def emit_verdict(v: Verdict, as_json: bool) -> None:
    """Print a verdict as text (with its trace) or as one JSON object."""
    if as_json:
        click.echo(json.dumps(v.to_dict(), indent=1))
        return
    click.echo(f"config:   {v.config.describe()}")
    click.echo(f"strategy: {v.strategy} (engine {v.engine}); properties: {', '.join(v.properties)}")
    s = v.stats
    per_state = "" if s.bytes_per_state is None else f", {s.bytes_per_state:.0f} bytes/state"
    click.echo(f"stats:    {s.states} states, {s.transitions} transitions, depth {s.depth}, "
               f"{s.terminal} terminal, {s.seconds:.2f}s, {s.states_per_second:,.0f} states/s, "
               f"peak {s.peak_mb:.0f} MB{per_state}")
    for note in v.notes:
        click.echo(f"note:     {note}")
    click.echo(f"verdict:  {v.headline()}")
    if v.trace is not None:
        click.echo(f"trace ({len(v.trace)} steps):")
        click.echo(v.trace.format().split("\n", 1)[1])

"""Pieces every ringcheck subcommand shares: one-line errors, safe file writing,
verdict printing and progress. Subcommand modules import from here, so the
top-level ``checker.cli`` can import them without a cycle."""

from __future__ import annotations

import json
import os
import tempfile
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


class OutputError(UserError):
    """An output file cannot be written (one line naming it)."""


def check_output_path(path: str, force: bool = False) -> None:
    """Refuse an output path before any work: a missing or non-folder parent, a folder, a symlink
    (dangling or not) or, without ``force``, a file that exists. `write_new_file` checks again when
    it writes, since the check and the write are apart in time."""
    p = Path(path)
    parent = p.parent
    if not parent.exists():
        raise OutputError(f"cannot write {path}: folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: folder {parent} is not writable")
    if p.is_symlink():
        raise OutputError(f"{path} is a symbolic link{' to nothing' if not p.exists() else ''}; "
                          "ringcheck does not write through links, choose another name")
    if p.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    if p.exists() and not force:
        raise OutputError(f"{path} exists; choose another name or pass --force to overwrite it")


def write_new_file(path: str, text: str, force: bool = False) -> None:
    """Write ``text`` to ``path`` as a new file, created at this moment.

    The text goes to a temporary file in the same folder, which is then
    hard-linked to ``path``: the link fails if anything (a file, a symlink,
    dangling or not) appeared at ``path`` meanwhile, so nothing is replaced
    and no link is followed. With ``force`` an existing regular file is
    replaced atomically (a symlink is still refused). Where hard links are
    not supported, the file is created with O_CREAT|O_EXCL|O_NOFOLLOW.
    """
    p = Path(path)
    if p.is_symlink():
        raise OutputError(f"{path} is a symbolic link; ringcheck does not write through links, "
                          "choose another name")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=str(p.parent))
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror}") from None
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)  # as an ordinary new file, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if force:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise OutputError(f"{path} appeared while ringcheck was running; not replaced "
                              "(choose another name or pass --force)") from None
        except OSError:  # no hard links on this file system
            _write_exclusive(path, text)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror}") from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _write_exclusive(path: str, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except FileExistsError:
        raise OutputError(f"{path} appeared while ringcheck was running; not replaced "
                          "(choose another name or pass --force)") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def write_output_keeping_verdict(path: str, text: str, force: bool, what: str) -> bool:
    """Write a by-product of a verdict (a trace, a divergence); on failure say so on stderr and
    return False, so the caller keeps the verdict's exit code."""
    try:
        write_new_file(path, text, force)
    except OutputError as e:
        click.echo(f"ringcheck: error: {what} not written: {e.format_message()} "
                   "(the verdict above stands)", err=True)
        return False
    click.echo(f"{what} written to {path}", err=True)
    return True


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
    click.echo(f"strategy: {v.strategy}; properties: {', '.join(v.properties)}")
    s = v.stats
    click.echo(f"stats:    {s.states} states, {s.transitions} transitions, depth {s.depth}, "
               f"{s.terminal} terminal, {s.seconds:.2f}s, {s.states_per_second:,.0f} states/s, "
               f"peak {s.peak_mb:.0f} MB")
    click.echo(f"verdict:  {v.headline()}")
    if v.trace is not None:
        click.echo(f"trace ({len(v.trace)} steps):")
        click.echo(v.trace.format().split("\n", 1)[1])

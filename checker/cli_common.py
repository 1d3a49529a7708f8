"""Pieces every ringcheck subcommand shares: one-line errors, safe file writing,
verdict printing and progress. Subcommand modules import from here, so the
top-level ``checker.cli`` can import them without a cycle."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

import click

from checker.search import SearchError
from checker.trace import TraceError
from checker.verdict import Stats, Verdict
from model.config import ConfigError
from specs import UnknownProperty

EXIT_ERROR = 2
USER_ERRORS = (ConfigError, SearchError, TraceError, UnknownProperty)


MAX_ERROR_CHARS = 300
"""An error line is cut to this many characters: a message must never carry a whole input back."""


def one_line(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` with its line breaks and runs of spaces collapsed, cut to ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit - 3] + "..."


def usage_error_line(e: click.ClickException) -> str:
    """A click error as one line: a group called without a command names its commands instead of
    printing its whole usage; other usage errors point at the command's --help."""
    ctx = getattr(e, "ctx", None)
    if isinstance(e, click.exceptions.NoArgsIsHelpError) and ctx is not None \
            and isinstance(ctx.command, click.Group):
        names = ", ".join(ctx.command.list_commands(ctx))
        return f"{ctx.command_path}: missing command; one of: {names} (see {ctx.command_path} --help)"
    text = one_line(e.format_message())
    if isinstance(e, click.UsageError) and ctx is not None:
        text = one_line(f"{text} (see {ctx.command_path} --help)")
    return text


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


@contextlib.contextmanager
def hypothesis_home_in_temp() -> Iterator[None]:
    """Hypothesis keeps a cache (``.hypothesis/``) in the current folder even with ``database=None``;
    a command that uses it (kernel diff, stateful conform) points it at a temporary folder instead,
    removed afterwards, so running ringcheck leaves nothing where it was run."""
    import hypothesis.configuration as hc

    before = getattr(hc, "__hypothesis_home_directory", None)  # None: hypothesis's default, ./.hypothesis
    with tempfile.TemporaryDirectory(prefix="ringcheck-hypothesis-") as home:
        hc.set_hypothesis_home_dir(home)
        try:
            yield
        finally:
            hc.set_hypothesis_home_dir(before)


def parse_position(text: str) -> int:
    """A 64-bit position from decimal or 0x-hex text, multiple of 8."""
    try:
        v = int(text, 0)
    except ValueError:
        raise UserError(f"start: {text!r} is not an integer") from None
    if not 0 <= v < 2**64 or v % 8:
        raise UserError(f"start: {text} must be a multiple of 8 in [0, 2**64)")
    return v


def with_version(d: dict) -> dict:
    """A ``--json`` object with the ringcheck release that made it (``ringcheck_version``)."""
    from checker import __version__

    return {**d, "ringcheck_version": __version__}


def emit_verdict(v: Verdict, as_json: bool, seed: int | None = None) -> None:
    """Print a verdict as text (with its trace) or as one JSON object.

    ``seed`` (a random search's) is printed with a violation, so that the
    trace can be found again with ``--seed``; it is always in the JSON.
    """
    if as_json:
        d = with_version(v.to_dict())
        if seed is not None:
            d["seed"] = seed
        click.echo(json.dumps(d, indent=1))
        return
    click.echo(f"config:   {v.config.describe()}")
    threads = f", {v.threads} threads" if v.threads > 1 else ""
    threads += f", {v.store} store" if v.store != "flat" else ""
    click.echo(f"strategy: {v.strategy} (engine {v.engine}{threads}); properties: {', '.join(v.properties)}")
    s = v.stats
    per_state = "" if s.bytes_per_state is None else f", {s.bytes_per_state:.0f} bytes/state"
    click.echo(f"stats:    {s.states} states, {s.transitions} transitions, depth {s.depth}, "
               f"{s.terminal} terminal, {s.seconds:.2f}s, {s.states_per_second:,.0f} states/s, "
               f"peak {s.peak_mb:.0f} MB{per_state}")
    for note in v.notes:
        click.echo(f"note:     {note}")
    click.echo(f"verdict:  {v.headline()}")
    if seed is not None and v.trace is not None:
        click.echo(f"seed:     {seed} (the same --seed finds this trace again)")
    if v.trace is not None:
        click.echo(f"trace ({len(v.trace)} steps):")
        click.echo(v.trace.format().split("\n", 1)[1])

"""The ``ringcheck`` command line: a thin layer over ``checker.run`` and friends.

Exit codes everywhere: 0 holds (complete), 1 violated, 2 bad input or
internal error, 3 holds up to a bound. Errors are one line on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from checker.cli_options import config_from_options, config_options
from checker.run import STRATEGIES, check
from checker.search import Limits, SearchError
from checker.suite import default_suite
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
    click.echo(f"strategy: {v.strategy}; properties: {', '.join(v.properties)}")
    s = v.stats
    click.echo(f"stats:    {s.states} states, {s.transitions} transitions, depth {s.depth}, "
               f"{s.terminal} terminal, {s.seconds:.2f}s, {s.states_per_second:,.0f} states/s, "
               f"peak {s.peak_mb:.0f} MB")
    click.echo(f"verdict:  {v.headline()}")
    if v.trace is not None:
        click.echo(f"trace ({len(v.trace)} steps):")
        click.echo(v.trace.format().split("\n", 1)[1])


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """ringcheck: model-check the Linux BPF ring buffer.

    With no command, run the default suite (three variants, honest and
    adversarial consumers, small configurations) and print a table.
    """
    if ctx.invoked_subcommand is None:
        ctx.exit(run_suite())


def run_suite() -> int:
    """The default suite as a table; exit 0 when every verdict is the expected one."""
    rows = []
    surprises = 0
    click.echo(f"{'case':32} {'configuration':58} {'verdict':34} {'states':>9} {'time':>7}")
    for case in default_suite():
        v = check(case.config)
        got = "holds" if v.kind == "holds" else (v.property or v.kind)
        ok = got == case.expect
        surprises += not ok
        verdict = v.headline() if v.kind != "violated" else f"violated: {v.property} ({len(v.trace)} steps)"
        rows.append((case.name, case.config.describe(), verdict, v.stats.states, v.stats.seconds))
        click.echo(f"{case.name:32} {case.config.describe():58} {verdict:34} {v.stats.states:>9} "
                   f"{v.stats.seconds:>6.2f}s" + ("" if ok else f"   UNEXPECTED (expected {case.expect})"))
    click.echo(f"{len(rows)} cases, {surprises} unexpected")
    return 0 if surprises == 0 else 1


@main.command("check")
@config_options
@click.option("--property", "properties", multiple=True, help="Check only this property (repeatable).")
@click.option("--strategy", default="bfs", show_default=True, help=f"Search: {', '.join(STRATEGIES)}.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for --strategy random.")
@click.option("--max-states", type=int, help="Stop after this many distinct states.")
@click.option("--max-depth", type=int, help="Do not go deeper than this many steps.")
@click.option("--timeout", type=float, help="Stop after this many seconds.")
@click.option("--symmetry", is_flag=True,
              help="Reduce by producer symmetry (BFS only; traces are mapped back to real ones).")
@click.option("--start", default="0", show_default=True,
              help="Initial value of every position (e.g. 0xffffffffffffffe0 to cross the 64-bit wrap).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--trace-out", help="Write the counterexample trace (JSON) to this file.")
@click.option("--force", is_flag=True, help="Overwrite --trace-out if it exists.")
def check_cmd(**kw: object) -> None:
    """Explore the state space of one configuration and give a verdict."""
    cfg = config_from_options(kw)
    limits = Limits(kw["max_states"], kw["max_depth"], kw["timeout"])
    if kw["trace_out"] and Path(str(kw["trace_out"])).exists() and not kw["force"]:
        raise UserError(f"{kw['trace_out']} exists; choose another name or pass --force to overwrite it")
    v = check(cfg, list(kw["properties"]) or None, str(kw["strategy"]), limits, int(kw["seed"]),
              progress_printer, parse_position(str(kw["start"])), bool(kw["symmetry"]))
    emit_verdict(v, bool(kw["as_json"]))
    if kw["trace_out"] and v.trace is not None:
        write_new_file(str(kw["trace_out"]), json.dumps(v.trace.to_dict(), indent=1) + "\n", True)
        click.echo(f"trace written to {kw['trace_out']}", err=True)
    sys.exit(v.exit_code)


# Subcommands from other modules register themselves below, one line each.
from checker.graphs.cli import report_cmd, states_cmd, trace_cmd; main.add_command(trace_cmd); main.add_command(states_cmd); main.add_command(report_cmd)  # noqa: E402,E702
from checker.kernel.cli import kernel_group; main.add_command(kernel_group)  # noqa: E402,E702
from checker.conformance.cli import conform_cmd; main.add_command(conform_cmd)  # noqa: E402,E702
from checker.smt.cli import bmc_cmd, crosscheck_cmd, prove_cmd; main.add_command(bmc_cmd); main.add_command(prove_cmd); main.add_command(crosscheck_cmd)  # noqa: E402,E702


def cli_entry(argv: list[str] | None = None) -> int:
    """Run the CLI; turn user errors into one line on stderr and exit code 2."""
    try:
        main.main(args=argv, prog_name="ringcheck", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        click.echo(f"ringcheck: error: {e.format_message()}", err=True)
        return EXIT_ERROR
    except click.exceptions.Abort:
        click.echo("ringcheck: interrupted", err=True)
        return 130
    except USER_ERRORS as e:
        click.echo(f"ringcheck: error: {e}", err=True)
        return EXIT_ERROR
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("ringcheck: interrupted", err=True)
        return 130
    except Exception as e:  # noqa: BLE001  (last resort: never a traceback)
        click.echo(f"ringcheck: internal error: {type(e).__name__}: {e}", err=True)
        return EXIT_ERROR
    return 0


def entry_point() -> None:
    """Console-script entry."""
    sys.exit(cli_entry())

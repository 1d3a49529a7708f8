"""The ``ringcheck`` command line: a thin layer over ``checker.run`` and friends.

Exit codes everywhere: 0 holds (complete), 1 violated, 2 bad input or
internal error, 3 holds up to a bound. Errors are one line on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from checker.cli_common import (EXIT_ERROR, USER_ERRORS, UserError, emit_verdict, parse_position,
                                progress_printer, write_new_file)
from checker.cli_options import config_from_options, config_options
from checker.conformance.cli import conform_cmd
from checker.graphs.cli import report_cmd, states_cmd, trace_cmd
from checker.kernel.cli import kernel_group
from checker.run import STRATEGIES, check
from checker.search import Limits
from checker.smt.cli import bmc_cmd, crosscheck_cmd, prove_cmd
from checker.suite import default_suite, weak_suite

@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--memory", default="sc", show_default=True,
              help="Memory model of the suite: sc (the default suite) or tso/ra (issue 13's lost-wakeup cases).")
@click.pass_context
def main(ctx: click.Context, memory: str) -> None:
    """ringcheck: model-check the Linux BPF ring buffer.

    With no command, run the default suite (three variants, honest and
    adversarial consumers, small configurations) and print a table;
    with --memory tso or ra, the weak-memory suite.
    """
    if ctx.invoked_subcommand is None:
        ctx.exit(run_suite(memory))


def run_suite(memory: str = "sc") -> int:
    """The default suite as a table; exit 0 when every verdict is the expected one."""
    from model.config import MEMORY_MODELS, ConfigError

    if memory not in MEMORY_MODELS:
        raise ConfigError(f"memory: {memory!r} is not one of {', '.join(MEMORY_MODELS)}")
    rows = []
    surprises = 0
    click.echo(f"{'case':32} {'configuration':58} {'verdict':34} {'states':>9} {'time':>7}")
    for case in default_suite() if memory == "sc" else weak_suite(memory):
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


for command in (bmc_cmd, prove_cmd, crosscheck_cmd, trace_cmd, states_cmd, report_cmd, conform_cmd,
                kernel_group):
    main.add_command(command)

__all__ = ["EXIT_ERROR", "UserError", "cli_entry", "emit_verdict", "entry_point", "main", "write_new_file"]


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

"""The ``ringcheck`` command line: a thin layer over ``checker.run`` and friends.

Exit codes everywhere: 0 holds (complete), 1 violated, 2 bad input or
internal error, 3 holds up to a bound. Errors are one line on stderr.
"""

from __future__ import annotations

import importlib
import json
import sys
import textwrap

import click

from checker import __version__
from checker.cli_common import (EXIT_ERROR, USER_ERRORS, UserError, check_output_path, emit_verdict, one_line,
                                parse_position, usage_error_line, write_new_file,
                                with_version, write_output_keeping_verdict)
from checker.cli_options import (config_from_options, config_options, distributed_options, engine_option,
                                 max_memory_from, max_memory_option, wants_distributed)
from checker.interrupt import EXIT_INTERRUPTED, Interrupted, exit_interrupted, interruptible
from checker.progress import Bar, progress_option, search_progress
from checker.run import STRATEGIES, check
from checker.search import Limits
from checker.suite import default_suite, weak_suite
from checker.verdict import INTERRUPTED, Verdict
from specs import LIVENESS_ORDER, PROPERTY_ORDER


LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "bmc": ("checker.smt.cli", "bmc_cmd"),
    "prove": ("checker.smt.cli", "prove_cmd"),
    "crosscheck": ("checker.smt.cli", "crosscheck_cmd"),
    "trace": ("checker.graphs.cli", "trace_cmd"),
    "states": ("checker.graphs.cli", "states_cmd"),
    "report": ("checker.graphs.cli", "report_cmd"),
    "conform": ("checker.conformance.cli", "conform_cmd"),
    "kernel": ("checker.kernel.cli", "kernel_group"),
    "lock-wait": ("checker.lock_wait", "lock_wait_cmd"),
    "compile": ("checker.compile_cmd", "compile_cmd"),
}
"""Subcommand name -> (module, attribute), imported only when that command runs or help lists it:
``ringcheck check`` need not load networkx, the kernel loader or the conformance runner (importing
this module took 0.27-0.31 s before, 0.08-0.13 s after; a warm compiled run of S=32 P=2 E=2 about
0.1 s less CPU)."""


class LazyGroup(click.Group):
    """A click group whose subcommands in ``LAZY_COMMANDS`` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name not in self.commands:
            module, attr = LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="ringcheck", message="%(prog)s %(version)s")
@click.option("--memory", default="sc", show_default=True, metavar="[sc|tso|ra]",
              help="Memory model of the suite: sc (the default suite) or tso/ra (issue 13's lost-wakeup cases).")
@click.option("--engine", default="python", show_default=True, type=click.Choice(["auto", "python", "compiled"]),
              help="Explicit-state core of the suite. Its cases have at most some 13,000 states, which the Python "
                   "engine checks in well under a second each, while a first run of the compiled core spends "
                   "about 40 s compiling; check's default is auto.")
@max_memory_option
@click.pass_context
def main(ctx: click.Context, memory: str, engine: str, max_memory: str | None) -> None:
    """ringcheck: model-check the Linux BPF ring buffer.

    With no command, run the default suite (three variants, honest and
    adversarial consumers, small configurations) and print a table;
    with --memory tso or ra, the weak-memory suite. --max-memory applies to
    the suite's searches.
    """
    if ctx.invoked_subcommand is None:
        ctx.exit(run_suite(memory, max_memory_from(max_memory), engine))


CHECK_EPILOG = ("\b\nExit codes: 0 holds (complete), 1 violated (a trace is printed), 2 bad input,\n"
                "3 holds up to a bound (a limit stopped the search), 130 interrupted.\n"
                + textwrap.fill("Properties (docs/protocol.md#6): " + ", ".join(PROPERTY_ORDER) + ".", 78)
                + "\n" + textwrap.fill("Liveness properties (--liveness for all): " + ", ".join(LIVENESS_ORDER) + ".", 78))


def run_suite(memory: str = "sc", max_memory: float | None = None, engine: str = "python") -> int:
    """The default suite (``memory`` sc) or the weak-memory suite as a table: exit 0 when every
    verdict is the expected one, 1 when one is not, 3 when none is unexpected but a search
    stopped at a bound (its memory budget, or a weak-memory model's buffer or history)."""
    from model.config import MEMORY_MODELS, ConfigError

    if memory not in MEMORY_MODELS:
        raise ConfigError(f"memory: {memory!r} is not one of {', '.join(MEMORY_MODELS)}")
    rows = []
    surprises = 0
    bounded = 0
    click.echo(f"{'case':32} {'configuration':58} {'verdict':34} {'states':>9} {'time':>7}")
    cases = default_suite() if memory == "sc" else weak_suite(memory)
    for case in cases:
        v = check(case.config, limits=Limits(max_memory=max_memory), engine=engine)
        if v.kind == INTERRUPTED:
            click.echo(f"{case.name:32} {case.config.describe():58} {'interrupted':34} {v.stats.states:>9} "
                       f"{v.stats.seconds:>6.2f}s")
            click.echo(f"{len(rows)} of {len(cases)} cases done, {surprises} unexpected")
            exit_interrupted(str(v.reason))
        got = "holds" if v.kind == "holds" else (v.property or v.kind)
        ok = got == case.expect or v.kind == "bounded"
        bounded += v.kind == "bounded" and case.expect != "bounded"  # a weak case's expected bound is no stop
        surprises += not ok
        verdict = v.headline() if v.kind != "violated" else f"violated: {v.property} ({len(v.trace)} steps)"
        rows.append((case.name, case.config.describe(), verdict, v.stats.states, v.stats.seconds))
        click.echo(f"{case.name:32} {case.config.describe():58} {verdict:34} {v.stats.states:>9} "
                   f"{v.stats.seconds:>6.2f}s" + ("" if ok else f"   UNEXPECTED (expected {case.expect})"))
    click.echo(f"{len(rows)} cases, {surprises} unexpected" + (f", {bounded} stopped at a bound" if bounded else ""))
    return 1 if surprises else 3 if bounded else 0


@main.command("check", epilog=CHECK_EPILOG)
@config_options
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Check only this property (repeatable; default: every safety property; names below). "
                   "Liveness properties go to the SCC engine.")
@click.option("--liveness", is_flag=True,
              help="Check every liveness property (eventually_delivered, no_starvation, ...).")
@click.option("--fair", help="Liveness: the weakly fair actors instead of each property's own, "
                             "e.g. c,irq or producers,c (or none).")
@click.option("--strategy", default="bfs", show_default=True, metavar="[" + "|".join(STRATEGIES) + "]",
              help="Search: breadth first (shortest traces), depth first, or seeded random walks "
                   "(liveness: the SCC engine, or bmc with --max-depth K).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for --strategy random.")
@click.option("--max-states", type=int, help="Stop after this many distinct states.")
@click.option("--max-depth", type=int,
              help="Do not go deeper than this many steps (--strategy random: the length of a walk, default 200).")
@click.option("--timeout", type=float, help="Stop after this many seconds (a positive finite number).")
@max_memory_option
@click.option("--walks", type=int, help="--strategy random: how many walks (default 1000).")
@click.option("--max-violations", default=1, show_default=True, type=int,
              help="BFS: go on after a violation until this many violating states are found, each with a "
                   "shortest trace.")
@click.option("--coverage", is_flag=True, help="Report how often each protocol step fired, and which never did.")
@click.option("--deadlock/--no-deadlock", default=True, show_default=True,
              help="Report a state where no step is possible but the run is not finished.")
@click.option("--visibility/--no-visibility", default=True, show_default=True,
              help="Liveness under --memory ra: assume eventual visibility (a load that keeps looking "
                   "eventually reads the newest message); --no-visibility shows why it is needed.")
@click.option("--symmetry", is_flag=True,
              help="Reduce by producer symmetry (BFS only; traces are mapped back to real ones).")
@click.option("--start", default="0", show_default=True, metavar="POSITION",
              help="Initial value of every position (e.g. 0xffffffffffffffe0 to cross the 64-bit wrap).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--trace-out", metavar="FILE", help="Write the counterexample trace (JSON) to this file.")
@click.option("--force", is_flag=True, help="Overwrite --trace-out if it exists.")
@progress_option
@engine_option
@distributed_options
def check_cmd(**kw: object) -> None:
    """Explore the state space of one configuration and give a verdict."""
    cfg = config_from_options(kw)
    limits = Limits(kw["max_states"], kw["max_depth"], kw["timeout"], max_memory_from(kw["max_memory"]),
                    kw["walks"])
    if kw["walks"] is not None and kw["strategy"] != "random":
        raise UserError("walks: --walks is for --strategy random")
    if kw["trace_out"]:
        check_output_path(str(kw["trace_out"]), bool(kw["force"]))
    names = list(kw["properties"]) + (list(LIVENESS_ORDER) if kw["liveness"] else [])
    fair = None if kw["fair"] is None else str(kw["fair"]).split(",")
    if wants_distributed(kw):
        from checker.distributed.cli import check_distributed

        with Bar("check", enabled=kw["progress"], unit="state") as bar:
            v = check_distributed(cfg, names, limits, search_progress(bar), parse_position(str(kw["start"])), kw)
        finish_check(v, kw)
    with Bar("check", enabled=kw["progress"], unit="state") as bar:
        v = check(cfg, list(dict.fromkeys(names)) or None, str(kw["strategy"]), limits, int(kw["seed"]),
                  search_progress(bar), parse_position(str(kw["start"])), bool(kw["symmetry"]), fair,
                  max_violations=int(kw["max_violations"]), coverage=bool(kw["coverage"]),
                  deadlock=bool(kw["deadlock"]), engine=str(kw["engine"]), workers=int(kw["threads"]),
                  visibility=bool(kw["visibility"]), store=str(kw["store"]))
    finish_check(v, kw)


def finish_check(v: Verdict, kw: dict) -> None:
    """Print the verdict of ``check`` as asked, write --trace-out, exit with the verdict's code."""
    emit_verdict(v, bool(kw["as_json"]), int(kw["seed"]) if kw["strategy"] == "random" else None)
    if not kw["as_json"]:
        emit_details(v)
        for line in getattr(v, "worker_lines", list)():
            click.echo(line)
    for line in v.stats.tlc_lines():
        click.echo(line, err=True)
    if kw["trace_out"] and v.trace is not None:
        write_output_keeping_verdict(str(kw["trace_out"]), json.dumps(v.trace.to_dict(), indent=1) + "\n",
                                     bool(kw["force"]), "trace")
    sys.exit(v.exit_code)


def emit_details(v: Verdict) -> None:
    """After the verdict (text): the further violations and the coverage table (the notes come before it)."""
    for i, extra in enumerate(v.violations[1:], 2):
        click.echo(f"violation {i}: {extra.property}: {extra.reason}")
        click.echo(f"trace ({len(extra.trace)} steps):")
        click.echo(extra.trace.format().split("\n", 1)[1])
    if v.coverage is not None:
        click.echo("coverage:")
        for line in v.coverage.lines():
            click.echo(line)


__all__ = ["EXIT_ERROR", "UserError", "cli_entry", "emit_verdict", "entry_point", "main", "write_new_file"]


def cli_entry(argv: list[str] | None = None) -> int:
    """Run the CLI; turn user errors into one line on stderr and exit code 2.

    Ctrl-C and SIGTERM raise ``checker.interrupt.Interrupted`` (z3 queries included); a command that
    holds partial results prints them and exits 130 itself; one that does not ends here, also with 130
    (and, if --json was asked for, one JSON object whose verdict is ``interrupted``)."""
    with interruptible():
        return _run(sys.argv[1:] if argv is None else argv)


def _run(argv: list[str]) -> int:
    try:
        code = main.main(args=argv, prog_name="ringcheck", standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool):
            return code
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        click.echo(f"ringcheck: error: {usage_error_line(e)}", err=True)
        return EXIT_ERROR
    except click.exceptions.Abort:
        click.echo("ringcheck: interrupted", err=True)
        return 130
    except USER_ERRORS as e:
        click.echo(f"ringcheck: error: {one_line(str(e))}", err=True)
        return EXIT_ERROR
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("ringcheck: interrupted", err=True)
        return EXIT_INTERRUPTED
    except Interrupted as e:
        click.echo(f"ringcheck: {e}", err=True)
        if "--json" in argv:
            click.echo(json.dumps(with_version({"verdict": "interrupted", "signal": e.signal_name,
                                                "command": argv[:1]})))
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001  (last resort: never a traceback)
        click.echo(f"ringcheck: internal error: {one_line(f'{type(e).__name__}: {e}')}", err=True)
        return EXIT_ERROR
    return 0


def entry_point() -> None:
    """Console-script entry."""
    sys.exit(cli_entry())

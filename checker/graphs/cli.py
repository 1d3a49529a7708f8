"""The ``trace``, ``states`` and ``report`` subcommands (registered in checker/cli.py).

``ringcheck trace SOURCE --format F --output PATH`` renders a trace file
(written by ``check --trace-out``, or an ITF file) or a scenario (a file, or
the text itself) in one format; ``ringcheck states`` draws the whole state
graph of a tiny configuration; ``ringcheck report`` regenerates reports/.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

import click
from click.core import ParameterSource

from checker.cli_common import UserError, check_output_path, write_new_file
from checker.cli_options import CONFIG_KEYS, config_from_options, config_options, max_memory_from, max_memory_option
from checker.graphs import scenario
from checker.graphs.export import GRAPH_FORMATS, TRACE_FORMATS, render, render_graph
from checker.graphs.itf import decode_trace
from checker.json_input import JsonInputError, load_json
from checker.graphs.report import ReportError, write_report
from checker.graphs.statespace import DEFAULT_MAX_STATES, StateGraphOutOfMemory, StateGraphTooLarge, state_graph
from checker.memory import MemoryBudget
from checker.trace import TRACE_FORMAT, Trace, TraceError
from model.config import Config

SCENARIO_HELP = """
\b
SOURCE is a trace file (ringcheck-trace/1 JSON from `check --trace-out`, or
an ITF file), a scenario file, or the scenario text itself. Scenario
statements, separated by `;` or new lines (# starts a comment):
  pN reserve SIZE [nmi]     reserve and run every step of the call
  pN reserve                finish a reservation begun with a raw step
  pN write                  write the payload of the fresh reservation
  pN submit [rK] [FLAG]     commit (FLAG: no_wakeup, force_wakeup)
  pN discard [rK] [FLAG]    commit with discard
  pN step                   the producer's one next step
  user consumer_pos = V     untrusted user space stores consumer_pos
  c consume | c poll | c step | irq work
  ACTOR.STEP(ARG=V,...)     any raw model action, e.g. p0.reserve.check(size=16)
  pN.flush | c.flush        tso: the oldest store of that actor's buffer reaches memory
A line `config: variant=v5.13 consumer=adversarial hold=2 ...` sets the
configuration (weak memory: `memory=tso buffer=2`, `memory=ra history=3`,
`orders=...`, `fences=...`); options given on the command line win over it.
"""


def explicit_options(ctx: click.Context) -> list[str]:
    """The configuration options the user typed (not defaults)."""
    return [k for k in CONFIG_KEYS
            if ctx.get_parameter_source(k) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)]


def load_source(source: str, base: Config, explicit: list[str], budget: MemoryBudget | None = None) -> Trace:
    """A trace from a trace file, an ITF file, a scenario file or scenario text."""
    path = Path(source)
    try:
        is_file, exists = path.is_file(), path.exists()
    except (OSError, ValueError):  # a scenario longer than a file name may be, or with a NUL byte
        is_file = exists = False
    if is_file:
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"cannot read {source}: {getattr(e, 'strerror', None) or e}") from None
        data = _json_object(text)
        if data is not None:
            if explicit:
                raise UserError(f"{source} is a trace file and carries its configuration; "
                                f"drop --{explicit[0].replace('_', '-')}")
            trace = Trace.from_dict(data) if data.get("format") == TRACE_FORMAT or "states" not in data \
                else decode_trace(data)
            trace.replay()
            return trace
    elif exists:
        raise UserError(f"{source} is not a file")
    elif not any(c in source for c in " ;\n"):
        raise UserError(f"{source}: no such file (and not a scenario: a scenario has statements "
                        f"such as `p0 reserve 16; p0 write`)")
    else:
        text = source
    base_kw = {f.name: getattr(base, f.name) for f in fields(Config)}
    cfg, start = scenario.scenario_config(text, base_kw, {k: base_kw[k] for k in explicit})
    return scenario.run_scenario(text, cfg, start, budget)


def _json_object(text: str) -> dict | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        d = load_json(text)
    except JsonInputError as e:
        raise TraceError(f"trace: {e}") from None
    return d if isinstance(d, dict) else None


def emit(text: str, output: str, force: bool) -> None:
    """Write to ``output`` (``-`` for stdout), refusing to overwrite without ``force``."""
    if output == "-":
        click.echo(text, nl=False)
        return
    write_new_file(output, text, force)
    click.echo(f"wrote {output}", err=True)


@click.command("trace", epilog=SCENARIO_HELP)
@click.argument("source")
@click.option("--format", "fmt", required=True, type=click.Choice(TRACE_FORMATS),
              help="graphml, dot, json (node-link), itf (*.itf.json), html (step-through page), svg.")
@click.option("--output", required=True, help="File to write (`-` for standard output).")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@config_options
@max_memory_option
@click.pass_context
def trace_cmd(ctx: click.Context, source: str, fmt: str, output: str, force: bool, max_memory: str | None,
              **kw: object) -> None:
    """Render a trace file or a scenario as a graph, ITF, an HTML page or an SVG picture.

    Exit 3, with one line and nothing written, when a scenario's states outgrow
    --max-memory (or a MemoryError says the machine has no more).
    """
    if output != "-":
        check_output_path(output, force)
    explicit = explicit_options(ctx)
    base = config_from_options(kw)
    budget = MemoryBudget(max_memory_from(max_memory))
    try:
        text = _trace_text(source, base, explicit, fmt, budget)
    except scenario.ScenarioOutOfMemory as e:
        click.echo(f"ringcheck: {e}", err=True)
        sys.exit(3)
    emit(text, output, force)


def _trace_text(source: str, base: Config, explicit: list[str], fmt: str, budget: MemoryBudget) -> str:
    """The rendered trace; a MemoryError becomes ScenarioOutOfMemory once what was built is freed."""
    try:
        return render(load_source(source, base, explicit, budget), fmt)
    except MemoryError:
        pass
    budget.ran_out()
    raise scenario.ScenarioOutOfMemory(f"trace: stopped at bound {budget.bound()}; nothing written")


@click.command("states")
@config_options
@click.option("--format", "fmt", required=True, type=click.Choice(GRAPH_FORMATS), help="graphml, dot or json.")
@click.option("--output", required=True, help="File to write (`-` for standard output).")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@click.option("--max-states", default=DEFAULT_MAX_STATES, show_default=True, type=click.IntRange(1),
              help="Refuse configurations with more reachable states than this.")
@max_memory_option
def states_cmd(fmt: str, output: str, force: bool, max_states: int, max_memory: str | None,
               **kw: object) -> None:
    """Draw the whole reachable state graph of a tiny configuration (BFS levels, marked states).

    Exit 3, with one line and nothing written, when the graph outgrows --max-memory
    (or a MemoryError says the machine has no more).
    """
    cfg = config_from_options(kw)
    if output != "-":
        check_output_path(output, force)
    budget = MemoryBudget(max_memory_from(max_memory))
    try:
        text = _state_graph_text(cfg, max_states, budget, fmt)
    except StateGraphTooLarge as e:
        raise UserError(str(e)) from None
    except StateGraphOutOfMemory as e:
        click.echo(f"ringcheck: {e}", err=True)
        sys.exit(3)
    emit(text, output, force)


def _state_graph_text(cfg: Config, max_states: int, budget: MemoryBudget, fmt: str) -> str:
    """The rendered state graph; a MemoryError becomes StateGraphOutOfMemory once the graph is freed."""
    try:
        return render_graph(state_graph(cfg, max_states, budget=budget), fmt)
    except MemoryError:
        pass
    budget.ran_out()
    raise StateGraphOutOfMemory(f"state graph: stopped at bound {budget.bound()}; nothing written "
                                f"(choose a smaller configuration)")


@click.command("report")
@click.option("--output-dir", default="reports", show_default=True, help="Folder to (re)generate.")
@click.option("--force", is_flag=True, help="Write into a non-empty folder not made by this command.")
def report_cmd(output_dir: str, force: bool) -> None:
    """Regenerate reports/: the suite summary and every violated case's trace in every format."""
    try:
        written = write_report(output_dir, force)
    except ReportError as e:
        raise UserError(str(e)) from None
    click.echo(f"wrote {len(written)} files under {output_dir}/")

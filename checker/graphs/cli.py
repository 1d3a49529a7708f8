"""The ``trace``, ``states`` and ``report`` subcommands (registered in checker/cli.py).

``ringcheck trace SOURCE --format F --output PATH`` renders a trace file
(written by ``check --trace-out``, or an ITF file) or a scenario (a file, or
the text itself) in one format; ``ringcheck states`` draws the whole state
graph of a tiny configuration; ``ringcheck report`` regenerates reports/.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import click
from click.core import ParameterSource

from checker.cli_common import UserError, write_new_file
from checker.cli_options import CONFIG_KEYS, config_from_options, config_options
from checker.graphs import scenario
from checker.graphs.export import GRAPH_FORMATS, TRACE_FORMATS, render, render_graph
from checker.graphs.itf import decode_trace
from checker.graphs.report import ReportError, write_report
from checker.graphs.statespace import DEFAULT_MAX_STATES, StateGraphTooLarge, state_graph
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


def load_source(source: str, base: Config, explicit: list[str]) -> Trace:
    """A trace from a trace file, an ITF file, a scenario file or scenario text."""
    path = Path(source)
    if path.is_file():
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
    elif path.exists():
        raise UserError(f"{source} is not a file")
    elif not any(c in source for c in " ;\n"):
        raise UserError(f"{source}: no such file (and not a scenario: a scenario has statements "
                        f"such as `p0 reserve 16; p0 write`)")
    else:
        text = source
    base_kw = {f.name: getattr(base, f.name) for f in fields(Config)}
    cfg, start = scenario.scenario_config(text, base_kw, {k: base_kw[k] for k in explicit})
    return scenario.run_scenario(text, cfg, start)


def _json_object(text: str) -> dict | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceError(f"trace: not JSON ({e.msg} at line {e.lineno})") from None
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
@click.pass_context
def trace_cmd(ctx: click.Context, source: str, fmt: str, output: str, force: bool, **kw: object) -> None:
    """Render a trace file or a scenario as a graph, ITF, an HTML page or an SVG picture."""
    explicit = explicit_options(ctx)
    base = config_from_options(kw)
    trace = load_source(source, base, explicit)
    emit(render(trace, fmt), output, force)


@click.command("states")
@config_options
@click.option("--format", "fmt", required=True, type=click.Choice(GRAPH_FORMATS), help="graphml, dot or json.")
@click.option("--output", required=True, help="File to write (`-` for standard output).")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@click.option("--max-states", default=DEFAULT_MAX_STATES, show_default=True, type=int,
              help="Refuse configurations with more reachable states than this.")
def states_cmd(fmt: str, output: str, force: bool, max_states: int, **kw: object) -> None:
    """Draw the whole reachable state graph of a tiny configuration (BFS levels, marked states)."""
    cfg = config_from_options(kw)
    try:
        g = state_graph(cfg, max_states)
    except StateGraphTooLarge as e:
        raise UserError(str(e)) from None
    emit(render_graph(g, fmt), output, force)


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

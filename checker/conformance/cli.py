"""``ringcheck conform``: check an implementation against the model from the command line.

A thin layer over `lockstep.check_lockstep`, `stateful.check_stateful` and
`tracelog.validate_log`. Exit codes: 0 conforms (complete), 1 diverges,
2 bad input (an --impl that does not import, a malformed log, a bad
option), 3 conforms up to a bound (a cut-short search, stateful testing).
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import os
import random
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from checker.cli_common import (UserError, check_output_path, hypothesis_home_in_temp, with_version, write_new_file,
                                write_output_keeping_verdict)
from checker.cli_options import CONFIG_KEYS, config_from_options, config_options, require_sc
from checker.conformance.adapter import Factory
from checker.conformance.divergence import DIVERGENCE_FORMATS, export_divergence
from checker.conformance.guard import DEFAULT_CALL_TIMEOUT, AdapterContractError, check_call_timeout
from checker.conformance.lockstep import INTERRUPTED, ConformanceResult, FactoryError, check_lockstep
from checker.conformance.mutants import MUTANTS
from checker.conformance.ops import Op
from checker.conformance.oracle import Oracle
from checker.conformance.reference import make_reference
from checker.conformance.standard import MUTANT_CONFIGS, standard_configs
from checker.conformance.recorder import record_operations
from checker.conformance.tracelog import LogFormatError, validate_log
from checker.interrupt import exit_interrupted
from checker.progress import Bar, progress_option
from model.config import Config
from model.operations import OperationError

METHODS = ("lockstep", "stateful")


def load_factory(spec: str) -> Factory:
    """``module:name`` or ``path/to/file.py:name`` to the factory it names; UserError otherwise."""
    if ":" not in spec:
        raise UserError(f"--impl {spec!r}: expected module:factory, e.g. mypkg.ring:make_ring")
    where, _, name = spec.rpartition(":")
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise UserError(f"--impl {spec!r}: no file {where}")
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            if module_spec is None or module_spec.loader is None:
                raise UserError(f"--impl {spec!r}: cannot load {where}")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = _import_module(where)
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001  (whatever the user's module raises on import)
        raise UserError(f"--impl {spec!r}: cannot import {where}: {type(e).__name__}: {e}") from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise UserError(f"--impl {spec!r}: {where} has no callable {name!r}")
    return factory


def _import_module(name: str) -> object:
    """Import ``name`` as ``python -m`` would: the current folder first on the path.

    The ``ringcheck`` console script does not put the current folder on
    sys.path, so ``--impl my_ring:MyRing`` run beside my_ring.py would not
    find it; the folder is added for this import only.
    """
    cwd = os.getcwd()
    added = cwd not in sys.path and "" not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    finally:
        if added and cwd in sys.path:
            sys.path.remove(cwd)


def random_path(config: Config, length: int, seed: int, reopen: bool = False) -> list[Op]:
    """A seeded random walk of `length` operations through the model's operation graph (reopen edges if asked)."""
    rng = random.Random(seed)
    oracle = Oracle(config, reopen=reopen)
    s = oracle.initial()
    out: list[Op] = []
    for _ in range(length):
        enabled = oracle.enabled(s)
        if not enabled:
            break
        kinds = sorted({op.kind for op in enabled})
        kind = rng.choice(kinds)
        op = rng.choice([op for op in enabled if op.kind == kind])
        s, _ = oracle.apply(s, op)
        out.append(op)
    return out


def check_stateful(factory: Factory, config: Config, max_examples: int,
                   call_timeout: float | None = DEFAULT_CALL_TIMEOUT, reopen: bool = False) -> ConformanceResult:
    """`stateful.check_stateful`, imported on use (hypothesis is a runtime dependency, but loads slowly)."""
    try:
        from checker.conformance.stateful import check_stateful as run
    except ImportError as e:
        raise UserError(f"--method stateful needs hypothesis ({e}); pip install hypothesis") from None
    with hypothesis_home_in_temp():
        return run(factory, config, max_examples=max_examples, call_timeout=call_timeout, reopen=reopen)


def emit_result(r: ConformanceResult, as_json: bool) -> None:
    """A conformance result as text (with the divergence) or as one JSON object."""
    if as_json:
        click.echo(json.dumps(with_version(r.to_dict()), indent=1))
        return
    s = r.stats
    click.echo(f"config:   {r.config.describe()}")
    click.echo(f"method:   {r.method}")
    nodes = f" ({s.nodes} with distinct implementation bytes)" if s.nodes > s.states else ""
    click.echo(f"stats:    {s.states} model states{nodes}, {s.transitions} operations compared, "
               f"{s.calls} adapter calls, depth {s.depth}, {s.seconds:.2f}s ({s.cpu_seconds:.2f}s CPU)")
    click.echo(f"verdict:  {r.headline()}")
    for note in r.notes:
        click.echo(f"note:     {note}")
    if r.divergence is not None:
        click.echo(r.divergence.format())


def _standard(factory: Factory, variant: str | None, call_timeout: float | None) -> int:
    """Lockstep on every standard configuration (of `variant` only, if given), as a table.

    Configurations whose variant the factory refuses are listed as refused;
    exit 2 only if it refuses them all.
    """
    click.echo(f"{'configuration':34} {'verdict':12} {'states':>7} {'ops':>7} {'calls':>8} {'time':>8} "
               f"{'CPU':>8}")
    worst, refused, configs = 0, 0, standard_configs()
    if variant is not None:
        configs = {name: c for name, c in configs.items()
                   if c.variant == variant}  # variant-name-ok: the user picks named configurations
    for name, config in configs.items():
        try:
            r = check_lockstep(factory, config, call_timeout=call_timeout)
        except FactoryError as e:
            refused += 1
            click.echo(f"{name:34} {'refused':12} {str(e).split(': ', 1)[-1]}")
            continue
        s = r.stats
        click.echo(f"{name:34} {r.kind:12} {s.states:>7} {s.transitions:>7} {s.calls:>8} {s.seconds:>7.2f}s "
                   f"{s.cpu_seconds:>7.2f}s")
        if r.divergence is not None:
            click.echo(f"    {r.divergence.headline()}")
        if r.kind == INTERRUPTED:  # the rows above are what was checked
            exit_interrupted(str(r.bound).removeprefix("interrupted by "))
        worst = max(worst, r.exit_code)
    if refused == len(configs):
        raise UserError("the implementation refused every standard configuration")
    return worst


@click.command("conform")
@config_options
@click.option("--impl", "impl", help="The implementation's factory, module:name or file.py:name "
              "(default: the bundled reference).")
@click.option("--method", default="lockstep", show_default=True,
              help="lockstep (exhaustive) or stateful (hypothesis, shrinking).")
@click.option("--max-states", type=click.IntRange(1), help="lockstep: stop after this many model states.")
@click.option("--reopen", is_flag=True, help="lockstep, stateful, --record: the consumer may also be closed and "
              "reopened (Adapter.reopen).")
@click.option("--warmup", type=click.IntRange(0), default=0, show_default=True,
              help="lockstep: start from a used ring, after this many whole records made and consumed.")
@click.option("--timeout", type=float, help="lockstep: stop after this many seconds.")
@click.option("--examples", default=200, show_default=True, type=click.IntRange(1), help="stateful: examples to run.")
@click.option("--trace", "trace", help="Validate this JSON-lines log instead (its header names the config).")
@click.option("--record", "record", help="Record the implementation's log along a random model path "
              "to this file.")
@click.option("--length", default=30, show_default=True, type=click.IntRange(0, 100_000), help="--record: operations.")
@click.option("--seed", default=0, show_default=True, type=int, help="--record: random seed.")
@click.option("--force", is_flag=True, help="Overwrite the --record file if it exists.")
@click.option("--standard", is_flag=True, help="Run lockstep on every standard configuration (a table).")
@click.option("--mutants", "mutants", is_flag=True,
              help="Mutation score: every bundled mutant must diverge (a table).")
@click.option("--divergence-out", help="Write the divergence (if any) to this file.")
@click.option("--format", "fmt", default="text", show_default=True,
              help=f"--divergence-out format: {', '.join(DIVERGENCE_FORMATS)}.")
@click.option("--call-timeout", type=float, default=DEFAULT_CALL_TIMEOUT, show_default=True,
              help="Seconds one call of the implementation may take; a longer one is a divergence "
                   "(field timeout) and ends the run.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--concurrent", is_flag=True, help="Run calls at once and explore their interleavings "
              "(--impl names a concurrent factory; see checker.conformance.concurrent).")
@click.option("--scenario", help="--concurrent: bundled scenario name(s), comma-separated, 'all', or a .json file "
              "(default: two-producers,produce-consume).")
@click.option("--preemptions", type=click.IntRange(0), help="--concurrent: at most this many preemptions (default: no bound).")
@click.option("--random", "random", type=click.IntRange(1), help="--concurrent: this many random schedules (with --seed).")
@click.option("--schedule", help="--concurrent: replay this schedule file exactly.")
@progress_option
@click.pass_context
def conform_cmd(ctx: click.Context, **kw: object) -> None:
    """Check that an implementation behaves as the model says (exit 0 conforms, 1 diverges).

    Every call of the implementation is guarded: whatever it raises (sys.exit
    included) is a divergence in field exception, a call longer than
    --call-timeout one in field timeout, and what it prints is kept out of
    ringcheck's output.
    """
    explicit = [k for k in CONFIG_KEYS if ctx.get_parameter_source(k) == ParameterSource.COMMANDLINE]
    cfg = config_from_options(kw)
    if cfg.map == "user":  # the user ring buffer: checker/conformance/user
        from checker.conformance.user.cli import run_user
        sys.exit(run_user(cfg, kw, load_factory))
    for name in ("timeout", "call_timeout"):
        try:
            check_call_timeout(kw[name])  # type: ignore[arg-type]
        except ValueError:
            raise UserError(f"--{name.replace('_', '-')}: {kw[name]} is not a positive finite number of seconds") from None
    call_timeout = check_call_timeout(kw["call_timeout"])  # type: ignore[arg-type]
    if kw["standard"] and [k for k in explicit if k != "variant"]:
        raise UserError(f"--standard runs its own configurations; drop --{explicit[-1].replace('_', '-')} "
                        "(--variant selects that variant's standard configurations)")
    for name in ("memory", "buffer", "history"):  # config_from_options took them; the scheduler reads them from kw
        kw.setdefault(name, getattr(cfg, name))
    if kw["concurrent"]:
        from checker.conformance.concurrent.cli import run_concurrent

        if cfg.position_bits != 64 or not cfg.honest and cfg.attacker != ("consumer_pos",):
            raise UserError("--concurrent: the scenarios run 64-bit positions and no attacker; "
                            "use --position-bits and --attacker with lockstep, stateful or --trace")

        sys.exit(run_concurrent(load_factory(str(kw["impl"])) if kw["impl"] else None, cfg.variant, kw))
    for name in ("scenario", "preemptions", "random", "schedule"):
        if kw[name] is not None:
            raise UserError(f"--{name} needs --concurrent")
    require_sc(cfg.memory, "conform (one call at a time; --concurrent explores a weak memory model)")
    if kw["method"] not in METHODS:
        raise UserError(f"--method {kw['method']!r} is not one of {', '.join(METHODS)}")
    other_modes = kw["trace"] or kw["record"] or kw["standard"] or kw["mutants"]
    if kw["warmup"] and (kw["method"] != "lockstep" or other_modes):
        raise UserError("--warmup works with lockstep only (not with --method stateful, --trace, --record, "
                        "--standard or --mutants)")
    if kw["fmt"] not in DIVERGENCE_FORMATS:
        raise UserError(f"--format {kw['fmt']!r} is not one of {', '.join(DIVERGENCE_FORMATS)}")
    out = kw["divergence_out"]
    for path in (out, kw["record"]):
        if path:
            check_output_path(str(path), bool(kw["force"]))
    try:
        if kw["trace"]:
            r = _validate(str(kw["trace"]))
        elif kw["mutants"]:
            sys.exit(_mutation_score(int(kw["examples"]), call_timeout))
        else:
            factory = load_factory(str(kw["impl"])) if kw["impl"] else make_reference
            if kw["record"]:
                sys.exit(_record(factory, cfg, kw, call_timeout))
            if kw["standard"]:
                sys.exit(_standard(factory, cfg.variant if "variant" in explicit else None, call_timeout))
            if kw["method"] == "stateful":
                r = check_stateful(factory, cfg, int(kw["examples"]), call_timeout,  # type: ignore[arg-type]
                                   reopen=bool(kw["reopen"]))
            else:
                with Bar("conform", enabled=kw["progress"], unit="state") as bar:
                    r = check_lockstep(factory, cfg, kw["max_states"], kw["timeout"],  # type: ignore[arg-type]
                                       call_timeout, _lockstep_progress(bar), reopen=bool(kw["reopen"]),
                                       warmup=int(kw["warmup"]))
    except (FactoryError, AdapterContractError) as e:
        raise UserError(str(e)) from None
    except (ValueError, OperationError) as e:
        if not kw["warmup"]:
            raise
        raise UserError(f"--warmup {kw['warmup']}: {e}") from None
    emit_result(r, bool(kw["as_json"]))
    if out and r.divergence is not None:
        write_output_keeping_verdict(str(out), export_divergence(r.divergence, str(kw["fmt"])),
                                     bool(kw["force"]), "divergence")
    if r.kind == INTERRUPTED:
        exit_interrupted(str(r.bound).removeprefix("interrupted by "))
    sys.exit(r.exit_code)


def _lockstep_progress(bar: Bar):
    """A ``check_lockstep`` progress callback moving ``bar`` to the model states reached."""

    def show(stats) -> None:
        bar.to(stats.states)
        bar.note(f"{stats.transitions:,} operations compared, {stats.calls:,} adapter calls, depth {stats.depth}")

    return show


def _validate(path: str) -> ConformanceResult:
    try:
        with open(path, encoding="utf-8") as f:
            return validate_log(f)
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}") from None
    except (LogFormatError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: {e}") from None


def _record(factory: Factory, cfg: Config, kw: dict, call_timeout: float | None) -> int:
    path = str(kw["record"])
    if not cfg.honest and cfg.attacker != ("consumer_pos",):
        raise UserError(f"--record: the log recorder has no {','.join(cfg.attacker)} attacker yet; "
                        "check the attacker with lockstep or stateful")
    ops = random_path(cfg, int(kw["length"]), int(kw["seed"]), bool(kw["reopen"]))
    buf = io.StringIO()
    stopped = record_operations(factory, cfg, ops, buf, call_timeout)
    write_new_file(path, buf.getvalue(), bool(kw["force"]))
    if stopped:
        click.echo(f"the log ends early: {stopped}", err=True)
    click.echo(f"recorded {len(ops)} operations to {path}", err=True)
    return 0


def _mutation_score(examples: int, call_timeout: float | None) -> int:
    """Each mutant under lockstep and stateful testing; exit 0 only if every one is caught by both."""
    missed = 0
    click.echo(f"{'mutant':30} {'method':9} divergence")
    for name, factory in MUTANTS.items():
        for method in ("lockstep", "stateful"):
            config = MUTANT_CONFIGS[name]
            r = (check_lockstep(factory, config, call_timeout=call_timeout) if method == "lockstep"
                 else check_stateful(factory, config, examples, call_timeout))
            if r.kind == INTERRUPTED:
                click.echo(f"{name:30} {method:9} interrupted")
                exit_interrupted(str(r.bound).removeprefix("interrupted by "))
            missed += r.divergence is None
            text = r.divergence.headline() if r.divergence else "NOT CAUGHT"
            click.echo(f"{name:30} {method:9} {text}")
    click.echo(f"{2 * len(MUTANTS) - missed}/{2 * len(MUTANTS)} caught")
    return 0 if missed == 0 else 1


def _add_memory_options(command: click.Command) -> None:
    """--memory, --buffer, --history for --concurrent, unless the shared config options already have them."""
    have = {p.name for p in command.params}
    if "memory" not in have:
        command.params.append(click.Option(["--memory"], default="sc", show_default=True,
                                           help="--concurrent: memory model of the accesses: sc, tso, ra."))
    if "buffer" not in have:
        command.params.append(click.Option(["--buffer"], default=2, show_default=True, type=int,
                                           help="--memory tso: store-buffer entries per thread."))
    if "history" not in have:
        command.params.append(click.Option(["--history"], default=3, show_default=True, type=int,
                                           help="--memory ra: messages kept per location."))


_add_memory_options(conform_cmd)

"""``ringcheck bmc``, ``ringcheck prove`` and ``ringcheck crosscheck``: thin wrappers over checker.smt.

Exit codes as everywhere: 0 holds (complete) / no disagreement, 1 violated /
disagreements, 2 bad input or an encoding mismatch, 3 holds up to a bound.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from checker.cli_options import config_from_options, config_options, require_sc


class UserError(click.ClickException):
    """A one-line error for the user, exit code 2 (``checker.cli.UserError``, which imports this module)."""

    exit_code = 2


def _check_out(path: object, force: object) -> None:
    if path and Path(str(path)).exists() and not force:
        raise UserError(f"{path} exists; choose another name or pass --force to overwrite it")


@click.command("bmc")
@config_options
@click.option("--property", "prop", required=True, help="The property to look for a violation of.")
@click.option("--depth", required=True, type=click.IntRange(0, 200), help="Steps to unroll.")
@click.option("--start", default="0", show_default=True, help="Initial value of every position (u64).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--trace-out", help="Write the counterexample trace (JSON) to this file.")
@click.option("--force", is_flag=True, help="Overwrite --trace-out if it exists.")
def bmc_cmd(**kw: object) -> None:
    """Bounded model checking with z3; a counterexample is replayed in the explicit model."""
    from checker.cli import emit_verdict, write_new_file
    from checker.smt.bmc import ReplayMismatch, bmc
    from specs import get_property

    cfg = config_from_options(kw)
    require_sc(cfg.memory, "bmc")
    get_property(str(kw["prop"]))
    start = _parse_u64(str(kw["start"]), "start")
    _check_out(kw["trace_out"], kw["force"])

    def progress(k: int, res: object, sec: float) -> None:
        if not kw["as_json"]:
            click.echo(f"  depth {k}: {res} ({sec:.2f}s)", err=True)

    try:
        result = bmc(cfg, str(kw["prop"]), int(kw["depth"]), start, progress)
    except ReplayMismatch as e:
        raise UserError(f"z3 trace does not replay in the explicit model: {e}") from None
    v = result.verdict
    emit_verdict(v, bool(kw["as_json"]))
    if kw["trace_out"] and v.trace is not None:
        write_new_file(str(kw["trace_out"]), json.dumps(v.trace.to_dict(), indent=1) + "\n", True)
        click.echo(f"trace written to {kw['trace_out']}", err=True)
    sys.exit(v.exit_code)


def _parse_u64(text: str, name: str) -> int:
    try:
        v = int(text, 0)
    except ValueError:
        raise UserError(f"{name}: {text!r} is not an integer") from None
    if not 0 <= v < 1 << 64:
        raise UserError(f"{name}: {text} is not a u64 (0 to 2**64-1)")
    return v


@click.command("crosscheck")
@config_options
@click.option("--states", default=None, type=click.IntRange(1),
              help="Opt-in sampling for big configurations: check (a) and (b) on at most this many "
                   "reachable states per configuration (seeded sample). Default: every reachable state.")
@click.option("--successor-states", default=None, type=click.IntRange(0),
              help="Opt-in sampling: compare successor sets (c) on at most this many states per "
                   "configuration. Default: every reachable state.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the samples (with --states / "
              "--successor-states).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def crosscheck_cmd(ctx: click.Context, **kw: object) -> None:
    """Explicit model vs SMT encoding: properties (a), transitions (b), successor sets (c).

    On every reachable state (unless sampling is asked for). With no configuration
    option, a default set of small configurations covering every variant and
    consumer (some reaching violations); with any, that one.
    """
    from checker.cli_options import CONFIG_KEYS
    from checker.smt.crosscheck import crosscheck, default_configs

    given = any(ctx.get_parameter_source(k) != click.core.ParameterSource.DEFAULT for k in CONFIG_KEYS)
    cfg = config_from_options(kw)
    require_sc(cfg.memory, "crosscheck")
    configs = [cfg] if given else default_configs()
    sample = {k: None if kw[k] is None else int(str(kw[k])) for k in ("states", "successor_states")}
    reports = []
    for c in configs:
        try:
            rep = crosscheck(c, sample["states"], sample["successor_states"], int(kw["seed"]),
                             None if kw["as_json"] else lambda m: click.echo(m, err=True))
        except ValueError as e:
            raise UserError(str(e)) from None
        reports.append(rep)
        if not kw["as_json"]:
            click.echo(rep.line())
            for d in rep.disagreements:
                click.echo("  disagreement " + d.format(c))
    total = sum(len(r.disagreements) for r in reports)
    if kw["as_json"]:
        click.echo(json.dumps({"disagreements": total, "configs": [r.to_dict() for r in reports]}, indent=1))
    else:
        sampled = any(r.sampled for r in reports)
        click.echo(f"{len(reports)} configurations, {total} disagreements"
                   + (" (on the sampled states listed above, not on every reachable state)" if sampled else
                      " on every reachable state"))
    sys.exit(1 if total else 0)


@click.command("prove")
@click.option("--variant", default="v6.10", show_default=True, help="Kernel behaviour: v5.8, v5.13, v6.10.")
@click.option("--consumer", default="adversarial", show_default=True,
              help="adversarial (memory safety) or level (libbpf, level-triggered: delivery properties too).")
@click.option("--property", "props", multiple=True,
              help="Prove only this property (repeatable); default: the five memory-safety properties "
                   "(adversarial) or ordered_delivery, discard_skipped, committed_only (level).")
@click.option("--producers", default=1, show_default=True, type=int, help="Shape: producers.")
@click.option("--records", default=2, show_default=True, type=int,
              help="Shape: attempts per producer (records per run per producer; 4 for the 4-live-record "
                   "delivery proof).")
@click.option("--hold", default=2, show_default=True, type=int, help="Shape: reservations held at once.")
@click.option("--max-log2", default=32, show_default=True, type=click.IntRange(4, 60),
              help="Prove for every ring size S = 2**k with 4 <= k <= this.")
@click.option("--cex-depth", default=10, show_default=True, type=click.IntRange(1, 40),
              help="Steps of the counterexample search when a property's obligation fails.")
@click.option("--k-induction", "k_ind", type=click.IntRange(1, 20), default=None,
              help="Prove by k-induction with this K instead of the inductive-invariant proof.")
@click.option("--strengthen/--no-strengthen", default=True, show_default=True,
              help="With --k-induction: prove the auxiliary invariants along with the properties and assume "
                   "them on the K states of the step case.")
@click.option("--jobs", default=os.cpu_count() or 1, show_default="the number of CPUs", type=click.IntRange(1, 256),
              help="Worker processes for the consecution queries.")
@click.option("--timeout", "timeout_s", default=600.0, show_default=True, type=click.FloatRange(1, 86400),
              help="Seconds a solver gets for one query (a query still open after it is 'unknown').")
@click.option("--round-seconds", "round_s", default=30.0, show_default=True, type=click.FloatRange(0.001, 86400),
              help="A query z3's incremental solver does not settle goes to z3's bit-blaster and Bitwuzla in turn, "
                   "in rounds this long at first and 4 times longer each round, until each has had --timeout.")
@click.option("--memory", default="sc", show_default=True,
              help="Only sc: the proofs are about a sequentially consistent machine.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def prove_cmd(**kw: object) -> None:
    """Inductive-invariant proofs for every ring size S = 2**k and every 64-bit position.

    Prints the assumptions, the named auxiliary invariants, every obligation
    (initiation; consecution per invariant, action and record case) with its
    time, and a verdict per property. A property whose obligation fails gets
    a counterexample search (BMC over the same widened system) whose trace is
    replayed in the explicit model. Exit 0 all proved, 1 some violated, 3 unknown.
    With --k-induction K: base case (K-1 steps from the initial states) and
    step case (K linked states, the first arbitrary) instead.
    """
    from checker.smt.kinduction import k_induction
    from checker.smt.prove import DELIVERY, MEMORY_SAFETY, proof_shape, prove
    from model.config import ConfigError
    from specs import get_property

    require_sc(str(kw.pop("memory")), "prove")
    if kw["k_ind"] is None and not kw["strengthen"]:
        raise UserError("prove: --no-strengthen only applies with --k-induction K")
    source = click.get_current_context().get_parameter_source("round_s")
    if kw["k_ind"] is not None and source != click.core.ParameterSource.DEFAULT:
        raise UserError("prove: --round-seconds only applies to the inductive-invariant proof, not --k-induction")
    honest = kw["consumer"] != "adversarial"
    if honest and kw["consumer"] != "level":
        raise UserError("prove: the honest-consumer proofs are for --consumer level; no invariants are built for "
                        "the edge-triggered consumer's sleep yet")
    supported = MEMORY_SAFETY + (DELIVERY if honest else ())
    props = list(kw["props"]) or list(DELIVERY if honest else MEMORY_SAFETY)
    for n in props:
        get_property(n)
    unsupported = [n for n in props if n not in supported]
    if unsupported:
        raise UserError(f"prove: no inductive proof is built for {', '.join(unsupported)} with --consumer "
                        f"{kw['consumer']}; supported: {', '.join(supported)}")
    try:
        cfg = proof_shape(str(kw["variant"]), str(kw["consumer"]), int(kw["producers"]), int(kw["records"]),
                          int(kw["hold"]))
    except ConfigError as e:
        raise UserError(str(e)) from None
    groups = [[n for n in props if n != "aligned"], [n for n in props if n == "aligned"]]
    results = []
    for group in (g for g in groups if g):
        if not kw["as_json"]:
            how = f" by k-induction, K={kw['k_ind']}" if kw["k_ind"] is not None else ""
            click.echo(f"proving {', '.join(group)}{how}: {kw['variant']}, {cfg.producers} producer(s) x "
                       f"{cfg.records} attempts, hold {cfg.hold}")
        if kw["k_ind"] is not None:
            r = k_induction(group, cfg, int(kw["k_ind"]), int(kw["max_log2"]), bool(kw["strengthen"]),
                            progress=None if kw["as_json"] else click.echo,
                            timeout_ms=int(float(kw["timeout_s"]) * 1000))
        else:
            r = prove(group, cfg, int(kw["max_log2"]), None if kw["as_json"] else click.echo,
                      cex_depth=int(kw["cex_depth"]), jobs=int(kw["jobs"]),
                      timeout_s=float(kw["timeout_s"]), round_s=float(kw["round_s"]))
        results.append(r)
        if not kw["as_json"]:
            _print_proof(r)
    if kw["as_json"]:
        click.echo(json.dumps({"runs": [r.to_dict() for r in results]}, indent=1))
    codes = [r.exit_code for r in results]
    sys.exit(1 if 1 in codes else 3 if 3 in codes else 0)


def _print_proof(r) -> None:
    click.echo("assumptions:")
    for a in r.assumptions:
        click.echo(f"  - {a}")
    click.echo("auxiliary invariants:")
    for i in r.invariants:
        click.echo(f"  - {i.name}: {i.statement}")
    click.echo(f"model digest: {r.digest}")
    done = sum(o.result == "discharged" for o in r.obligations)
    click.echo(f"obligations: {done} of {len(r.obligations)} discharged, {r.seconds:.1f}s")
    for name, verdict in r.verdicts.items():
        click.echo(f"verdict: {name}: {verdict}")
        if name in r.traces:
            click.echo(r.traces[name].format())

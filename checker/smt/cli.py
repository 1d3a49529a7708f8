"""``ringcheck bmc``, ``ringcheck prove`` and ``ringcheck crosscheck``: thin wrappers over checker.smt.

Exit codes as everywhere: 0 holds (complete) / no disagreement, 1 violated /
disagreements, 2 bad input or an encoding mismatch, 3 holds up to a bound
(for prove: some property unknown), 130 interrupted (Ctrl-C or SIGTERM; what
was settled before is printed, and with --json the object's verdict is
``interrupted``).
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import click

from checker.cli_common import with_version
from checker.cli_options import (config_from_options, config_options, max_memory_from, max_memory_option,
                                 require_sc)
from checker.interrupt import exit_interrupted
from checker.progress import Bar, progress_option
from checker.smt import require_encoded
from model.variants import variant_names


class Seconds(click.ParamType):
    """A finite number of seconds in ``(low, high]`` (click's FloatRange lets ``nan`` through)."""

    name = "seconds"

    def __init__(self, low: float = 0.0, high: float = 30 * 86400.0, low_included: bool = False) -> None:
        self.low, self.high, self.low_included = low, high, low_included

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            v = value
        else:
            try:
                v = float(str(value))
            except ValueError:
                self.fail(f"{value!r} is not a number of seconds", param, ctx)
        above = v >= self.low if self.low_included else v > self.low
        if not math.isfinite(v) or not above or v > self.high:
            low = "[" if self.low_included else "("
            self.fail(f"{value} is not a number of seconds in {low}{self.low:g}, {self.high:g}]", param, ctx)
        return v


MAX_SECONDS_HELP = ("Stop the whole run after this many seconds; what is not settled by then is reported as "
                    "unknown (bounded), never as holding.")


class UserError(click.ClickException):
    """A one-line error for the user, exit code 2 (``checker.cli.UserError``, which imports this module)."""

    exit_code = 2


def _check_out(path: object, force: object) -> None:
    from checker.cli_common import check_output_path

    if path:
        check_output_path(str(path), bool(force))


@click.command("bmc")
@config_options
@click.option("--property", "prop", required=True, help="The property to look for a violation of.")
@click.option("--depth", required=True, type=click.IntRange(0, 200), help="Steps to unroll.")
@click.option("--start", default="0", show_default=True, help="Initial value of every position (u64).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--trace-out", help="Write the counterexample trace (JSON) to this file.")
@click.option("--force", is_flag=True, help="Overwrite --trace-out if it exists.")
@click.option("--max-seconds", type=Seconds(), default=None, help=MAX_SECONDS_HELP)
@progress_option
def bmc_cmd(**kw: object) -> None:
    """Bounded model checking with z3; a counterexample is replayed in the explicit model."""
    from checker.cli import emit_verdict
    from checker.smt.bmc import ReplayMismatch, bmc
    from specs import get_property

    cfg = config_from_options(kw)
    require_sc(cfg.memory, "bmc")
    require_encoded(cfg, "bmc")
    _require_map(get_property(str(kw["prop"])), cfg, "bmc")
    start = _parse_u64(str(kw["start"]), "start")
    _check_out(kw["trace_out"], kw["force"])

    bar = Bar("bmc", total=int(kw["depth"]) + 1, enabled=kw["progress"], unit="depth")

    def progress(k: int, res: object, sec: float) -> None:
        bar.step()
        bar.note(f"depth {k}: {res} ({sec:.2f}s)")

    try:
        with bar:
            if cfg.map == "user":
                from checker.smt.user.bmc import bmc_user

                result = bmc_user(cfg, str(kw["prop"]), int(kw["depth"]), start, progress=progress,
                                  max_seconds=kw["max_seconds"])
            else:
                result = bmc(cfg, str(kw["prop"]), int(kw["depth"]), start, progress, max_seconds=kw["max_seconds"])
    except ReplayMismatch as e:
        raise UserError(f"z3 trace does not replay in the explicit model: {e}") from None
    v = result.verdict
    emit_verdict(v, bool(kw["as_json"]))
    if kw["trace_out"] and v.trace is not None:
        from checker.cli_common import write_output_keeping_verdict

        write_output_keeping_verdict(str(kw["trace_out"]), json.dumps(v.trace.to_dict(), indent=1) + "\n",
                                     bool(kw["force"]), "trace")
    if v.kind == "interrupted":
        exit_interrupted(str(v.reason))
    sys.exit(v.exit_code)


def _require_map(p, cfg, command: str) -> None:
    """Refuse, in one line, a property that is not stated for the configuration's map type."""
    if cfg.map not in p.maps:
        from specs import all_properties

        names = ", ".join(q.name for q in all_properties(cfg))
        raise UserError(f"{command}: {p.name} is a property of map {', '.join(p.maps)}, not of map {cfg.map} "
                        f"(its properties: {names})")


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
@click.option("--max-seconds", type=Seconds(), default=None,
              help="Stop after this many seconds in all; the report then counts the states checked (exit 3 "
                   "when no disagreement was found in them).")
@max_memory_option
@progress_option
@click.pass_context
def crosscheck_cmd(ctx: click.Context, **kw: object) -> None:
    """Explicit model vs SMT encoding: properties (a), transitions (b), successor sets (c).

    On every reachable state (unless sampling is asked for). With no configuration
    option, a default set of small configurations covering every variant and
    consumer (some reaching violations); with any, that one.
    """
    from checker.cli_options import CONFIG_KEYS
    from checker.smt.crosscheck import crosscheck, default_configs

    given = any(ctx.get_parameter_source(k) != click.core.ParameterSource.DEFAULT for k in CONFIG_KEYS
                if k != "map")
    cfg = config_from_options(kw)
    require_sc(cfg.memory, "crosscheck")
    require_encoded(cfg, "crosscheck")
    if cfg.map == "user":
        _crosscheck_user(ctx, cfg, given, kw)
    configs = [cfg] if given else default_configs()
    sample = {k: None if kw[k] is None else int(str(kw[k])) for k in ("states", "successor_states")}
    reports = []
    from checker.memory import MemoryBudget
    from checker.smt import budget

    memory = MemoryBudget(max_memory_from(kw["max_memory"]))

    bar = Bar("crosscheck", enabled=kw["progress"], unit="state")
    with bar, budget.run_limit(kw["max_seconds"]):
        for c in configs:
            try:
                rep = crosscheck(c, sample["states"], sample["successor_states"], int(kw["seed"]), bar=bar,
                                 memory=memory)
            except ValueError as e:
                raise UserError(str(e)) from None
            reports.append(rep)
            if not kw["as_json"]:
                bar.echo(rep.line())
                for d in rep.disagreements:
                    bar.echo("  disagreement " + d.format(c))
            if rep.cut_short:
                break
    total = sum(len(r.disagreements) for r in reports)
    stopped = next((r for r in reports if r.cut_short), None)
    not_run = len(configs) - len(reports)
    verdict = ("interrupted" if stopped and stopped.interrupted else "disagreements" if total else
               "bounded" if stopped else "agree")
    if kw["as_json"]:
        click.echo(json.dumps(with_version({"verdict": verdict, "disagreements": total,
                                            "cut_short": stopped.cut_short if stopped else None,
                                            "configs_not_run": not_run,
                                            "configs": [r.to_dict() for r in reports]}), indent=1))
    else:
        sampled = any(r.sampled for r in reports)
        click.echo(f"{len(reports)} configurations, {total} disagreements"
                   + (f" on the states checked before the run was {stopped.cut_short}" if stopped and
                      stopped.interrupted else
                      f" on the states checked before the run stopped at {stopped.cut_short}" if stopped else
                      " (on the sampled states listed above, not on every reachable state)" if sampled else
                      " on every reachable state")
                   + (f"; {not_run} configurations not run" if not_run else ""))
    if stopped and stopped.interrupted:
        exit_interrupted(stopped.interrupted)
    sys.exit(1 if total else 3 if stopped else 0)


def _crosscheck_user(ctx: click.Context, cfg, given: bool, kw: dict) -> None:
    """``crosscheck --map user``: every reachable state of the given user configuration, or of the default ones."""
    from checker.smt import budget
    from checker.smt.user.crosscheck import crosscheck_user, default_user_configs

    for name in ("states", "successor_states", "max_memory"):
        if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT:
            raise UserError(f"crosscheck: --{name.replace('_', '-')} is not supported with --map user "
                            "(its configurations are checked on every reachable state)")
    configs = [cfg] if given else default_user_configs()
    reports = []
    with budget.run_limit(kw["max_seconds"]):
        for c in configs:
            try:
                rep = crosscheck_user(c)
            except ValueError as e:
                raise UserError(str(e)) from None
            reports.append(rep)
            if not kw["as_json"]:
                click.echo(rep.line())
                for d in rep.disagreements:
                    click.echo("  disagreement " + d.format(c))
            if rep.cut_short:
                break
    total = sum(len(r.disagreements) for r in reports)
    stopped = next((r for r in reports if r.cut_short), None)
    verdict = ("interrupted" if stopped and stopped.interrupted else "disagreements" if total else
               "bounded" if stopped else "agree")
    if kw["as_json"]:
        click.echo(json.dumps(with_version({"verdict": verdict, "disagreements": total,
                                            "cut_short": stopped.cut_short if stopped else None,
                                            "configs_not_run": len(configs) - len(reports),
                                            "configs": [r.to_dict() for r in reports]}), indent=1))
    else:
        click.echo(f"{len(reports)} configurations, {total} disagreements"
                   + (f" on the states checked before the run stopped at {stopped.cut_short}" if stopped else
                      " on every reachable state"))
    if stopped and stopped.interrupted:
        exit_interrupted(stopped.interrupted)
    sys.exit(1 if total else 3 if stopped else 0)


@click.command("prove")
@click.option("--variant", default="v6.10", show_default=True,
              help=f"Kernel behaviour: {', '.join(variant_names())} (no NMI in proofs, so v6.15's lock "
                   "never fails there).")
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
@click.option("--timeout", "timeout_s", default=600.0, show_default=True, type=Seconds(1, 86400, low_included=True),
              help="Seconds one obligation gets in all, every solver it tries included (one still open after "
                   "it is 'unknown'); also each depth of a counterexample search.")
@click.option("--max-seconds", type=Seconds(), default=None, help=MAX_SECONDS_HELP)
@click.option("--round-seconds", "round_s", default=30.0, show_default=True, type=Seconds(0.001, 86400, True),
              help="A query z3's incremental solver does not settle goes to z3's bit-blaster and Bitwuzla in turn, "
                   "in rounds this long at first and 4 times longer each round, until each has had --timeout.")
@click.option("--memory", default="sc", show_default=True,
              help="Only sc: the proofs are about a sequentially consistent machine.")
@click.option("--map", "map_", default="ringbuf", show_default=True, type=click.Choice(["ringbuf", "user"]),
              help="user: the user ring buffer's kernel-side safety (docs/user-ringbuf.md).")
@click.option("--user-producer", default="adversarial", show_default=True, type=click.Choice(["adversarial", "libbpf"]),
              help="--map user: who writes the ring (hostile user space, or libbpf's producer).")
@click.option("--drains", default=2, show_default=True, type=click.IntRange(1, 2),
              help="--map user: BPF programs draining at once.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@progress_option
def prove_cmd(**kw: object) -> None:
    """Inductive-invariant proofs for every ring size S = 2**k and every 64-bit position.

    Prints the assumptions, the named auxiliary invariants, every obligation
    (initiation; consecution per invariant, action and record case) with its
    time, and a verdict per property. A property whose obligation fails gets
    a counterexample search (BMC over the same widened system) whose trace is
    replayed in the explicit model. Exit 0 all proved, 1 some violated, 3 unknown
    (also when --max-seconds ends the run), 130 interrupted (what was settled
    is printed). With --k-induction K: base case (K-1 steps from the initial
    states) and step case (K linked states, the first arbitrary) instead.
    """
    from checker.smt.kinduction import k_induction
    from checker.smt.prove import DELIVERY, MEMORY_SAFETY, OVERWRITE_SAFETY, proof_shape, prove
    from model.config import ConfigError
    from model.variants import rules_of
    from specs import get_property

    require_sc(str(kw.pop("memory")), "prove")
    if kw["map_"] == "user":
        _prove_user(kw)
    for name in ("user_producer", "drains"):
        if click.get_current_context().get_parameter_source(name) != click.core.ParameterSource.DEFAULT:
            raise UserError(f"prove: --{name.replace('_', '-')} only applies with --map user")
    if kw["k_ind"] is None and not kw["strengthen"]:
        raise UserError("prove: --no-strengthen only applies with --k-induction K")
    source = click.get_current_context().get_parameter_source("round_s")
    if kw["k_ind"] is not None and source != click.core.ParameterSource.DEFAULT:
        raise UserError("prove: --round-seconds only applies to the inductive-invariant proof, not --k-induction")
    honest = kw["consumer"] != "adversarial"
    if honest and kw["consumer"] != "level":
        raise UserError("prove: the honest-consumer proofs are for --consumer level; no invariants are built for "
                        "the edge-triggered consumer's sleep yet")
    safety = MEMORY_SAFETY
    if rules_of(str(kw["variant"])).overwrite:
        if honest:
            raise UserError("prove: overwrite mode's proofs are for --consumer adversarial (its consumers are "
                            "checked by the explicit engine: docs/overwrite.md)")
        safety = OVERWRITE_SAFETY
    supported = safety + (DELIVERY if honest else ())
    props = list(kw["props"]) or list(DELIVERY if honest else safety)
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
    from checker.smt import budget

    groups = [[n for n in props if n != "aligned"], [n for n in props if n == "aligned"]]
    results = []
    bar = Bar("prove", enabled=kw["progress"], unit="case")
    say = None if kw["as_json"] else bar.echo
    with bar, budget.run_limit(kw["max_seconds"]):
        for group in (g for g in groups if g):
            if say:
                how = f" by k-induction, K={kw['k_ind']}" if kw["k_ind"] is not None else ""
                say(f"proving {', '.join(group)}{how}: {kw['variant']}, {cfg.producers} producer(s) x "
                    f"{cfg.records} attempts, hold {cfg.hold}")
            if kw["k_ind"] is not None:
                r = k_induction(group, cfg, int(kw["k_ind"]), int(kw["max_log2"]), bool(kw["strengthen"]),
                                progress=say, timeout_ms=int(float(kw["timeout_s"]) * 1000), bar=bar)
            else:
                r = prove(group, cfg, int(kw["max_log2"]), say, cex_depth=int(kw["cex_depth"]),
                          jobs=int(kw["jobs"]), timeout_s=float(kw["timeout_s"]), round_s=float(kw["round_s"]),
                          bar=bar)
            results.append(r)
            if say:
                _print_proof(r, say)
            if r.interrupted:
                break
    if kw["as_json"]:
        click.echo(json.dumps(with_version({"verdict": _overall(results), "runs": [r.to_dict() for r in results]}),
                              indent=1))
    stopped = next((r.interrupted for r in results if r.interrupted), None)
    if stopped:
        exit_interrupted(stopped)
    sys.exit({"violated": 1, "holds": 0}.get(_overall(results), 3))


USER_SAFETY = ("user_sample_bounds", "user_validated_advance", "user_exclusive_drain", "user_dynptr_fits",
               "user_aligned_prod")
"""The user ring properties with an inductive proof (the kernel side); the delivery ones are checked explicitly."""


def _prove_user(kw: dict) -> None:
    """``prove --map user``: the kernel-side safety properties for every S = 2**k (``checker.smt.user.prove``)."""
    from checker.smt import budget
    from checker.smt.user.prove import prove_user, user_proof_shape
    from model.config import ConfigError
    from specs import get_property

    ctx = click.get_current_context()
    for name in ("variant", "consumer", "producers", "k_ind", "strengthen", "jobs", "round_s"):
        if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT:
            flag = {"k_ind": "k-induction", "round_s": "round-seconds"}.get(name, name)
            raise UserError(f"prove: --{flag} does not apply with --map user (one user producer, the v6.10 drain, "
                            "the inductive-invariant proof in one process)")
    props = list(kw["props"]) or list(USER_SAFETY)
    for n in props:
        get_property(n)
    other = [n for n in props if n not in USER_SAFETY]
    if other:
        raise UserError(f"prove: no inductive proof is built for {', '.join(other)} with --map user; supported: "
                        f"{', '.join(USER_SAFETY)} (the delivery properties are checked complete by ringcheck check "
                        "--map user)")
    try:
        cfg = user_proof_shape(str(kw["user_producer"]), int(kw["drains"]), int(kw["records"]), int(kw["hold"]))
    except ConfigError as e:
        raise UserError(str(e)) from None
    say = None if kw["as_json"] else click.echo
    if say:
        shape = "" if cfg.hostile else f", libbpf {cfg.records} attempts, hold {cfg.hold}"
        say(f"proving {', '.join(props)}: map user, {cfg.user_producer} producer, {cfg.drains} drain(s){shape}")
    with budget.run_limit(kw["max_seconds"]):
        r = prove_user(props, cfg, int(kw["max_log2"]), progress=say, timeout_s=float(kw["timeout_s"]),
                       cex_depth=int(kw["cex_depth"]), max_seconds=kw["max_seconds"])
    if say:
        _print_proof(r, say)
    if kw["as_json"]:
        click.echo(json.dumps(with_version({"verdict": r.verdict, "runs": [r.to_dict()]}), indent=1))
    if r.interrupted:
        exit_interrupted(r.interrupted)
    sys.exit(r.exit_code)


def _overall(results: list) -> str:
    """The verdict of all the runs of one ``prove``: interrupted, violated, holds, else unknown."""
    verdicts = [r.verdict for r in results]
    for word in ("interrupted", "violated"):
        if word in verdicts:
            return word
    return "holds" if verdicts and all(v == "holds" for v in verdicts) else "unknown"


def _print_proof(r, echo=click.echo) -> None:
    echo("assumptions:")
    for a in r.assumptions:
        echo(f"  - {a}")
    echo("auxiliary invariants:")
    for i in r.invariants:
        echo(f"  - {i.name}: {i.statement}")
    if r.digest:  # k-induction records no digest (it is not a kept proof): no empty line then
        echo(f"model digest: {r.digest}")
    done = sum(o.result == "discharged" for o in r.obligations)
    echo(f"obligations: {done} of {len(r.obligations)} discharged, {r.seconds:.1f}s")
    if r.interrupted or r.bound:
        why = f"interrupted by {r.interrupted}" if r.interrupted else f"stopped at {r.bound}"
        echo(f"run cut short: {why} after {r.seconds:.1f}s, {len(r.obligations)} obligations settled "
             "before it (listed above)")
    for name, verdict in r.verdicts.items():
        echo(f"verdict: {name}: {verdict}")
        if name in r.traces:
            echo(r.traces[name].format())

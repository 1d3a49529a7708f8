"""``ringcheck conform --concurrent``: the scheduler from the command line.

Called by `checker.conformance.cli.conform_cmd` when ``--concurrent`` is
given; a thin layer over `explore.explore`, `explore.random_runs` and a
schedule file's exact replay. Exit codes as for ``conform``: 0 conforms
(complete), 1 fails, 2 bad input, 3 conforms up to a bound.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from checker.cli_common import UserError, write_new_file
from checker.conformance.concurrent.explore import (FAILS, ConcurrentResult, Failure, Setup, Stats, explore,
                                                    random_runs, replay, run_to_end)
from checker.conformance.concurrent.mutants import CONCURRENT_MUTANTS, MUTANT_SETUPS
from checker.conformance.concurrent.reference import make_concurrent_reference
from checker.conformance.concurrent.report import (FORMATS, ScheduleError, export_failure, format_failure,
                                                   read_schedule, result_to_dict)
from checker.conformance.concurrent.scenario import SCENARIOS, Scenario, ScenarioError
from checker.conformance.guard import DEFAULT_CALL_TIMEOUT, AdapterGuard, CallTimedOut, check_call_timeout
from model.memory import MODELS

DEFAULT_SCENARIOS = ("two-producers", "produce-consume")
"""What ``--concurrent`` checks without ``--scenario`` (``mixed`` is bigger: name it)."""


def scenarios_from(spec: str | None) -> list[Scenario]:
    """``name[,name...]``, ``all``, or a JSON file holding one scenario (`Scenario.to_dict`)."""
    if not spec:
        return [SCENARIOS[n] for n in DEFAULT_SCENARIOS]
    if spec == "all":
        return list(SCENARIOS.values())
    if spec.endswith(".json"):
        try:
            return [Scenario.from_dict(json.loads(Path(spec).read_text(encoding="utf-8")))]
        except OSError as e:
            raise UserError(f"--scenario {spec}: {e.strerror}") from None
        except (json.JSONDecodeError, ScenarioError) as e:
            raise UserError(f"--scenario {spec}: {e}") from None
    out = []
    for name in spec.split(","):
        if name not in SCENARIOS:
            raise UserError(f"--scenario {name!r} is not one of {', '.join(SCENARIOS)}, all, or a .json file")
        out.append(SCENARIOS[name])
    return out


def run_concurrent(factory: Any, variant: str, kw: dict) -> int:
    """Everything ``--concurrent`` does; returns the exit code."""
    memory = str(kw.get("memory") or "sc")
    if memory not in MODELS:
        raise UserError(f"--memory {memory!r} is not one of {', '.join(MODELS)}")
    fmt = str(kw["fmt"])
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r}: a concurrent failure is written as {' or '.join(FORMATS)}")
    if factory is None:
        factory = make_concurrent_reference
    if kw.get("mutants"):
        return _mutants()
    guard = AdapterGuard(factory, check_call_timeout(kw.get("call_timeout", DEFAULT_CALL_TIMEOUT)))
    try:
        results = guard.run(lambda: _run_all(factory, variant, memory, kw, guard))
    except CallTimedOut as t:
        raise UserError(f"the implementation was stopped: {t} (--call-timeout)") from None
    for r in results:
        emit(r, bool(kw["as_json"]))
    failed = next((r for r in results if r.failure is not None), None)
    out = kw.get("divergence_out")
    if out and failed is not None:
        assert failed.failure is not None
        write_new_file(str(out), export_failure(failed.setup, failed.failure, fmt), True)
        click.echo(f"failing schedule written to {out}", err=True)
    return max(r.exit_code for r in results)


def _run_all(factory: Any, variant: str, memory: str, kw: dict, guard: AdapterGuard) -> list[ConcurrentResult]:
    """The schedule's replay or the scenarios' searches, in the guard's worker thread (every call timed)."""
    if kw.get("schedule"):
        return [_replay(factory, str(kw["schedule"]), guard)]
    results = []
    for scenario in scenarios_from(kw.get("scenario")):
        setup = Setup(factory, scenario, variant, memory, int(kw.get("buffer") or 2),
                      int(kw.get("history") or 3), guard=guard)
        _check_factory(setup)
        if kw.get("random"):
            r = random_runs(setup, int(kw["random"]), int(kw["seed"]), kw.get("preemptions"))
        else:
            r = explore(setup, kw.get("preemptions"), kw.get("max_states"), kw.get("timeout"))
        results.append(r)
        if r.kind == FAILS:
            break
    return results


def _check_factory(setup: Setup) -> None:
    try:
        if setup.guard is not None:
            setup.guard.invoke("factory", setup.factory, (setup.scenario.ring_size, setup.variant))
        else:
            setup.factory(setup.scenario.ring_size, setup.variant)
    except Exception as e:  # noqa: BLE001
        what = str(e).removeprefix("factory: ") if setup.guard is not None else f"{type(e).__name__}: {e}"
        raise UserError(f"the factory cannot build a {setup.variant} ring of {setup.scenario.ring_size} bytes: "
                        f"{what}") from None


def _replay(factory: Any, path: str, guard: AdapterGuard | None = None) -> ConcurrentResult:
    try:
        setup, schedule = read_schedule(Path(path).read_text(encoding="utf-8"), factory)
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}") from None
    except (ScheduleError, ScenarioError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: {e}") from None
    if setup.memory not in MODELS:
        raise UserError(f"{path}: memory {setup.memory!r} is not one of {', '.join(MODELS)}")
    if guard is not None:
        from dataclasses import replace

        setup = replace(setup, guard=guard)
    _check_factory(setup)
    try:
        ex = replay(setup, schedule)
    except ValueError as e:
        raise UserError(f"{path}: {e}") from None
    stats = Stats(states=0, schedules=1, steps=len(schedule))
    if ex.choices(None):
        raise UserError(f"{path}: the schedule stops after {len(schedule)} steps, before the run ends")
    v = run_to_end(ex, setup.variant)
    if v is None:
        return ConcurrentResult(setup, "conforms", stats, method="replay")
    return ConcurrentResult(setup, FAILS, stats, Failure(v, schedule, ex), method="replay")


def emit(r: ConcurrentResult, as_json: bool) -> None:
    """One result as text (with the failing schedule's trace) or one JSON object."""
    if as_json:
        click.echo(json.dumps(result_to_dict(r), indent=1))
        return
    s, st = r.setup, r.stats
    click.echo(f"scenario: {s.scenario.name} ({s.scenario.describe()})")
    click.echo(f"setup:    {s.variant} S={s.scenario.ring_size}, memory {s.memory}, method {r.method}")
    click.echo(f"stats:    {st.states} states, {st.schedules} complete schedules judged, {st.steps} accesses run, "
               f"{st.seconds:.2f}s ({st.cpu_seconds:.2f}s CPU)")
    click.echo(f"verdict:  {r.headline()}")
    if r.failure is not None:
        click.echo(format_failure(s, r.failure))


def _mutants() -> int:
    """Every concurrent mutant in its scenario and memory model: each must fail (a table)."""
    missed = 0
    click.echo(f"{'mutant':24} {'scenario':16} {'memory':6} {'states':>7} failure")
    for name, factory in CONCURRENT_MUTANTS.items():
        scenario, memory = MUTANT_SETUPS[name]
        r = explore(Setup(factory, SCENARIOS[scenario], "v6.10", memory))
        missed += r.failure is None
        text = f"{r.failure.violation.prop}: {r.failure.violation.message}" if r.failure else "NOT CAUGHT"
        click.echo(f"{name:24} {scenario:16} {memory:6} {r.stats.states:>7} {text}")
    click.echo(f"{len(CONCURRENT_MUTANTS) - missed}/{len(CONCURRENT_MUTANTS)} caught")
    return 0 if missed == 0 else 1



"""``ringcheck conform --map user``: lockstep of a user ring implementation against the model.

Registered by one line in ``checker.conformance.cli``: with ``--map user`` the
conform command hands its options here. ``--impl`` names a ``UserFactory``
(default: the bundled reference); ``--max-states`` and ``--timeout`` bound the
walk; ``--mutants`` runs every bundled mutant on the standard user ring
configurations and exits 1 unless each diverges; ``--json`` prints one object.
"""

from __future__ import annotations

import json

import click

from checker.cli_common import UserError, with_version
from checker.conformance.user.lockstep import DIVERGES, UserConformance, check_user_lockstep
from checker.conformance.user.mutants import MUTANTS
from checker.conformance.user.reference import make_reference
from model.config import MAX_USER_RINGBUF_SAMPLES, Config

STANDARD_USER = {
    "user/libbpf/S32": Config(map="user", ring_size=32, records=2, hold=2, sizes=(0, 8), discard=True,
                              wakeup_flags=True),
    "user/adversarial/S16": Config(map="user", ring_size=16, user_producer="adversarial", sizes=(8,)),
}
"""The user ring configurations the mutation score runs (each mutant must diverge in one)."""

_NOT_FOR_USER = ("reopen", "warmup", "trace", "record", "standard", "concurrent", "divergence_out", "scenario",
                 "preemptions", "random", "schedule")


def _refuse_other_modes(kw: dict) -> None:
    for name in _NOT_FOR_USER:
        if kw.get(name):
            raise UserError(f"--{name.replace('_', '-')}: not available with --map user (lockstep, --impl, "
                            "--max-states, --timeout, --mutants and --json are)")
    if kw.get("method", "lockstep") != "lockstep":
        raise UserError("--method: the user ring is checked by lockstep only")


def emit(r: UserConformance, as_json: bool) -> None:
    """A result as text (with the divergence) or as one JSON object."""
    if as_json:
        click.echo(json.dumps(with_version(r.to_dict()), indent=1))
        return
    click.echo(f"config:   {r.config.describe()}")
    click.echo("method:   lockstep (every call of the model's operation graph)")
    click.echo(f"stats:    {r.states} model states, {r.transitions} calls compared, {r.calls} adapter calls, "
               f"depth {r.depth}, {r.seconds:.2f}s")
    click.echo(f"verdict:  {r.headline()}")
    if r.divergence is not None:
        click.echo(r.divergence.format())


def mutation_score() -> int:
    """Every mutant on every standard user configuration; 0 when each mutant diverges somewhere."""
    click.echo(f"{'mutant':20} {'verdict':10} first divergence")
    missed = 0
    for name, cls in MUTANTS.items():
        found = None
        for config in STANDARD_USER.values():
            r = check_user_lockstep(cls, config)
            if r.kind == DIVERGES:
                found = r
                break
        missed += found is None
        click.echo(f"{name:20} {'caught' if found else 'MISSED':10} "
                   f"{found.divergence.headline() if found and found.divergence else ''}")
    return 1 if missed else 0


def run_user(cfg: Config, kw: dict, load_factory) -> int:
    """The conform command for ``--map user``; returns the exit code."""
    _refuse_other_modes(kw)
    if kw.get("mutants"):
        return mutation_score()
    if cfg.drain_limit != MAX_USER_RINGBUF_SAMPLES:
        raise UserError("--drain-limit: an implementation drains at most the kernel's 131072 samples a call; "
                        "conform checks that limit only")
    factory = load_factory(str(kw["impl"])) if kw.get("impl") else make_reference
    try:
        r = check_user_lockstep(factory, cfg, kw.get("max_states"), kw.get("timeout"))
    except ValueError as e:
        raise UserError(f"the implementation refused the configuration: {e}") from None
    emit(r, bool(kw.get("as_json")))
    return r.exit_code

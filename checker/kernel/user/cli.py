"""``ringcheck kernel diff --map user``, and the probe's line about the user ring buffer.

``checker.kernel.cli`` parses the options and hands a ``--map user`` run to
``user_diff``.  Exit codes as for the kernel ring: 0 agrees, 1 a
disagreement, 2 bpf() or the user ring unusable here (one line), 130
interrupted.
"""

from __future__ import annotations

import json
import sys

import click

from checker.cli_common import hypothesis_home_in_temp, with_version
from checker.interrupt import exit_interrupted
from checker.kernel.bpf import BpfError, BpfUnavailable
from checker.progress import Bar


class UserRingUnusable(click.ClickException):
    """bpf(), the user ring map or libbpf's user producer is not usable here: one line, exit code 2."""

    exit_code = 2


def user_ring_available() -> tuple[bool, str]:
    """(True, line) if a user ring map can be created and drained by a program here, else (False, reason)."""
    from checker.kernel.user.drain import DrainRecorder
    from checker.kernel.user.usermap import UserRingMap

    try:
        with DrainRecorder() as recorder, UserRingMap(0x1000) as ring, recorder.program(ring) as drain:
            ret = drain.run().ret
    except BpfUnavailable as refused:
        return False, str(refused)
    except (BpfError, OSError) as failed:
        return False, f"user ring buffer unusable: {str(failed).splitlines()[0]}"
    return True, (f"user ring buffer: available (BPF_MAP_TYPE_USER_RINGBUF mapped, a bpf_user_ringbuf_drain "
                  f"program with a callback ran on the empty ring and returned {ret})")


def probe_line() -> str:
    """The one line ``ringcheck kernel probe`` can print about the user ring buffer."""
    ok, text = user_ring_available()
    return text if ok else f"user ring buffer: not usable here ({text})"


def user_diff(scripts: int, seed: int, producer: str, as_json: bool, progress: bool | None) -> None:
    """Run ``scripts`` generated user ring scenarios on the kernel and the model; exit with the verdict."""
    ok, reason = user_ring_available()
    if not ok:
        raise UserRingUnusable(f"cannot use the kernel's user ring buffer here: {reason}")
    if producer == "libbpf":
        from checker.kernel.user.producer import libbpf_user_available

        ok, reason = libbpf_user_available()
        if not ok:
            raise UserRingUnusable(reason)
    try:
        from checker.kernel.user.campaign import run_user_campaign
    except ImportError as missing:
        raise UserRingUnusable(f"kernel diff needs hypothesis ({missing}); pip install hypothesis") from None
    try:
        with hypothesis_home_in_temp():
            with Bar("kernel diff --map user", total=scripts, enabled=progress, unit="script") as bar:
                result = run_user_campaign(scripts, seed, producer, progress=lambda r: bar.to(r.scripts))
    except BpfUnavailable as refused:
        raise UserRingUnusable(f"cannot use the kernel's user ring buffer here: {refused}") from None
    if as_json:
        click.echo(json.dumps(with_version(result.to_dict()), indent=1))
    else:
        click.echo(result.summary())
        click.echo(result.coverage())
        if result.minimal is not None:
            click.echo("first disagreement, shrunk by hypothesis:" if result.shrunk else
                       "first disagreement, as found (the signal cut the shrinking short):")
            click.echo(result.minimal.format())
    if result.interrupted:
        exit_interrupted(result.interrupted)
    sys.exit(result.exit_code)

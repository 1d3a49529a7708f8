"""``ringcheck kernel probe`` and ``ringcheck kernel diff``: the live kernel against the model.

Exit codes: 0 the kernel agrees (probe: classified), 1 a disagreement, 2 when
bpf() cannot be used here or the input is bad; the reason is one line.
"""

from __future__ import annotations

import json
import sys

import click

from checker.cli_common import (check_output_path, hypothesis_home_in_temp, with_version,
                                write_output_keeping_verdict)
from checker.interrupt import exit_interrupted
from checker.kernel.bpf import BpfUnavailable, kernel_available
from checker.progress import Bar, progress_option
from model.variants import V6_10, rules_of, variant_names

VARIANTS = tuple(v for v in variant_names() if not rules_of(v).overwrite)
"""Overwrite mode (BPF_F_RB_OVERWRITE) is not in this machine's kernel (6.18): docs/overwrite.md."""

SAFE_VARIANT = V6_10.name
"""Named in messages: the oldest variant with both CVE fixes."""


def safe_for_scenarios(variant: str) -> bool:
    """Generated scenarios cannot corrupt this kernel: it refuses both CVE shapes (asked of the rules)."""
    rules = rules_of(variant)
    return rules.checks_record_size and rules.pending_scan


class KernelUnusable(click.ClickException):
    """bpf() is refused here, or the run would be unsafe: one line, exit code 2."""

    exit_code = 2


def _require_kernel() -> None:
    available, reason = kernel_available()
    if not available:
        raise KernelUnusable(f"cannot use the kernel's ring buffer here: {reason}")


def _probe():
    from checker.kernel.probe import probe

    try:
        return probe()
    except BpfUnavailable as refused:
        raise KernelUnusable(f"cannot use the kernel's ring buffer here: {refused}") from None


@click.group("kernel")
def kernel_group() -> None:
    """Compare the running Linux kernel's BPF ring buffer with the model."""


@kernel_group.command("probe")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def probe_cmd(as_json: bool) -> None:
    """Classify the running kernel (v5.8, v5.13 or v6.10) by how it treats the two CVE scenarios.

    Also names the variant the release indicates (v6.15, the rqspinlock, from 6.15 on), what
    was observed of the lock and what cannot be (no NMI under PROG_TEST_RUN, no contention).
    """
    _require_kernel()
    result = _probe()
    from checker.kernel.user.cli import probe_line
    user_ring = probe_line()
    if as_json:
        click.echo(json.dumps(with_version({"variant": result.variant, "oversize_accepted": result.oversize_accepted,
                                            "overlap_accepted": result.overlap_accepted,
                                            "evidence": list(result.evidence), "release": result.release,
                                            "indicated": result.indicated, "lock": list(result.lock),
                                            "user_ring": user_ring}),
                              indent=1))
    else:
        click.echo(result.report())
        click.echo(user_ring)


@kernel_group.command("diff")
@click.option("--scripts", default=1000, show_default=True, type=click.IntRange(1, 10_000_000),
              help="How many scenarios to generate and run.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the scenario generator.")
@click.option("--consumer", default="python", show_default=True, type=click.Choice(["python", "libbpf"]),
              help="Consumer on the kernel side: the Python libbpf algorithm or libbpf.so.1 itself.")
@click.option("--variant", type=click.Choice(list(VARIANTS)),
              help="Model to compare with (default: the variant the probe detects).")
@click.option("--unsafe", is_flag=True,
              help=f"Run even if the kernel does not behave like {SAFE_VARIANT} (scenarios may corrupt its memory).")
@click.option("--memory", default="sc", show_default=True,
              help="Only sc: the kernel is compared with the sequentially consistent model.")
@click.option("--map", "map_type", default="ringbuf", show_default=True, type=click.Choice(["ringbuf", "user"]),
              help="The kernel ring (kernel producers, a user consumer) or the user ring (a user producer, "
                   "bpf_user_ringbuf_drain).")
@click.option("--producer", default="python", show_default=True, type=click.Choice(["python", "libbpf"]),
              help="--map user: the user producer, libbpf's algorithm in Python or libbpf.so.1 itself.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--trace-out", help="Write the model trace of a disagreement (ringcheck-trace/1 JSON) to this file.")
@click.option("--force", is_flag=True, help="Overwrite --trace-out if it exists.")
@progress_option
def diff_cmd(scripts: int, seed: int, consumer: str, variant: str | None, unsafe: bool, memory: str,
             map_type: str, producer: str, as_json: bool, trace_out: str | None, force: bool,
             progress: bool | None) -> None:
    """Run generated scenarios on the kernel and on the model; report the first disagreement, shrunk."""
    from checker.cli_options import require_sc

    require_sc(memory, "kernel diff")
    if map_type == "user":
        from checker.kernel.user.cli import user_diff

        if consumer != "python" or variant or unsafe or trace_out:
            raise KernelUnusable("--consumer, --variant, --unsafe and --trace-out are for --map ringbuf")
        user_diff(scripts, seed, producer, as_json, progress)
    if producer != "python":
        raise KernelUnusable("--producer is for --map user (the kernel ring's producers are BPF programs)")
    if trace_out:
        check_output_path(trace_out, force)
    _require_kernel()
    try:
        from checker.kernel.campaign import run_campaign
    except ImportError as missing:
        raise KernelUnusable(f"kernel diff needs hypothesis ({missing}); pip install hypothesis") from None
    if consumer == "libbpf":
        from checker.kernel.libbpf import libbpf_available

        ok, reason = libbpf_available()
        if not ok:
            raise KernelUnusable(reason)
    probed = _probe()
    if not safe_for_scenarios(probed.variant) and not unsafe:
        raise KernelUnusable(f"the kernel behaves like {probed.variant}, not {SAFE_VARIANT}: generated scenarios "
                             "could overlap reservations and corrupt kernel memory; pass --unsafe to run anyway")
    try:
        with hypothesis_home_in_temp():
            with Bar("kernel diff", total=scripts, enabled=progress, unit="script") as bar:
                result = run_campaign(scripts, seed, variant or probed.variant, consumer,
                                      progress=_campaign_progress(bar))
    except BpfUnavailable as refused:
        raise KernelUnusable(f"cannot use the kernel's ring buffer here: {refused}") from None
    if as_json:
        data = result.to_dict()
        data["probed_variant"] = probed.variant
        click.echo(json.dumps(with_version(data), indent=1))
    else:
        click.echo(f"probe: kernel behaves like {probed.variant}")
        click.echo(result.summary())
        if result.minimal is not None:
            click.echo("first disagreement, shrunk by hypothesis:" if result.shrunk else
                       "first disagreement, as found (the signal cut the shrinking short):")
            click.echo(result.minimal.format())
    if trace_out and result.minimal is not None:
        write_output_keeping_verdict(trace_out, json.dumps(result.minimal.trace.to_dict(), indent=1) + "\n",
                                     force, "trace")
    if result.interrupted:
        exit_interrupted(result.interrupted)
    sys.exit(result.exit_code)


def _campaign_progress(bar: Bar):
    """A ``run_campaign`` progress callback moving ``bar`` to the scripts run."""

    def show(result) -> None:
        bar.to(result.scripts)
        bar.note(f"{result.compared:,} operations compared" + (", shrinking" if result.disagreements else ""))

    return show

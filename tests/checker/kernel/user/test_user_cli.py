"""``ringcheck kernel diff --map user``: summary, JSON, options refused with it and without it."""

from __future__ import annotations

import json

import pytest

from checker import cli
from checker.kernel.bpf import kernel_available
from checker.kernel.user.cli import probe_line
from checker.kernel.user.producer import libbpf_user_available

AVAILABLE, REASON = kernel_available()
needs_kernel = pytest.mark.skipif(not AVAILABLE, reason=REASON)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.cli_entry(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@needs_kernel
def test_diff_map_user_prints_a_summary_and_the_drain_outcomes(capsys):
    code, out, _ = run_cli(capsys, "kernel", "diff", "--map", "user", "--scripts", "40", "--seed", "2")
    assert code == 0, out
    summary, coverage = out.splitlines()[:2]
    assert summary.startswith("kernel diff (map user, python producer, seed 2): 40 scripts run")
    assert "0 disagreements" in summary and coverage.startswith("drain outcomes: ")


@needs_kernel
@pytest.mark.skipif(not libbpf_user_available()[0], reason=libbpf_user_available()[1])
def test_diff_map_user_with_libbpf_as_json(capsys):
    code, out, _ = run_cli(capsys, "kernel", "diff", "--map", "user", "--producer", "libbpf", "--scripts", "20",
                           "--json")
    data = json.loads(out)
    assert code == 0 and (data["map"], data["producer"], data["scripts"], data["disagreements"]) == \
        ("user", "libbpf", 20, 0)
    assert data["predictions_compared"] > 20 * 3


@pytest.mark.parametrize("args, message", [
    (("--map", "user", "--variant", "v6.10"), "are for --map ringbuf"),
    (("--map", "user", "--consumer", "libbpf"), "are for --map ringbuf"),
    (("--producer", "libbpf"), "--producer is for --map user"),
    (("--map", "queue"), "Invalid value for '--map'"),
])
def test_options_that_do_not_go_with_the_map_are_refused_in_one_line(capsys, args, message):
    code, _, err = run_cli(capsys, "kernel", "diff", *args)
    assert code == 2 and message in err
    assert "Traceback" not in err


@needs_kernel
def test_the_probe_line_says_the_user_ring_buffer_is_available():
    assert probe_line().startswith("user ring buffer: available")

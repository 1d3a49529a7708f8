"""The bpf() layer: maps, program load errors, test runs, refusal without privilege."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker.kernel import insn as I
from checker.kernel.bpf import (
    BPF_FUNC_ringbuf_reserve,
    BPF_MAP_TYPE_ARRAY,
    BPF_MAP_TYPE_RINGBUF,
    BPF_PROG_TYPE_SOCKET_FILTER,
    BpfError,
    create_map,
    kernel_available,
    load_program,
)

AVAILABLE, REASON = kernel_available()
pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not AVAILABLE, reason=REASON)]
REPO_ROOT = Path(__file__).resolve().parents[3]


def test_kernel_available_on_this_machine():
    assert kernel_available() == (True, "")


def test_array_map_update_and_lookup():
    with create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2) as array:
        array.update((1).to_bytes(4, "little"), b"abcdefgh")
        assert array.lookup((1).to_bytes(4, "little")) == b"abcdefgh"
        assert array.lookup((0).to_bytes(4, "little")) == bytes(8)
    assert array.closed


def test_ring_map_rejects_sizes_that_are_not_power_of_two_pages():
    with pytest.raises(BpfError) as failure:
        create_map(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 * 3)
    assert failure.value.errno == 22


def test_program_runs_and_returns_its_r0():
    with load_program(BPF_PROG_TYPE_SOCKET_FILTER, I.assemble([I.mov_imm(I.R0, 7), I.exit_insn()])) as program:
        assert program.test_run() == 7
        assert program.test_run(repeat=10) == 7


def test_rejected_program_reports_the_verifier_log(ring):
    leaking = [*I.ld_map_fd(I.R1, ring.fd), I.mov_imm(I.R2, 8), I.mov_imm(I.R3, 0),
               I.call(BPF_FUNC_ringbuf_reserve), I.mov_imm(I.R0, 0), I.exit_insn()]
    with pytest.raises(BpfError) as failure:
        load_program(BPF_PROG_TYPE_SOCKET_FILTER, I.assemble(leaking))
    assert "reference leak" in str(failure.value) or "Unreleased reference" in str(failure.value)
    assert "Unreleased reference" in failure.value.log


UNPRIVILEGED_CHECK = """
from checker.kernel.bpf import BpfUnavailable, kernel_available
from checker.kernel.ringmap import RingMap
available, reason = kernel_available()
print(available, reason)
try:
    RingMap()
except BpfUnavailable as refused:
    print(refused)
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_unprivileged_process_gets_a_one_line_reason_and_no_traceback():
    completed = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", UNPRIVILEGED_CHECK],
        capture_output=True, text=True, timeout=30, cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    lines = completed.stdout.splitlines()
    assert lines == ["False bpf() not permitted: EPERM (needs root or CAP_BPF)",
                     "bpf() not permitted: EPERM (needs root or CAP_BPF)"]

"""Nothing the kernel layer opens outlives its owner: fds, mappings, libbpf handles."""

from __future__ import annotations

import os
import warnings

import pytest

from checker.kernel import program
from checker.kernel.bpf import BpfError, kernel_available
from checker.kernel.libbpf import LibbpfConsumer, libbpf_available
from checker.kernel.program import ScriptRunner, run_script
from checker.kernel.ringmap import RingMap
from checker.kernel.script import Output, Query, Reserve, Submit, Write

AVAILABLE, REASON = kernel_available()
pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not AVAILABLE, reason=REASON)]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def mapping_count() -> int:
    """Mappings of BPF maps only: counting every line is flaky, malloc arenas come and go."""
    with open("/proc/self/maps") as maps:
        return sum(1 for line in maps if "anon_inode:bpf" in line)


def test_a_thousand_scripts_leave_no_fd_behind():
    before = open_fds()
    with warnings.catch_warnings(record=True) as caught, RingMap() as ring:
        warnings.simplefilter("always")
        for index in range(1000):
            size = index % 97
            run_script(ring, [Reserve(0, size), Write(0, index % 256), Reserve(1, 8), Submit(0), Output(size, 1),
                              Query(index % 4)])
            if index % 50 == 0:
                ring.consumer_pos = ring.producer_pos
    assert open_fds() == before
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.skipif(not libbpf_available()[0], reason=libbpf_available()[1])
def test_rings_runners_and_libbpf_consumers_release_everything():
    before_fds, before_maps = open_fds(), mapping_count()
    for _ in range(50):
        with RingMap(0x1000) as ring, ScriptRunner(ring, cache_size=2) as runner:
            for size in range(4):
                runner.run([Output(size, 1)])
            with LibbpfConsumer(ring.fd) as consumer:
                assert len(consumer.consume()) == 4
    assert (open_fds(), mapping_count()) == (before_fds, before_maps)


def test_a_failed_load_closes_its_results_map(ring, monkeypatch):
    def refuse(*args, **kwargs):
        raise BpfError(13, "prog load failed: EACCES (simulated)")

    monkeypatch.setattr(program, "load_program", refuse)
    before = open_fds()
    with pytest.raises(BpfError, match="simulated"):
        run_script(ring, [Query(0)])
    assert open_fds() == before

"""Must show 1 (cluster part): a local Ray cluster of two nodes, started by the test, gives the serial
compiled engine's counts, verdicts and shortest traces. Slow (a cluster takes seconds to start); skipped
where Ray is not installed.

Each node is one ``ray start --block`` process (head, then a second node joining it), with one CPU each,
so the two actors of a two-worker run land on different nodes. The test stops only what it started: it
ends each ``ray start --block`` with SIGTERM, which takes its Ray processes down with it (``ray stop``
would stop every Ray process on the machine, other users' included).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from checker.distributed.driver import run_distributed  # noqa: E402
from checker.search import Search  # noqa: E402
from model import Config  # noqa: E402
from tests.checker.distributed.conftest import serial, summary  # noqa: E402
from tests.checker.test_manifest import STANDARD  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], env: dict) -> subprocess.Popen:
    p = subprocess.Popen([shutil.which("ray") or "ray", "start", "--block", "--num-cpus", "1",
                          "--disable-usage-stats", *args], env=env, start_new_session=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 180
    for line in p.stdout:
        if "Ray runtime started" in line:
            return p
        if time.time() > deadline:
            break
    _stop(p)
    pytest.fail(f"ray start {' '.join(args)} did not start")


def _stop(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=60)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def cluster():
    tmp = tempfile.mkdtemp(prefix="rc-ray-", dir="/tmp")     # Ray's socket paths must stay short
    env = dict(os.environ, PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    head = _start(["--head", "--port", str(port), "--include-dashboard=false", "--temp-dir", tmp], env)
    node = None
    try:
        node = _start(["--address", address], env)
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        deadline = time.time() + 60
        while ray.cluster_resources().get("CPU", 0) < 2:
            assert time.time() < deadline, "the second node did not join"
            time.sleep(0.5)
        ray.shutdown()
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        if node is not None:
            _stop(node)
        _stop(head)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("name", ["cve-2024-41009/v5.13", "cve-2024-41009/v6.10", "cve-2021-3489/v5.8",
                                  "cve-2021-3489/v6.10"])
def test_a_two_node_ray_cluster_equals_the_serial_engine(cluster, name):
    cfg = Config(**STANDARD[name])
    v = run_distributed(Search.for_config(cfg), workers=2, address=cluster)
    assert summary(v) == summary(serial(cfg))
    info = v.distributed
    assert info["transport"] == "ray" and len(set(info["nodes"])) == 2      # one actor on each node
    assert all(w["messages_received"] > 0 for w in info["per_worker"])


def test_the_honest_s32_configuration_on_the_cluster_equals_the_manifest(cluster):
    from tests.checker.test_manifest import expected

    v = run_distributed(Search.for_config(Config(**STANDARD["honest/level/S32"])), workers=2, address=cluster)
    m = expected()["honest/level/S32"]
    assert (v.kind, v.stats.states, v.stats.transitions, v.stats.depth) == (
        m["verdict"], m["states"], m["transitions"], m["depth"])


def test_a_lost_ray_actor_gives_a_bounded_verdict(cluster):
    v = run_distributed(Search.for_config(Config(producers=2, records=1, discard=True)), workers=2,
                        address=cluster, fault=(1, 5))
    assert v.kind == "bounded" and v.bound.startswith("worker 1 lost (Ray actor died")

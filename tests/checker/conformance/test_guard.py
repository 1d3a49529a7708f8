"""An implementation under test cannot take ``conform`` down: exits, hangs, prints, wrong types (issue 16, class 2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from checker.cli import cli_entry
from checker.conformance.guard import AdapterGuard, CallTimedOut
from checker.conformance.lockstep import check_lockstep
from checker.conformance.reference import make_reference
from model.config import Config

ROOT = Path(__file__).resolve().parents[3]

FAULTY = textwrap.dedent('''
    import os, sys, threading, time
    from checker.conformance.reference import ReferenceRingBuffer

    class Exits(ReferenceRingBuffer):
        def consume(self):
            sys.exit(0)

    class Interrupts(ReferenceRingBuffer):
        def commit(self, handle, discard=False, flags=0):
            raise KeyboardInterrupt

    class Blocks(ReferenceRingBuffer):
        def consume(self):
            threading.Event().wait()

    class Prints(ReferenceRingBuffer):
        def reserve(self, producer, size, flags=0):
            print("hello from reserve")
            sys.stderr.write("noise on stderr\\n")
            os.write(1, b"straight to fd 1\\n")
            return super().reserve(producer, size, flags)

    class BadObserve(ReferenceRingBuffer):
        def observe(self):
            return "a string"

    class BadReserve(ReferenceRingBuffer):
        def reserve(self, producer, size, flags=0):
            h = super().reserve(producer, size, flags)
            return None if h is None else h.position
''')


@pytest.fixture()
def faulty(tmp_path: Path) -> Path:
    path = tmp_path / "faulty.py"
    path.write_text(FAULTY)
    return path


def _conform(faulty: Path, name: str, *extra: str) -> list[str]:
    return ["conform", "--impl", f"{faulty}:{name}", *extra]


def test_an_adapter_calling_sys_exit_is_a_divergence_in_field_exception(faulty: Path, capsys) -> None:
    assert cli_entry(_conform(faulty, "Exits", "--json")) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["verdict"] == "diverges"
    assert d["divergence"]["field"] == "exception"
    assert d["divergence"]["observed"] == "consume: SystemExit: 0"
    assert d["divergence"]["operation"] == {"op": "consume"}


def test_a_keyboard_interrupt_the_adapter_raises_is_a_divergence_not_a_stop(faulty: Path, capsys) -> None:
    assert cli_entry(_conform(faulty, "Interrupts", "--json")) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["divergence"]["field"] == "exception"
    assert d["divergence"]["observed"].startswith("commit: KeyboardInterrupt")


def test_a_blocking_call_ends_in_a_timeout_divergence_naming_the_call(faulty: Path, capsys) -> None:
    t0 = time.monotonic()
    assert cli_entry(_conform(faulty, "Blocks", "--call-timeout", "0.3", "--json")) == 1
    assert time.monotonic() - t0 < 10
    d = json.loads(capsys.readouterr().out)
    div = d["divergence"]
    assert div["field"] == "timeout" and div["operation"] == {"op": "consume"}
    assert div["observed"] == "consume() did not return" and div["expected"] == "a return within 0.3s"
    assert div["operations"] == [{"op": "consume"}]  # breadth first: consume on the empty ring


def test_stateful_conform_is_guarded_too(faulty: Path, capsys) -> None:
    assert cli_entry(_conform(faulty, "Blocks", "--method", "stateful", "--call-timeout", "0.3", "--json")) == 1
    div = json.loads(capsys.readouterr().out)["divergence"]
    assert div["field"] == "timeout" and div["method"] == "stateful"
    assert cli_entry(_conform(faulty, "Exits", "--method", "stateful", "--json")) == 1
    div = json.loads(capsys.readouterr().out)["divergence"]
    assert div["field"] == "exception" and div["operations"] == [{"op": "consume"}]  # shrunk


def test_the_library_guards_a_plain_factory() -> None:
    def hangs(ring_size: int, variant: str):
        time.sleep(30)

    guard = AdapterGuard(hangs, 0.2)
    with pytest.raises(CallTimedOut, match=r"factory\(32, 'v6.10'\) did not return within 0.2s"):
        guard(32, "v6.10")
    assert check_lockstep(make_reference, Config(), call_timeout=0.5).kind == "conforms"


@pytest.mark.parametrize("option", ["--call-timeout", "--timeout"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_a_bad_call_timeout_is_refused(option: str, value: str, capsys) -> None:
    assert cli_entry(["conform", option, value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "positive finite" in err


@pytest.mark.parametrize("name, message", [
    ("BadObserve", "adapter: observe() returned str, not an Observation"),
    ("BadReserve", "adapter: reserve() returned int, not a Handle or None"),
])
def test_a_result_of_the_wrong_type_is_one_line_and_exit_2(faulty: Path, name: str, message: str,
                                                            capsys) -> None:
    assert cli_entry(_conform(faulty, name)) == 2
    err = capsys.readouterr().err
    assert err == f"ringcheck: error: {message}\n"


def _ringcheck(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", "from checker.cli import entry_point; entry_point()", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kw)


def test_what_the_adapter_prints_stays_out_of_json_output(faulty: Path) -> None:
    p = _ringcheck(*_conform(faulty, "Prints", "--json"))
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    d = json.loads(out)  # one valid object: no adapter text on stdout, even written to fd 1
    assert d["verdict"] == "conforms"
    assert "noise" not in err and "hello" not in out + err
    assert any("bytes of output during calls" in n for n in d["notes"])


def test_a_real_ctrl_c_still_stops_a_run_blocked_in_the_adapter(faulty: Path) -> None:
    p = _ringcheck(*_conform(faulty, "Blocks", "--call-timeout", "600"))
    time.sleep(3)  # well inside the blocked consume() call
    p.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    _, err = p.communicate(timeout=30)
    assert time.monotonic() - t0 < 5
    assert p.returncode == 130, err


def test_an_abandoned_call_that_returns_later_makes_no_further_calls() -> None:
    import threading

    from checker.conformance.reference import ReferenceRingBuffer

    release, later = threading.Event(), []

    class Slow(ReferenceRingBuffer):
        def consume(self):
            release.wait(30)
            return super().consume()

        def observe(self):
            if release.is_set():
                later.append(1)
            return super().observe()

    r = check_lockstep(Slow, Config(), call_timeout=0.2)
    assert r.divergence is not None and r.divergence.field == "timeout"
    release.set()
    time.sleep(0.5)
    assert later == []  # the worker stopped at its next call instead of running the search on

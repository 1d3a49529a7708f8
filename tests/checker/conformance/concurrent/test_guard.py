"""Concurrent runs behind the AdapterGuard (issue 17, leftover): a hanging operation is stopped in one line."""

from __future__ import annotations

import time

from checker.cli import cli_entry
from checker.conformance.concurrent.explore import CONFORMS, Setup, explore
from checker.conformance.concurrent.reference import make_concurrent_reference
from checker.conformance.concurrent.scenario import SCENARIOS
from checker.conformance.guard import AdapterGuard

HANGS = '''
import time
from checker.conformance.concurrent.reference import ConcurrentReference


class HangsInReserve(ConcurrentReference):
    """reserve makes no access and does not return (a spin that never yields)."""

    def reserve(self, mem, producer, size, flags=0):
        time.sleep(5)
        yield from super().reserve(mem, producer, size, flags)


def make(ring_size, variant):
    return HangsInReserve(ring_size, variant)
'''


def test_a_hanging_operation_is_stopped_with_one_line(tmp_path, capsys):
    impl = tmp_path / "hangs.py"
    impl.write_text(HANGS)
    t0 = time.monotonic()
    assert cli_entry(["conform", "--concurrent", "--impl", f"{impl}:make", "--scenario", "two-producers",
                      "--call-timeout", "0.5"]) == 2
    assert time.monotonic() - t0 < 4, "stopped at the call limit, not after the sleep"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the implementation was stopped" in err and "reserve" in err \
        and "--call-timeout" in err


def test_the_guarded_reference_conforms_as_before():
    scenario = SCENARIOS["two-producers"]
    plain = explore(Setup(make_concurrent_reference, scenario))
    guard = AdapterGuard(make_concurrent_reference, 10.0)
    guarded = guard.run(lambda: explore(Setup(make_concurrent_reference, scenario, guard=guard)))
    assert plain.kind == guarded.kind == CONFORMS
    assert (plain.stats.schedules, plain.stats.states) == (guarded.stats.schedules, guarded.stats.states)


def test_concurrent_refuses_the_width_and_the_attacker(capsys):
    assert cli_entry(["conform", "--concurrent", "--position-bits", "32"]) == 2
    assert "--concurrent: the scenarios run 64-bit positions and no attacker" in capsys.readouterr().err

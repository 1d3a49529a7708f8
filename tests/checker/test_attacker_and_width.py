"""Issue 17, must-show 4 and 5: a stronger attacker on v6.10, and 32-bit positions near the wrap.

Must-show 4: with ``--attacker producer_pos,header`` the model shows what the kernel's read-only
mapping of the producer pages protects: a memory-safety property violated, the attacker's step in
the trace; with today's attacker (consumer_pos only) the same configuration holds.

Must-show 5: with 32-bit positions and a start near 2**32, the libbpf consumer's verdicts on v6.10
(its ``cons < prod`` loop and the kernel's ``pend < prod`` scan compare plain unsigned longs).
"""

from __future__ import annotations

import pytest

from checker.cli import cli_entry
from checker.run import check
from model import Config

MEMORY_SAFETY = ["in_bounds", "no_overlap", "header_integrity", "capacity", "aligned"]
ATTACKED = Config(variant="v6.10", consumer="adversarial", ring_size=32, producers=1, records=2, hold=2,
                  sizes=(8,))
NEAR_2_32 = 2**32 - 32


# ---------------------------------------------------------------- must-show 4


def test_todays_attacker_cannot_break_v6_10():
    v = check(ATTACKED, MEMORY_SAFETY, engine="python")
    assert v.kind == "holds" and v.bound is None, "complete, not up to a bound"


def test_a_forged_header_breaks_header_integrity():
    """--attacker producer_pos,header: the attacker writes a header over a BUSY record's (its pg_off is
    the attacker's): commit would then follow a forged pointer."""
    v = check(ATTACKED.with_(attacker=("producer_pos", "header")), ["no_overlap", "header_integrity"],
              engine="python")
    assert v.kind == "violated" and v.property == "header_integrity"
    steps = [str(s.action) for s in v.trace.steps]
    assert steps[-1].startswith("user.store_header(slot=0,") and "p0.reserve.claim" in steps
    v.trace.replay()


def test_a_rewound_producer_pos_makes_two_reservations_overlap():
    """--attacker producer_pos: storing producer_pos back over a busy record makes the next reservation
    claim the same bytes (no_overlap); the v6.10 pending scan does not help, it trusts producer_pos."""
    v = check(ATTACKED.with_(attacker=("producer_pos",)), ["no_overlap"], engine="python")
    assert v.kind == "violated" and v.property == "no_overlap"
    steps = [str(s.action) for s in v.trace.steps]
    assert "user.store_prod(value=0)" in steps and steps[-1] == "p0.reserve.claim"
    assert v.trace.final.records[0].pos == v.trace.final.records[1].pos == 0
    v.trace.replay()


# ---------------------------------------------------------------- must-show 5


def _steps(v) -> list[str]:
    return [str(s.action) for s in v.trace.steps]


@pytest.mark.parametrize("consumer", ["level", "edge"])
def test_32_bit_positions_from_zero_hold(consumer):
    cfg = Config(consumer=consumer, position_bits=32)
    assert check(cfg, engine="python").kind == "holds"
    assert check(cfg, ["eventually_delivered"]).kind == "holds"


def test_32_bit_level_consumer_near_the_wrap_spins_without_delivering():
    """Level: safety holds (the consumer never sleeps, so no terminal state judges delivery), but once
    producer_pos wraps to 0 `cons < prod` is false while epoll says data is there: it spins for good."""
    cfg = Config(consumer="level", position_bits=32)
    assert check(cfg, start=NEAR_2_32, engine="python").kind == "holds"
    v = check(cfg, ["consumer_progress"], start=NEAR_2_32)
    assert v.kind == "violated"
    _, cycle = v.lasso
    assert [str(s.action) for s in cycle] == ["c.poll.wait", "c.consume.load_cons", "c.consume.load_prod"]
    assert v.trace.final.producer_pos < v.trace.final.consumer_pos, "producer_pos wrapped, consumer_pos did not"
    assert v.trace.final.consumer_pos < 2**32
    assert check(cfg, ["eventually_delivered"], start=NEAR_2_32).kind == "violated"


def test_32_bit_edge_consumer_near_the_wrap_loses_a_record():
    cfg = Config(consumer="edge", position_bits=32)
    v = check(cfg, start=NEAR_2_32, engine="python")
    assert v.kind == "violated" and v.property == "exactly_once"
    assert v.trace.final.producer_pos == 0 and v.trace.final.consumer_pos == 2**32 - 16
    assert _steps(v)[-1] == "c.poll.wait"
    v.trace.replay()
    assert check(cfg, ["consumer_progress"], start=NEAR_2_32).kind == "holds", "it sleeps instead of spinning"


def test_64_bit_positions_from_2_32_do_not_wrap():
    """The same start at 64 bits is an ordinary position: the verdicts are those from 0."""
    for consumer in ("level", "edge"):
        assert check(Config(consumer=consumer), start=NEAR_2_32, engine="python").kind == "holds"


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("argv, message", [
    (["--attacker", "header"], "use them with consumer adversarial"),
    (["--consumer", "adversarial", "--attacker", "root"], "'root' is not one of"),
    (["--position-bits", "16"], "position_bits: 16 is not allowed; use 64 or 32"),
    (["--position-bits", "32", "--start", "0x100000000"], "start: 4294967296 must be a multiple of 8"),
])
def test_bad_values_are_one_line_errors(argv, message, capsys):
    assert cli_entry(["check", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, field", [
    (["--position-bits", "32"], "position_bits=32"),
    (["--consumer", "adversarial", "--attacker", "consumer_pos,payload"], "attacker=('consumer_pos', 'payload')"),
])
def test_the_compiled_core_falls_back_or_refuses(argv, field, capsys):
    assert cli_entry(["check", "--engine", "auto", "--records", "1", *argv]) in (0, 1)
    out = capsys.readouterr().out
    assert f"engine auto: the Python engine ran; the compiled core does not support the configuration field " \
           f"{field}" in out
    assert cli_entry(["check", "--engine", "compiled", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"does not support the configuration field {field}" in err


@pytest.mark.parametrize("argv", [
    ["bmc", "--property", "no_overlap", "--depth", "2", "--position-bits", "32"],
    ["bmc", "--property", "no_overlap", "--depth", "2", "--consumer", "adversarial", "--attacker", "header"],
    ["crosscheck", "--position-bits", "32"],
    ["check", "--property", "consumer_progress", "--strategy", "bmc", "--max-depth", "3", "--position-bits", "32"],
])
def test_the_smt_encodings_refuse_what_they_do_not_encode(argv, capsys):
    assert cli_entry(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the SMT encodings" in err

"""The attacker's adapter capabilities and 32-bit positions in conformance (issue 17).

``write_producer_pos``, ``write_header`` and ``write_payload`` are optional adapter methods: a run whose
``--attacker`` needs one the implementation lacks is refused in one line; the bundled reference offers them
all and conforms in lockstep and stateful; a 64-bit port checked with ``--position-bits 32`` diverges.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from checker.cli import cli_entry
from checker.conformance.lockstep import FactoryError, check_lockstep, check_sequence
from checker.conformance.ops import ATTACKER_KINDS, set_producer_pos, write_header, write_payload
from checker.conformance.oracle import Oracle
from checker.conformance.reference import ReferenceRingBuffer, make_reference
from checker.conformance.stateful import check_stateful
from checker.conformance.strategies import operation_sequences
from checker.conformance.tracelog import validate_log
from model import Config

ATTACKED = Config(consumer="adversarial", ring_size=32, records=2, hold=2, sizes=(8,))
EVERY = ("consumer_pos", "producer_pos", "header", "payload")


class WithoutHeaderWrites(ReferenceRingBuffer):
    write_header = None  # type: ignore[assignment]


class SixtyFourBitPort(ReferenceRingBuffer):
    """A port whose positions are 64-bit whatever it is asked (it ignores position_bits)."""

    def __init__(self, ring_size: int, variant: str, position_bits: int = 64) -> None:
        super().__init__(ring_size, variant)


@pytest.mark.parametrize("attacker", [("producer_pos",), ("header",), ("payload",), EVERY])
def test_the_reference_conforms_with_every_power(attacker):
    r = check_lockstep(make_reference, ATTACKED.with_(attacker=attacker), max_states=300)
    assert r.conforms and r.stats.transitions > 0


def test_the_oracle_offers_the_attacks_and_the_default_only_consumer_pos():
    oracle = Oracle(ATTACKED.with_(attacker=EVERY))
    kinds = {op.kind for op in oracle.enabled(oracle.initial())}
    assert set(ATTACKER_KINDS) <= kinds
    default = Oracle(ATTACKED)
    assert {op.kind for op in default.enabled(default.initial())} == {"reserve", "set_consumer_pos"}


def test_the_stateful_machine_drives_the_attacks():
    r = check_stateful(make_reference, ATTACKED.with_(attacker=EVERY, variant="v5.13"), max_examples=15,
                       max_steps=12)
    assert r.conforms and r.stats.transitions > 0


def test_a_missing_capability_is_refused_in_one_line():
    with pytest.raises(FactoryError, match=r"does not offer write_header\(\), which --attacker header needs"):
        check_lockstep(WithoutHeaderWrites, ATTACKED.with_(attacker=("header",)))
    assert check_lockstep(WithoutHeaderWrites, ATTACKED.with_(attacker=("producer_pos",)), max_states=50).conforms


def test_a_64_bit_port_diverges_at_32_bits_and_the_reference_does_not():
    """v5.13 (no pending scan): the attacker puts producer_pos at 2**32 - 16; at 32 bits the next reservation
    ends at 0, 0 bytes past consumer_pos, so it fits; a port that keeps 64-bit positions computes 2**32 and
    refuses it (no room)."""
    cfg = Config(variant="v5.13", consumer="adversarial", sizes=(8,), attacker=("producer_pos",), position_bits=32)
    assert check_lockstep(make_reference, cfg, max_states=200).conforms
    r = check_lockstep(SixtyFourBitPort, cfg)
    assert not r.conforms and r.divergence.field == "result"
    assert (r.divergence.expected, r.divergence.observed) == (2**32 - 16, None)
    assert [str(op) for op in r.divergence.operations] == ["set_producer_pos(4294967280)", "reserve(p0, size=8)"]


def test_a_factory_without_position_bits_is_refused_in_one_line():
    with pytest.raises(FactoryError, match="with 32-bit positions: TypeError"):
        check_lockstep(lambda ring_size, variant: make_reference(ring_size, variant), Config(position_bits=32))


def test_a_log_with_attacks_is_validated():
    cfg = ATTACKED.with_(attacker=EVERY)
    lines = [json.dumps({"format": "ringcheck-log/1", "config": cfg.to_dict()}),
             json.dumps({"op": "reserve", "producer": 0, "size": 8, "result": {"position": 0}}),
             json.dumps({"op": "write_header", "offset": 0, "value": 1 << 31}),
             json.dumps({"op": "write_payload", "offset": 16}),
             json.dumps({"op": "set_producer_pos", "value": 0}),
             json.dumps({"op": "observe", "producer_pos": 0, "consumer_pos": 0,
                         "headers": {"0": 1 << 31, "8": 0, "16": 0, "24": 0}})]
    assert validate_log(lines).conforms
    lines[-1] = lines[-1].replace('"producer_pos": 0', '"producer_pos": 16')
    assert validate_log(lines).divergence.field == "producer_pos"


def test_ops_print_and_serialise():
    assert str(set_producer_pos(8)) == "set_producer_pos(8)"
    assert write_header(8, 16).to_dict() == {"op": "write_header", "value": 16, "offset": 8}
    assert write_payload(24).to_dict() == {"op": "write_payload", "offset": 24}


def test_conform_takes_attacker_and_position_bits(capsys):
    assert cli_entry(["conform", "--consumer", "adversarial", "--attacker", "producer_pos,header",
                      "--sizes", "8", "--max-states", "100"]) == 3
    assert cli_entry(["conform", "--position-bits", "32"]) == 0
    capsys.readouterr()


def test_conform_refusals_are_one_line(tmp_path, capsys):
    old = tmp_path / "old.py"
    old.write_text("from checker.conformance.reference import ReferenceRingBuffer\n\n"
                   "def make(r, v):\n    return ReferenceRingBuffer(r, v)\n")
    assert cli_entry(["conform", "--impl", f"{old}:make", "--position-bits", "32"]) == 2
    assert "with 32-bit positions: TypeError" in capsys.readouterr().err
    assert cli_entry(["conform", "--record", str(tmp_path / "x.jsonl"), "--consumer", "adversarial",
                      "--attacker", "header"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--record: the log recorder has no header attacker" in err
    assert not (tmp_path / "x.jsonl").exists()


@settings(max_examples=25, deadline=None, database=None)
@given(operation_sequences(ATTACKED.with_(attacker=EVERY, variant="v5.13"), max_ops=10))
def test_drawn_sequences_with_attacks_run_on_the_reference(ops):
    assert check_sequence(make_reference, ATTACKED.with_(attacker=EVERY, variant="v5.13"), ops) is None

"""Linearizability against the model at API granularity, on histories written by hand."""

from __future__ import annotations

from checker.conformance.concurrent.execution import Call
from checker.conformance.concurrent.judge import linearize
from checker.conformance.ops import commit, consume, reserve, write
from checker.conformance.oracle import Oracle
from model.config import Config


def oracle(ring_size: int = 32, producers: int = 1, records: int = 2) -> Oracle:
    return Oracle(Config(variant="v6.10", ring_size=ring_size, producers=producers, records=records,
                         hold=min(2, records), sizes=(8,)))


def call(thread: int, index: int, op, invoked: tuple[int, int], result=None) -> Call:
    return Call(thread, index, op, invoked, result, done=True, started=True)


def producer_calls(rec: int, pos: int, first: int, invoked_c: int) -> list[Call]:
    return [call(0, first, reserve(0, 8, rec), (first, invoked_c), pos),
            call(0, first + 1, write(0, rec), (first + 1, invoked_c)),
            call(0, first + 2, commit(0, rec), (first + 2, invoked_c))]


def test_a_consume_that_returned_before_the_submit_started_cannot_deliver_it() -> None:
    # c's consume returned [r0] before p0 even reserved: no order keeps real time.
    calls = [call(1, 0, consume(), (0, 0), (0,))] + producer_calls(0, 0, 0, 1)
    found, best = linearize(calls, oracle(records=1), real_time=True)
    assert not found
    assert best["call"] == "consume()" and "the model returns []" in best["why"]


def test_without_real_time_order_only_program_order_binds_the_same_history_is_sequentially_consistent() -> None:
    calls = [call(1, 0, consume(), (0, 0), (0,))] + producer_calls(0, 0, 0, 1)
    found, _ = linearize(calls, oracle(records=1), real_time=False)
    assert found


def test_a_pass_that_reads_on_into_space_it_freed_is_split_into_model_passes() -> None:
    # One pass delivers r0, frees the ring, and delivers r1, reserved into the freed space meanwhile.
    calls = producer_calls(0, 0, 0, 0) + producer_calls(1, 16, 3, 0) + [call(1, 0, consume(), (3, 0), (0, 1))]
    found, _ = linearize(calls, oracle(), real_time=True)
    assert found


def test_samples_out_of_order_are_not_a_split_of_any_run() -> None:
    calls = producer_calls(0, 0, 0, 0) + producer_calls(1, 16, 3, 0) + [call(1, 0, consume(), (3, 0), (1, 0))]
    found, best = linearize(calls, oracle(), real_time=True)
    assert not found


def test_a_reservation_at_a_position_the_model_never_gives_is_not_linearizable() -> None:
    calls = [call(0, 0, reserve(0, 8, 0), (0,), 8)]
    found, best = linearize(calls, Oracle(Config(variant="v6.10", records=1, sizes=(8,))), real_time=True)
    assert not found and "position 0" in best["why"] and "position 8" in best["why"]

"""The lock-wait figure (issue 15, must show 2): how long the other CPUs can make a reservation wait."""

from __future__ import annotations

import json

import pytest

from checker.lock_wait import lock_wait
from model.actions import Action
from model.config import Config
from model.ringbuf import RingBufModel
from model.state import P_LOCK

SMALL = dict(consumer="level", ring_size=32, producers=2, records=1, sizes=(8,), nmi=True)


def _replay(cfg: Config, schedule: list[str]):
    """The states of a printed schedule, action by action (each must be enabled)."""
    m = RingBufModel(cfg)
    s = m.initial_states()[0]
    out = [s]
    for text in schedule:
        a = next(a for a, _ in m.successors(s) if str(a) == text)
        s = m.apply(s, a)
        out.append(s)
    return out


def _counted(states, schedule: list[str], waiter: int) -> int:
    n = 0
    for i, text in enumerate(schedule):
        q = text.split(".")[0]
        if q.startswith("p") and int(q[1:]) != waiter and (states[i].lock == int(q[1:]) or
                                                           states[i + 1].lock == int(q[1:])):
            n += 1
    return n


def test_v6_15_an_nmi_reservation_can_be_made_to_wait_and_v6_10s_never_waits():
    new = lock_wait(Config(variant="v6.15", **SMALL))
    old = lock_wait(Config(variant="v6.10", **SMALL))
    assert new.complete and old.complete and new.states == old.states
    assert new.nmi.steps == 2  # p1 takes the lock and claims (no scan: nothing committed before it)
    assert old.nmi.steps == 0 and old.nmi.schedule == []
    assert new.task.steps == old.task.steps == 2


@pytest.mark.parametrize("kind", [pytest.param("task", marks=pytest.mark.slow), "nmi"])
def test_the_schedule_replays_and_counts_what_the_figure_says(kind):
    cfg = Config(variant="v6.15", **SMALL | dict(producers=3))
    rep = lock_wait(cfg)
    fig = getattr(rep, kind)
    assert fig.steps == 5 and not fig.unbounded  # two other producers: lock+claim, lock+scan+claim
    states = _replay(cfg, fig.schedule)
    p = int(fig.waiter[1:])
    wait = states[fig.wait_from:]
    assert all(s.producers[p].pc == P_LOCK and s.producers[p].nmi == (kind == "nmi") for s in wait)
    assert _counted(states[fig.wait_from:], fig.schedule[fig.wait_from:], p) == fig.steps


@pytest.mark.slow
def test_more_records_make_a_longer_wait_through_the_pending_scan():
    rep = lock_wait(Config(variant="v6.15", **SMALL | dict(records=2)))
    assert rep.nmi.steps == 6  # p1's two critical sections, the second scanning two committed records
    assert any(a.endswith("reserve.scan") for a in rep.nmi.schedule)


def test_a_truncated_exploration_says_its_figure_is_a_lower_bound():
    rep = lock_wait(Config(variant="v6.15", **SMALL), max_states=50)
    assert not rep.complete and "lower bounds" in rep.lines()[1]


def test_the_command_prints_the_figure_and_json(capsys):
    from checker.cli import cli_entry

    code = cli_entry(["lock-wait", "--variant", "v6.15", "--producers", "2", "--records", "1", "--sizes", "8",
                      "--nmi", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["nmi"]["steps"] == 2 and data["complete"] and data["config"]["variant"] == "v6.15"
    code = cli_entry(["lock-wait", "--variant", "v6.10", "--producers", "2", "--records", "1", "--sizes", "8",
                      "--nmi", "--no-schedule"])
    out = capsys.readouterr().out
    assert code == 0 and "nmi reservation: 0, it never waits" in out
    code = cli_entry(["lock-wait", "--variant", "v6.10", "--lock-timeout"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "lock_timeout" in err

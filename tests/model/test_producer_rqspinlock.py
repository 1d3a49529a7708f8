"""v6.15's rqspinlock (issue 15, must show 2): a nested reservation on a held lock fails, it does not spin.

The states are built by running the model's own steps: producer 0 takes the
lock and stops inside its critical section (before reserve.claim), producer 1
reaches its lock step, in task context or in NMI.
"""

from __future__ import annotations

import pytest

from model.actions import Action
from model.config import Config
from model.ringbuf import RingBufModel
from model.state import FAILED, P_CLAIM, P_IDLE, P_LOCK

BASE = dict(consumer="level", ring_size=32, producers=2, records=1, sizes=(8,), nmi=True)


def _held_by_p0_with_p1_at_lock(cfg: Config, nmi: bool):
    m = RingBufModel(cfg)
    s = m.initial_states()[0]
    args = (("size", 8), ("nmi", 1)) if nmi else (("size", 8),)
    for a in (Action("p0", "reserve.check", (("size", 8),)), Action("p0", "reserve.load_cons"),
              Action("p0", "reserve.lock"), Action("p1", "reserve.check", args), Action("p1", "reserve.load_cons")):
        s = m.apply(s, a)
        assert s is not None, a
    assert s.lock == 0 and s.producers[0].pc == P_CLAIM and s.producers[1].pc == P_LOCK
    assert s.producers[1].nmi == nmi
    return m, s


def _p1_steps(m: RingBufModel, s):
    return [(a, t) for a, t in m.successors(s) if a.actor == "p1"]


def test_v6_15_an_nmi_reservation_nested_over_the_holder_fails_at_once():
    m, s = _held_by_p0_with_p1_at_lock(Config(variant="v6.15", **BASE), nmi=True)
    steps = _p1_steps(m, s)
    assert [a.step for a, _ in steps] == ["reserve.lock"]
    t = steps[0][1]
    assert t.records[1].status == FAILED  # NULL: the AA check found the lock held on this CPU
    assert t.producers[1].pc == P_IDLE and t.producers[1].attempts == 1
    assert t.lock == 0 and t.producers[0] == s.producers[0]  # the holder is untouched


@pytest.mark.parametrize("variant, lock_timeout", [("v6.10", False), ("v6.15", False)])
def test_a_task_reservation_on_a_held_lock_spins(variant, lock_timeout):
    m, s = _held_by_p0_with_p1_at_lock(Config(variant=variant, lock_timeout=lock_timeout, **BASE), nmi=False)
    assert _p1_steps(m, s) == []  # not enabled: it waits for p0
    after = m.apply(s, Action("p0", "reserve.claim"))
    assert after.lock == -1
    assert [a.step for a, _ in _p1_steps(m, after)] == ["reserve.lock"]
    assert m.apply(after, Action("p1", "reserve.lock")).lock == 1


def test_v6_10_an_nmi_reservation_on_a_held_lock_fails_by_its_trylock():
    m, s = _held_by_p0_with_p1_at_lock(Config(variant="v6.10", **BASE), nmi=True)
    steps = _p1_steps(m, s)
    assert [a.step for a, _ in steps] == ["reserve.lock"] and steps[0][1].records[1].status == FAILED


def test_v6_15_with_the_timeout_a_task_reservation_may_give_up_or_wait():
    m, s = _held_by_p0_with_p1_at_lock(Config(variant="v6.15", lock_timeout=True, **BASE), nmi=False)
    steps = _p1_steps(m, s)
    assert [a.step for a, _ in steps] == ["reserve.lock"]
    assert steps[0][1].records[1].status == FAILED and steps[0][1].lock == 0
    # waiting stays possible: the holder may go on and release, and then p1 takes the lock
    after = m.apply(s, Action("p0", "reserve.claim"))
    assert m.apply(after, Action("p1", "reserve.lock")).lock == 1


def test_on_a_free_lock_every_variant_takes_it():
    for variant in ("v6.10", "v6.15"):
        m = RingBufModel(Config(variant=variant, **BASE))
        s = m.initial_states()[0]
        for a in (Action("p1", "reserve.check", (("size", 8), ("nmi", 1))), Action("p1", "reserve.load_cons"),
                  Action("p1", "reserve.lock")):
            s = m.apply(s, a)
        assert s.lock == 1 and s.records[1].status != FAILED


def test_without_the_timeout_v6_15_reaches_v6_10s_states():
    """Same code under the lock, and a held lock fails an NMI reservation in both (trylock / AA):
    the reachable states are v6.10's; what differs is the wait (checker.lock_wait)."""
    from checker.run import check

    a = check(Config(variant="v6.10", **BASE), engine="python")
    b = check(Config(variant="v6.15", **BASE), engine="python")
    c = check(Config(variant="v6.15", lock_timeout=True, **BASE | dict(nmi=False)), engine="python")
    d = check(Config(variant="v6.15", **BASE | dict(nmi=False)), engine="python")
    assert a.kind == b.kind == c.kind == "holds"
    assert (a.stats.states, a.stats.transitions) == (b.stats.states, b.stats.transitions)
    assert c.stats.states > d.stats.states  # the timeout adds failed task reservations

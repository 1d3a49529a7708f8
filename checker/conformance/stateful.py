"""Hypothesis stateful testing: random operation sequences with the model as oracle, shrunk when they fail.

`conformance_machine(factory, config)` builds a `RuleBasedStateMachine`
whose rules are the operation kinds (reserve, write, commit, consume,
set_consumer_pos, and reopen when asked), each enabled when the model offers such an operation
and drawing one of those the model offers. Every rule runs the operation on
the model and on the implementation and compares them (`driver.compare`);
a difference raises `DivergenceFound` carrying the `Divergence`, and
Hypothesis shrinks the run to a minimal failing sequence before reporting.
`check_stateful` runs the machine and returns a `ConformanceResult`, the
same answer `check_lockstep` gives, with the shrunk divergence.

Unlike lockstep, this explores paths, not just edges, and works where the
operation graph is too large to walk; it is not exhaustive, so its best
verdict is "conforms up to N examples".
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from checker.conformance.adapter import Factory
from checker.conformance.divergence import Divergence, build_divergence
from checker.conformance.driver import ImplDriver, compare
from checker.conformance.guard import DEFAULT_CALL_TIMEOUT, CallTimedOut, guarded
from checker.conformance.lockstep import (BOUNDED, DIVERGES, ConformanceResult, LockstepStats, new_driver,
                                          timed_out)
from checker.conformance.minimise import minimise
from checker.conformance.ops import ATTACKER_KINDS, COMMIT, CONSUME, REOPEN, RESERVE, SET_CONSUMER_POS, WRITE, Op
from checker.conformance.oracle import Oracle
from model.config import Config


class DivergenceFound(AssertionError):
    """Raised inside the state machine; carries the divergence of the failing run."""

    def __init__(self, divergence: Divergence) -> None:
        super().__init__(divergence.format())
        self.divergence = divergence


class ConformanceMachine(RuleBasedStateMachine):
    """One model and one implementation, driven by the same operations. Subclassed per (factory, config)."""

    factory: Factory
    config: Config
    stats: LockstepStats
    """Shared by every run of the machine: what the whole stateful check did."""
    seen: set
    """Distinct model states reached over all runs."""
    runs: int = 0
    """Runs of the machine so far (examples, shrinking included)."""
    reopen: bool = False
    """Offer ``reopen`` (the consumer closed and opened again, `Adapter.reopen`) wherever a consume is offered."""

    def __init__(self) -> None:
        super().__init__()
        self.oracle = Oracle(self.config, reopen=self.reopen)
        self.state = self.oracle.initial()
        self.driver: ImplDriver = new_driver(self.factory, self.config)
        self.done: list[Op] = []
        self._offered = self.oracle.enabled(self.state)
        type(self).runs += 1
        self.seen.add(self.oracle.key(self.state))

    def _enabled(self, kind: str) -> list[Op]:
        return [op for op in self._offered if op.kind == kind]

    def _run(self, op: Op) -> None:
        nxt, expected = self.oracle.apply(self.state, op)
        got = self.driver.apply(op)
        self.done.append(op)
        self.state = nxt
        self._offered = self.oracle.enabled(nxt)
        self._count()
        m = compare(op, expected, got)
        if m is not None:
            raise DivergenceFound(build_divergence(self.oracle, self.done, m.field, m.expected, m.observed,
                                                   got.observation, "stateful"))

    @precondition(lambda self: bool(self._enabled(RESERVE)))
    @rule(data=st.data())
    def reserve(self, data: st.DataObject) -> None:
        self._run(data.draw(st.sampled_from(self._enabled(RESERVE)), label="reserve"))

    @precondition(lambda self: bool(self._enabled(WRITE)))
    @rule(data=st.data())
    def write(self, data: st.DataObject) -> None:
        self._run(data.draw(st.sampled_from(self._enabled(WRITE)), label="write"))

    @precondition(lambda self: bool(self._enabled(COMMIT)))
    @rule(data=st.data())
    def commit(self, data: st.DataObject) -> None:
        self._run(data.draw(st.sampled_from(self._enabled(COMMIT)), label="commit"))

    @precondition(lambda self: bool(self._enabled(CONSUME)))
    @rule()
    def consume(self) -> None:
        self._run(self._enabled(CONSUME)[0])

    @precondition(lambda self: bool(self._enabled(SET_CONSUMER_POS)))
    @rule(data=st.data())
    def set_consumer_pos(self, data: st.DataObject) -> None:
        stores = self.oracle.by_closeness(self.state, self._enabled(SET_CONSUMER_POS))
        self._run(data.draw(st.sampled_from(stores), label="set_consumer_pos"))

    def _count(self) -> None:
        st = self.stats
        st.transitions += 1
        st.calls += 2  # the operation and the observation after it
        st.depth = max(st.depth, len(self.done))
        self.seen.add(self.oracle.key(self.state))
        st.states = len(self.seen)

    def teardown(self) -> None:
        self.driver.close()


class ReopenMachine(ConformanceMachine):
    """The machine with one more rule, reopen (kept apart so that the rules without reopen, and so
    Hypothesis's choices for them, stay exactly as they were)."""

    reopen = True

    @precondition(lambda self: bool(self._enabled(REOPEN)))
    @rule()
    def reopen_consumer(self) -> None:
        self._run(self._enabled(REOPEN)[0])


class AttackerMachine(ConformanceMachine):
    """The machine with one more rule, the attacker's stores beyond consumer_pos (``--attacker``; kept apart,
    like reopen, so that the machine without them makes the same choices as before)."""

    @precondition(lambda self: any(op.kind in ATTACKER_KINDS for op in self._offered))
    @rule(data=st.data())
    def attack(self, data: st.DataObject) -> None:
        self._run(data.draw(st.sampled_from([op for op in self._offered if op.kind in ATTACKER_KINDS]),
                            label="attack"))


def conformance_machine(factory: Factory, config: Config, reopen: bool = False) -> type[ConformanceMachine]:
    """A state machine class for `factory` and `config`, ready for run_state_machine_as_test or pytest.

    With ``reopen`` the machine also has a ``reopen`` rule (the consumer closed and opened again).

        TestMyRing = conformance_machine(my_factory, Config(...)).TestCase
    """
    base = ReopenMachine if reopen else AttackerMachine if not config.honest and config.attacker != \
        ("consumer_pos",) else ConformanceMachine
    return type(base.__name__ + "_" + config.variant.replace(".", "_"), (base,),
                {"factory": staticmethod(factory), "config": config, "stats": LockstepStats(), "seen": set(),
                 "runs": 0, "reopen": reopen})


def check_stateful(factory: Factory, config: Config, max_examples: int = 200, max_steps: int = 30,
                   derandomize: bool = True, finish_shrinking: bool = True,
                   call_timeout: float | None = DEFAULT_CALL_TIMEOUT, reopen: bool = False) -> ConformanceResult:
    """Run the stateful machine; the result carries the shrunk divergence, if any.

    With ``reopen`` the machine may also close and reopen the consumer.

    With `finish_shrinking`, Hypothesis's minimal example is shrunk further
    by `minimise.minimise` until no single operation can be dropped. The
    implementation runs behind an `AdapterGuard`; a call that overruns
    `call_timeout` ends the run at once with that (unshrunk) divergence.
    Statistics count every run Hypothesis made, shrinking included: model
    states are the distinct ones reached, depth the longest run.
    """
    guard = guarded(factory, call_timeout)
    machine = conformance_machine(guard, config, reopen)
    t0, c0 = time.perf_counter(), time.process_time()
    stats = machine.stats
    try:
        r = guard.run(lambda: _run(machine, config, max_examples, max_steps, derandomize, finish_shrinking))
    except CallTimedOut as t:
        r = timed_out(config, "stateful", stats, t)
    stats.seconds, stats.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    r.notes += [f"{machine.runs} runs of the state machine"] + guard.noted_output()
    return r


def _run(machine: type[ConformanceMachine], config: Config, max_examples: int, max_steps: int,
         derandomize: bool, finish_shrinking: bool) -> ConformanceResult:
    """The Hypothesis run of `check_stateful`, in the guard's worker thread."""
    new_driver(machine.factory, config).close()
    opts = settings(max_examples=max_examples, stateful_step_count=max_steps, derandomize=derandomize,
                    database=None, deadline=None, report_multiple_bugs=False, print_blob=False,
                    suppress_health_check=list(HealthCheck))
    try:
        run_state_machine_as_test(machine, settings=opts)
    except DivergenceFound as found:
        div = (minimise(machine.factory, config, found.divergence) if finish_shrinking
               else found.divergence)
        return ConformanceResult(config, "stateful", DIVERGES, machine.stats, div)
    return ConformanceResult(config, "stateful", BOUNDED, machine.stats,
                             bound=f"max_examples={max_examples} max_steps={max_steps}",
                             notes=["stateful testing samples paths; it is never complete"])

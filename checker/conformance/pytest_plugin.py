"""Conformance inside your own pytest suite: a fixture and an assertion helper.

Installed with ringcheck, this module is a pytest plugin (entry point
``pytest11: ringcheck``), so any test can ask for the
``ringcheck_conformance`` fixture without importing anything:

    from model.config import Config

    def test_my_ring_conforms(ringcheck_conformance):
        ringcheck_conformance(my_factory, Config(variant="v6.10", producers=2, discard=True))

Outside pytest (or without the plugin) call `assert_conforms` directly. A
divergence fails the test with the full report: the operations, the field
that differs with the model's expectation beside your implementation's
observation, and the model's protocol steps.

The heavy imports (the model, hypothesis) happen on first use, so loading
the plugin costs a test session nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pytest

if TYPE_CHECKING:
    from checker.conformance.adapter import Factory
    from checker.conformance.lockstep import ConformanceResult
    from model.config import Config

METHODS = ("lockstep", "stateful")


class ConformanceFailure(AssertionError):
    """The implementation diverged from the model; the message is the divergence report."""


def assert_conforms(factory: "Factory", config: "Config | None" = None, *, method: str = "lockstep",
                    max_states: int | None = None, examples: int = 200) -> "ConformanceResult":
    """Check `factory` against the model for `config` (default: `Config()`); raise ConformanceFailure if it diverges.

    ``method="lockstep"`` walks every transition of the operation graph
    (exhaustive unless `max_states` cuts it short); ``method="stateful"``
    runs `examples` Hypothesis examples and shrinks a failure. Returns the
    `ConformanceResult` when nothing diverged.
    """
    from checker.conformance.lockstep import check_lockstep
    from checker.conformance.stateful import check_stateful
    from model.config import Config

    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    cfg = config if config is not None else Config()
    if method == "lockstep":
        result = check_lockstep(factory, cfg, max_states=max_states)
    else:
        result = check_stateful(factory, cfg, max_examples=examples)
    if result.divergence is not None:
        raise ConformanceFailure(result.divergence.format())
    return result


@pytest.fixture
def ringcheck_conformance() -> Callable[..., "ConformanceResult"]:
    """`assert_conforms` as a fixture: call it with your factory and a Config."""
    return assert_conforms

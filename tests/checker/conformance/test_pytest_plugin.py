"""The pytest plugin: the ringcheck_conformance fixture in someone else's suite, and assert_conforms."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points

import pytest

from checker.conformance.mutants import MUTANTS
from checker.conformance.pytest_plugin import ConformanceFailure, assert_conforms
from checker.conformance.reference import make_reference
from model.config import Config

USER_TESTS = textwrap.dedent('''
    from model.config import Config
    from checker.conformance.mutants import MUTANTS
    from checker.conformance.reference import make_reference

    def test_reference(ringcheck_conformance):
        assert ringcheck_conformance(make_reference, Config(discard=True)).kind == "conforms"

    def test_mutant(ringcheck_conformance):
        ringcheck_conformance(MUTANTS["commit_keeps_busy"], Config(discard=True))
''')


def test_the_fixture_works_in_a_foreign_suite(tmp_path) -> None:
    (tmp_path / "test_user_ring.py").write_text(USER_TESTS)
    installed = any(e.name == "ringcheck" for e in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "checker.conformance.pytest_plugin"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin,
                           "test_user_ring.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "1 failed, 1 passed" in proc.stdout, proc.stdout + proc.stderr
    assert "header[0]: model expects 8, implementation gave 8|BUSY" in proc.stdout


def test_assert_conforms_returns_the_result_or_raises_the_report() -> None:
    assert assert_conforms(make_reference, Config(discard=True)).kind == "conforms"
    with pytest.raises(ConformanceFailure, match="operation 4 consume"):
        assert_conforms(MUTANTS["consumer_never_stores"], Config(discard=True))
    with pytest.raises(ConformanceFailure, match="model steps"):
        assert_conforms(MUTANTS["consumer_never_stores"], Config(), method="stateful", examples=30)
    with pytest.raises(ValueError, match="method"):
        assert_conforms(make_reference, method="fuzz")


def test_the_fixture_is_available_here_too(ringcheck_conformance) -> None:
    assert ringcheck_conformance is assert_conforms

"""Conformance of user ring implementations: the bundled reference conforms, every mutant is caught."""

import pytest
from click.testing import CliRunner

from checker.cli import main
from checker.conformance.user.adapter import UserRingAdapter
from checker.conformance.user.cli import STANDARD_USER
from checker.conformance.user.lockstep import check_user_lockstep
from checker.conformance.user.mutants import MUTANTS, NoAdvertisedCheck
from checker.conformance.user.reference import make_reference


@pytest.mark.parametrize("name", list(STANDARD_USER))
def test_the_reference_conforms_completely(name):
    r = check_user_lockstep(make_reference, STANDARD_USER[name])
    assert r.kind == "conforms" and r.divergence is None
    assert r.states > 50 and r.transitions > r.states      # every edge of a real graph was run


def test_the_reference_is_an_adapter():
    assert isinstance(make_reference(16), UserRingAdapter)


def test_a_reference_missing_the_advertised_size_check_is_caught_with_the_fewest_calls():
    r = check_user_lockstep(NoAdvertisedCheck, STANDARD_USER["user/adversarial/S16"])
    assert r.kind == "diverges" and r.divergence.field == "returned"
    assert r.divergence.expected.ret == -22 and r.divergence.got.ret >= 1
    assert [c[0] for c in r.divergence.calls][-1] == "drain" and len(r.divergence.calls) == 3


@pytest.mark.parametrize("name", list(MUTANTS))
def test_every_mutant_diverges_in_some_standard_configuration(name):
    assert any(check_user_lockstep(MUTANTS[name], cfg).kind == "diverges" for cfg in STANDARD_USER.values())


def test_conform_map_user_on_the_command_line():
    runner = CliRunner()
    ok = runner.invoke(main, ["conform", "--map", "user"])
    assert ok.exit_code == 0 and "conforms (complete)" in ok.output
    bad = runner.invoke(main, ["conform", "--map", "user", "--user-producer", "adversarial", "--ring-size", "16",
                               "--sizes", "8", "--impl", "checker.conformance.user.mutants:NoRingCheck"])
    assert bad.exit_code == 1 and "diverges" in bad.output and "-7" in bad.output
    refused = runner.invoke(main, ["conform", "--map", "user", "--reopen"])
    assert refused.exit_code == 2 and "--reopen" in refused.output

"""What ``kernel probe`` says of the lock: the variant the release indicates, and what it cannot observe."""

from __future__ import annotations

import os

import pytest

from checker.kernel.bpf import kernel_available
from checker.kernel.probe import NOT_OBSERVABLE, indicated_variant, lock_lines, release_numbers

AVAILABLE, REASON = kernel_available()


def test_release_numbers_read_major_and_minor():
    assert release_numbers("6.18.44-fc-v669") == (6, 18)
    assert release_numbers("5.13.0") == (5, 13)
    assert release_numbers("weird") is None


@pytest.mark.parametrize("behaviour, release, indicated", [
    ("v6.10", "6.18.44", "v6.15"),      # both fixes seen, and a release with the rqspinlock
    ("v6.10", "6.15.0", "v6.15"),
    ("v6.10", "6.14.9", "v6.10"),       # before a650d38915c1
    ("v6.10", "5.15.0-backport", "v6.10"),  # a backported fix on an old release: the behaviour decides
    ("v5.13", "6.18.0", "v5.13"),       # no pending check seen: no later variant behaves so
    ("v5.8", "6.18.0", "v5.8"),
    ("v6.10", "unknown", "v6.10"),
])
def test_the_indicated_variant_behaves_like_the_observed_one(behaviour, release, indicated):
    assert indicated_variant(behaviour, release) == indicated


def test_on_an_rqspinlock_kernel_the_probe_names_both_failures_it_cannot_see():
    lines = lock_lines("v6.15")
    assert lines[1:] == NOT_OBSERVABLE
    assert "NMI" in lines[1] and "PROG_TEST_RUN" in lines[1]
    assert "250 ms" in lines[2]
    assert "NMI" in lock_lines("v6.10")[1]


@pytest.mark.kernel
@pytest.mark.skipif(not AVAILABLE, reason=REASON)
def test_this_kernel_reports_the_lock_honestly():
    from checker.kernel.probe import probe

    result = probe()
    assert result.variant == "v6.10"  # the experiments cannot see the lock
    assert result.release == os.uname().release
    numbers = release_numbers(result.release)
    expected = "v6.15" if numbers is not None and numbers >= (6, 15) else "v6.10"
    assert result.indicated == expected
    report = result.report()
    assert f"release {result.release} indicates {expected}" in report
    if expected == "v6.15":
        assert report.count("lock: not observable here") == 2

"""The behavioural classification of the running kernel."""

from __future__ import annotations

import pytest

from checker.kernel.bpf import kernel_available
from checker.kernel.probe import probe

AVAILABLE, REASON = kernel_available()
pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not AVAILABLE, reason=REASON)]


def test_this_kernel_behaves_like_v6_10_with_evidence():
    result = probe()
    assert result.variant == "v6.10"
    assert (result.oversize_accepted, result.overlap_accepted) == (False, False)
    assert len(result.evidence) == 3
    assert "CVE-2021-3489" in result.evidence[1] and "refused" in result.evidence[1]
    assert "CVE-2024-41009" in result.evidence[2] and "refused" in result.evidence[2]
    assert result.report().startswith("kernel ring buffer behaves like v6.10\n")

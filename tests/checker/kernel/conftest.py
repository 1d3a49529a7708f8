"""Fixtures for the live-kernel tests; each test module skips itself when bpf() is refused."""

from __future__ import annotations

import pytest

from checker.kernel.ringmap import RingMap


@pytest.fixture
def ring():
    """A fresh 0x4000-byte ring map, closed after the test."""
    with RingMap() as ring_map:
        yield ring_map

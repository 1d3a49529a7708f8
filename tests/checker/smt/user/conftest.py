"""Small user ring configurations shared by the SMT tests of the user ring."""

import pytest

from model.config import Config

LIBBPF = Config(map="user", ring_size=32, records=2, hold=2, sizes=(8, 16), discard=True)
"""libbpf's producer, two samples in flight, discards: about 1,400 states."""
HOSTILE = Config(map="user", ring_size=16, user_producer="adversarial", hostile_writes=1, drains=2, sizes=(0,))
"""The hostile producer with one write and two racing drains: about 600 states."""


@pytest.fixture(params=[LIBBPF, HOSTILE], ids=["libbpf", "hostile"])
def small_user_config(request):
    """Each of the two small configurations in turn."""
    return request.param

"""The packed layout is lossless: every reachable state of small configurations survives the round trip."""

from __future__ import annotations

import pytest

from checker.compiled.crosscheck import reachable
from checker.compiled.layout import LayoutError, build_layout, decode, encode
from model import Config

WRAP = 2**64 - 24

CASES = [
    (dict(variant="v5.8", consumer="adversarial", sizes=(8, 40)), 0),
    (dict(variant="v6.10", consumer="adversarial", hold=2, sizes=(8, 16)), WRAP),
    (dict(variant="v6.10", consumer="edge", producers=2, records=1, discard=True, nmi=True,
          wakeup_flags=True), WRAP),
    (dict(variant="v5.13", consumer="level", producers=2, records=1, discard=True, sizes=(0, 8, 24)), 8),
]


@pytest.mark.parametrize("kw,start", CASES)
def test_round_trip_on_every_reachable_state(kw, start):
    cfg = Config(**kw)
    lay = build_layout(cfg, start)
    states = reachable(cfg, start, limit=6000)
    assert len(states) > 500
    packed = set()
    for s in states:
        words = encode(lay, s)
        assert decode(lay, words) == s
        packed.add(tuple(words))
    assert len(packed) == len(states)              # distinct states, distinct words


def test_a_value_that_does_not_fit_is_refused_not_truncated():
    cfg = Config(ring_size=32)
    lay = build_layout(cfg)
    s = reachable(cfg, limit=1)[0]
    with pytest.raises(LayoutError):
        encode(lay, s._replace(producer_pos=1 << 40))


def test_small_configurations_pack_into_few_words():
    assert build_layout(Config(ring_size=32, producers=2, records=2, discard=True)).nwords <= 6

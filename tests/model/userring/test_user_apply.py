"""``UserRingModel.apply`` finds one step without listing every enabled one (``hostile_step``), so a trace
replays on rings the search cannot take; here it is held to the listing on every reachable state of small
configurations, and refuses the writes the adversary may not make."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import Config
from model.actions import Action
from model.config import MAX_REPLAY_RING_SIZE, MAX_RING_SIZE, ConfigError, replay_ring_sizes
from model.constants import BUSY_BIT
from model.userring import UserRingModel
from model.userring.hostile import hostile_prod_values, hostile_step
from model.userring.producer import USER_ACTOR

HOSTILE = Config(map="user", ring_size=16, user_producer="adversarial", hostile_writes=2, sizes=(8,))
CONFIGS = [HOSTILE, HOSTILE.with_(drains=2, hostile_writes=1),
           Config(map="user", ring_size=32, records=2, hold=2, sizes=(0, 8), discard=True, drains=2)]


def _reachable(m: UserRingModel, limit: int = 3000):
    seen = list(m.initial_states())
    known = set(seen)
    for s in seen:
        if len(seen) >= limit:
            break
        for _, t in m.successors(s):
            if t not in known:
                known.add(t)
                seen.append(t)
    return seen


@pytest.mark.parametrize("cfg", CONFIGS, ids=["hostile", "hostile-two-drains", "libbpf-two-drains"])
def test_apply_gives_what_the_listing_gives_on_every_reachable_state(cfg):
    m = UserRingModel(cfg)
    for s in _reachable(m):
        listed = m.successors(s)
        for a, t in listed:
            assert m.apply(s, a) == t, a
        actions = {a for a, _ in listed}
        for a in _neighbours(cfg, s):                                # writes just outside the choices
            if a not in actions:
                assert m.apply(s, a) is None, a


def _neighbours(cfg: Config, s) -> list[Action]:
    """Actions next to the adversary's choices: other values, slots and len words, and other actors."""
    vals = hostile_prod_values(cfg, s)
    out = [Action(USER_ACTOR, "user.store_prod", (("value", v),)) for v in
           {s.producer_pos, s.consumer_pos + 2 * cfg.reach, s.consumer_pos + cfg.reach + 8, s.consumer_pos + 3,
            *(v + 1 for v in vals), *(v + 4 for v in vals)}]
    out += [Action(USER_ACTOR, "user.store_word", (("slot", slot), ("len", ln)))
            for slot in (-1, cfg.slots, 0) for ln in (1, 3, cfg.ring_size, BUSY_BIT | 5, s.slots[0] & 0xFFFFFFFF)]
    out += [Action("d9", "drain.begin"), Action(USER_ACTOR, "user.reserve", (("size", 8),))]
    return out


@settings(max_examples=300, deadline=None)
@given(value=st.integers(0, (1 << 64) - 1), cons=st.sampled_from([0, 8, 16, 24, (1 << 64) - 16]))
def test_the_producer_pos_test_is_the_listing(value, cons):
    s = UserRingModel(HOSTILE, cons).initial_states()[0]
    listed = value in hostile_prod_values(HOSTILE, s)
    got = hostile_step(HOSTILE, s, Action(USER_ACTOR, "user.store_prod", (("value", value),)))
    assert (got is not None) == listed


def test_large_rings_only_for_replay():
    with pytest.raises(ConfigError, match="too large for the explicit model"):
        HOSTILE.with_(ring_size=MAX_RING_SIZE * 2)
    with replay_ring_sizes():
        big = HOSTILE.with_(ring_size=1 << 25)
        with pytest.raises(ConfigError):
            HOSTILE.with_(ring_size=MAX_REPLAY_RING_SIZE * 2)
    assert big.slots == 1 << 22
    with pytest.raises(ConfigError):                                  # the context is left as it was
        HOSTILE.with_(ring_size=1 << 25)

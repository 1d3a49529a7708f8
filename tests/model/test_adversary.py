"""The attacker's powers (model.adversary): bounded choices, declared steps, default unchanged."""

from __future__ import annotations

import pytest

from model import Config, RingBufModel
from model.adversary import ATTACKER_OWNER, attacker_lens, producer_pos_values
from model.config import ConfigError
from model.constants import BUSY_BIT, DISCARD_BIT
from model.state import slot_owner

ADV = Config(variant="v6.10", consumer="adversarial", ring_size=32, records=2, hold=2, sizes=(8, 16))


def _steps(cfg: Config) -> dict[str, int]:
    s = RingBufModel(cfg).initial_states()[0]
    out: dict[str, int] = {}
    for a, _ in RingBufModel(cfg).successors(s):
        if a.actor == "user":
            out[a.step] = out.get(a.step, 0) + 1
    return out


def test_the_default_attacker_is_todays_consumer_pos_store():
    assert ADV.attacker == ("consumer_pos",)
    assert _steps(ADV) == {"store_cons": 16}            # 2*S/8 on each side, the current value left out
    assert "attacker" not in ADV.to_dict() and "attacker" not in ADV.describe()


def test_each_power_adds_its_bounded_choices():
    every = ADV.with_(attacker=("consumer_pos", "producer_pos", "header", "payload"))
    got = _steps(every)
    assert got == {"store_cons": 16, "store_prod": 16, "store_header": 4 * len(attacker_lens(every)),
                   "store_payload": 4}
    assert attacker_lens(every) == [BUSY_BIT, DISCARD_BIT, 8, 16, 32]
    assert Config.from_dict(every.to_dict()) == every
    assert "attacker=consumer_pos,producer_pos,header,payload" in every.describe()


def test_attacker_words_carry_the_attacker_tag():
    cfg = ADV.with_(attacker=("header", "payload"))
    s = RingBufModel(cfg).initial_states()[0]
    for a, t in RingBufModel(cfg).successors(s):
        if a.actor == "user":
            assert slot_owner(t.slots[a.arg("slot")]) == ATTACKER_OWNER


def test_producer_pos_values_wrap_at_the_position_width():
    cfg = ADV.with_(attacker=("producer_pos",), position_bits=32)
    s = RingBufModel(cfg).initial_states()[0]
    values = producer_pos_values(cfg, s)
    assert max(values) == 2**32 - 8 and 64 in values and 0 not in values


@pytest.mark.parametrize("bad, message", [
    ({"attacker": ("header",)}, "use them with consumer adversarial"),
    ({"consumer": "adversarial", "attacker": ("root",)}, "'root' is not one of"),
    ({"consumer": "adversarial", "attacker": ("header", "header")}, "repeats a power"),
    ({"consumer": "adversarial", "attacker": ()}, "give one or more of"),
])
def test_bad_attacker_values_are_one_line_errors(bad, message):
    with pytest.raises(ConfigError, match=message) as e:
        Config(**bad)
    assert "\n" not in str(e.value)

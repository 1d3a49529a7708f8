"""Configuration validation: each bad value gets a one-line error naming the field."""

import pytest

from model import Config, ConfigError


@pytest.mark.parametrize("field,value,needle", [
    ("variant", "v4.0", "variant"),
    ("ring_size", 24, "ring_size"),
    ("ring_size", 8, "ring_size"),
    ("producers", 0, "producers"),
    ("records", 0, "records"),
    ("hold", 3, "hold"),
    ("sizes", (), "sizes"),
    ("sizes", (8, 8), "sizes"),
    ("sizes", (-1,), "sizes"),
    ("consumer", "polling", "consumer"),
    ("nmi", "yes", "nmi"),
    ("adversary_reach", 12, "adversary_reach"),
    ("memory", "pso", "memory"),
    ("buffer", 0, "buffer"),
    ("history", 0, "history"),
    ("orders", ("reserve.claim:nowhere=plain",), "order"),
    ("orders", ("c.reserve.claim:producer_pos=plain",), "order"),
    ("orders", ["reserve.claim:producer_pos=plain"], "orders"),
    ("fences", ("c.nothing",), "fence"),
])
def test_bad_value_names_the_field(field, value, needle):
    with pytest.raises(ConfigError) as e:
        Config(**{field: value})
    msg = str(e.value)
    assert msg.startswith(needle) and "\n" not in msg


def test_round_trip_through_dict():
    c = Config(variant="v5.8", ring_size=64, producers=2, sizes=(0, 40), nmi=True, consumer="edge")
    assert Config.from_dict(c.to_dict()) == c


def test_weak_memory_round_trip_and_description():
    c = Config(memory="tso", buffer=4, orders=("p0.reserve.claim:producer_pos=plain",), fences=("c.poll.wait",))
    assert Config.from_dict(c.to_dict()) == c
    assert c.describe().endswith(" memory=tso buffer=4 order=p0.reserve.claim:producer_pos=plain "
                                 "fence=c.poll.wait")
    assert Config(memory="ra", history=5).describe().endswith(" memory=ra history=5")
    assert "memory" not in Config().describe() and Config().weak is False


def test_a_config_dict_from_before_weak_memory_still_reads():
    d = Config().to_dict()
    for k in ("memory", "buffer", "history", "orders", "fences"):
        del d[k]
    assert Config.from_dict(d) == Config()


def test_unknown_field_in_dict_is_refused():
    with pytest.raises(ConfigError, match="unknown field"):
        Config.from_dict({"rings": 2})


def test_derived_fields():
    c = Config(ring_size=64, variant="v5.13", consumer="adversarial")
    assert c.mask == 63 and c.slots == 8 and c.reach == 128
    assert c.checks_record_size and not c.has_pending and not c.honest

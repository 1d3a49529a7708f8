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
])
def test_bad_value_names_the_field(field, value, needle):
    with pytest.raises(ConfigError) as e:
        Config(**{field: value})
    msg = str(e.value)
    assert msg.startswith(needle) and "\n" not in msg


def test_round_trip_through_dict():
    c = Config(variant="v5.8", ring_size=64, producers=2, sizes=(0, 40), nmi=True, consumer="edge")
    assert Config.from_dict(c.to_dict()) == c


def test_unknown_field_in_dict_is_refused():
    with pytest.raises(ConfigError, match="unknown field"):
        Config.from_dict({"rings": 2})


def test_derived_fields():
    c = Config(ring_size=64, variant="v5.13", consumer="adversarial")
    assert c.mask == 63 and c.slots == 8 and c.reach == 128
    assert c.checks_record_size and not c.has_pending and not c.honest

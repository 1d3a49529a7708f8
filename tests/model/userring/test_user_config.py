"""The user ring's configuration fields: validated, only with map user, written only when set."""

import pytest

from model import Config, ConfigError
from model.config import LATER_FIELDS


@pytest.mark.parametrize("changes,needle", [
    (dict(variant="v5.8"), "variant"),
    (dict(variant="v5.13"), "variant"),
    (dict(user_producer="evil"), "user_producer"),
    (dict(drains=3), "drains"),
    (dict(drains=True), "drains"),
    (dict(drain_limit=0), "drain_limit"),
    (dict(hostile_writes=-1), "hostile_writes"),
    (dict(memory="tso"), "memory"),
    (dict(producers=2), "producers"),
    (dict(nmi=True), "nmi"),
    (dict(consumer="edge"), "consumer"),
])
def test_a_bad_user_ring_value_is_one_line_naming_the_field(changes, needle):
    with pytest.raises(ConfigError) as e:
        Config(map="user", **changes)
    assert str(e.value).startswith(needle) and "\n" not in str(e.value)


@pytest.mark.parametrize("name,value", [("user_producer", "adversarial"), ("drains", 2), ("drain_limit", 4),
                                        ("hostile_writes", 1)])
def test_user_ring_fields_need_map_user(name, value):
    with pytest.raises(ConfigError, match=f"^{name}: only meaningful with map user"):
        Config(**{name: value})


def test_the_kernel_ring_config_is_written_as_before_and_the_user_fields_round_trip():
    assert not {"user_producer", "drains", "drain_limit", "hostile_writes"} & set(Config().to_dict())
    assert {"user_producer", "drains", "drain_limit", "hostile_writes"} <= set(LATER_FIELDS)
    c = Config(map="user", user_producer="adversarial", drains=2, drain_limit=3, hostile_writes=1)
    assert Config.from_dict(c.to_dict()) == c
    assert "map=user" in c.describe() and "drains=2" in c.describe() and "limit=3" in c.describe()
    assert "map=user" not in Config().describe()

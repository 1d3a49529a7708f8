"""The adapter example in the README is complete and conforms (so the README cannot rot)."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from checker.conformance.lockstep import check_lockstep
from checker.conformance.standard import standard_configs

DOC = Path(__file__).resolve().parents[3] / "README.md"


def example_module(edit: tuple[str, str] | None = None) -> types.ModuleType:
    text = DOC.read_text()
    if edit is not None:
        assert edit[0] in text
        text = text.replace(*edit)
    block = re.search(r"```python\n(\"\"\"my_ring\.py.*?)```", text, re.S)
    assert block, "README.md lost its my_ring.py example"
    module = types.ModuleType("my_ring")
    exec(compile(block.group(1), str(DOC), "exec"), module.__dict__)  # noqa: S102
    return module


@pytest.mark.parametrize("name", ["v6.10 adversarial sizes 8,40", "v6.10 adversarial hold 2",
                                  "v6.10 level P=2 discard"])
def test_the_documented_adapter_conforms(name: str) -> None:
    result = check_lockstep(example_module().MyRing, standard_configs()[name])
    assert result.kind == "conforms", result.headline()


def test_the_documented_adapter_refuses_other_variants() -> None:
    with pytest.raises(ValueError, match="v6.10 only"):
        example_module().MyRing(32, "v5.8")


def test_dropping_the_pending_check_from_the_example_is_caught() -> None:
    broken = example_module((" or new - self.pend > self.mask", ""))
    div = check_lockstep(broken.MyRing, standard_configs()["v6.10 adversarial hold 2"]).divergence
    assert div is not None and div.field == "result" and div.operation.kind == "reserve"

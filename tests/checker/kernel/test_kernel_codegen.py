"""Script validation, code generation and classification: pure Python, no kernel needed."""

from __future__ import annotations

import pytest

from checker.kernel.codegen import generate
from checker.kernel.probe import classify
from checker.kernel.script import Output, Reserve, Submit, Write, check_script


@pytest.mark.parametrize("script,message", [
    ([Write(0, 1)], "holds no reservation"),
    ([Reserve(0, 8), Reserve(0, 8)], "already holds"),
    ([Reserve(8, 8)], "slot must be"),
    ([Output(257, 0)], "output size"),
    ([Reserve(0, 0x20000), Write(0, 1)], "cannot fill"),
    ([Reserve(0, 8), Write(0, 256)], "byte must be"),
])
def test_invalid_scripts_are_refused_before_loading(script, message):
    with pytest.raises(ValueError, match=message):
        check_script(script)


def test_generated_program_reads_like_the_script():
    text = generate([Reserve(0, 8), Submit(0)], ring_fd=5, results_fd=6).listing()
    assert "call ringbuf_reserve" in text and "if r1 == 0 goto op1_submit_skip" in text


def test_slots_left_holding_are_reported_for_auto_discard():
    assert check_script([Reserve(2, 8), Reserve(0, 8), Submit(2)]) == (0,)


@pytest.mark.parametrize("oversize,overlap,variant", [
    (True, True, "v5.8"), (True, False, "v5.8"), (False, True, "v5.13"), (False, False, "v6.10"),
])
def test_classification_table(oversize, overlap, variant):
    assert classify(oversize, overlap) == variant

"""docs/memory-models.md shows the litmus verdicts the models give, not a copy that drifted."""

from pathlib import Path

from model.memory import make
from model.memory.litmus import verdict_table

DOC = Path(__file__).resolve().parents[3] / "docs" / "memory-models.md"


def test_the_documented_litmus_table_is_what_the_models_give():
    text = DOC.read_text()
    table = text.split("<!-- litmus-table -->\n")[1].split("\n<!-- /litmus-table -->")[0]
    assert table == verdict_table(make(name) for name in ("sc", "tso", "ra", "sra"))

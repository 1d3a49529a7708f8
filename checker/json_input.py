"""Reading JSON that a user handed us: every way it can be unreadable is one short ValueError.

``json.loads`` fails in more ways than ``JSONDecodeError``: an integer of
more than 4300 digits is a plain ValueError, nesting a few thousand levels
deep a RecursionError, and ``NaN``, ``Infinity`` or ``1e400`` are accepted as
floats that no ringcheck format allows. Every reader of a ringcheck file
format (trace files, ITF, conformance logs) goes through `load_json`, so
that such input is a one-line error naming what is wrong, and never reaches
the CLI's "internal error" handler.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
"""No ringcheck format nests deeper than about ten levels; deeper input is refused."""


class JsonInputError(ValueError):
    """The text is not JSON a ringcheck format can hold (one line)."""


def _no_constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not a JSON number ringcheck accepts")


def _float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise JsonInputError(f"number {text[:40]} is out of range")
    return v


def load_json(text: str) -> Any:
    """Parse ``text``; JsonInputError (one line) for bad JSON, huge numbers, NaN/Infinity or deep nesting."""
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_float)
    except JsonInputError:
        raise
    except json.JSONDecodeError as e:
        raise JsonInputError(f"not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except RecursionError:
        raise JsonInputError("JSON nested too deeply") from None
    except ValueError as e:  # an integer of more than sys.get_int_max_str_digits() digits
        raise JsonInputError(f"unreadable JSON number ({str(e).split(';')[0]})") from None
    if depth(value) > MAX_DEPTH:
        raise JsonInputError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (iteratively: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            items = v.values()
        elif isinstance(v, list):
            items = v
        else:
            continue
        deepest = max(deepest, d)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((x, d + 1) for x in items)
    return deepest

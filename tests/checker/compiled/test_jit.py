"""``hot`` functions run without reference counting: views work, allocating is refused at compile time."""

from __future__ import annotations

import numpy as np
import pytest
from numba.core.errors import NumbaError

from checker.compiled.jit import hot


@hot
def _row_sums(a, out):
    for i in range(a.shape[0]):
        row = a[i]                       # a view: no count taken, none needed
        s = 0
        for x in row[1:]:
            s += x
        out[i] = s + row[0]


@hot(inline="always")
def _twice(x):
    return 2 * x


@hot
def _uses_inline(x):
    return _twice(x) + 1


def _allocates(n):
    return np.zeros(n, np.int64)


def _copies(a, b):
    a[:] = b + 1


def test_views_in_a_hot_function_give_the_right_values():
    a = np.arange(12, dtype=np.int64).reshape(4, 3)
    out = np.zeros(4, np.int64)
    _row_sums(a, out)
    assert out.tolist() == a.sum(axis=1).tolist()
    assert _uses_inline(20) == 41


def test_a_hot_function_that_allocates_does_not_compile():
    with pytest.raises(NumbaError, match="NRT required|zeros"):
        hot(_allocates)(3)
    with pytest.raises(NumbaError, match="NRT required"):
        hot(_copies)(np.zeros(3, np.int64), np.ones(3, np.int64))

"""One walk over a z3 term DAG, children first, each shared subterm once.

The proof's terms are deep (a 4-record step nests thousands of ``If``s) and heavily shared, so a recursive
walk overflows Python's stack and a tree walk repeats work exponentially. The digest of a kept proof, the
translation to Bitwuzla and the records a conjunct mentions are all folds over this one walk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import z3

T = TypeVar("T")


def fold(root: z3.ExprRef, make: Callable[[z3.ExprRef, list[T]], T],
         memo: dict[int, tuple[z3.ExprRef, T]] | None = None) -> T:
    """``make(x, [values of x's children])`` for every subterm ``x`` of ``root``, children first; the value of root.

    ``memo`` (keyed by z3's AST id) may be shared between calls so a subterm seen before is not walked again.
    It keeps each term alive beside its value: z3 hands a freed term's id to the next new term, so an entry
    without its term could later answer for another term.
    """
    memo = {} if memo is None else memo
    stack = [root]
    while stack:
        x = stack[-1]
        if x.get_id() in memo:
            stack.pop()
            continue
        kids = x.children()
        missing = [c for c in kids if c.get_id() not in memo]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        memo[x.get_id()] = (x, make(x, [memo[c.get_id()][1] for c in kids]))
    return memo[root.get_id()][1]

"""A fingerprint of z3 terms, so a kept proof log can be checked against the model it was run on.

A proof of a 4-record shape takes hours and cannot run in the test suite; its log is kept instead
(``reports/proofs/``). The log names the digest of every term the proof reasoned about (the goals, each action's
guard and the goals over its next state, the initial state); the suite recomputes the digest from today's code
in seconds, so a change to a step or an invariant that the log did not see fails a test instead of leaving a
stale proof on record. The digest walks the term DAG (each shared subterm once) and hashes each node's operator,
name, parameters and sort with its children's hashes: it depends on how the terms are built, not on how z3
prints them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import z3

from checker.smt.terms import fold


def _head(x: z3.ExprRef) -> str:
    if z3.is_quantifier(x):
        bound = ",".join(f"{x.var_name(i)}:{x.var_sort(i)}" for i in range(x.num_vars()))
        return f"quantifier|{'forall' if x.is_forall() else 'exists'}|{bound}"
    if z3.is_var(x):
        return f"var|{z3.get_var_index(x)}|{x.sort()}"
    d = x.decl()
    head = f"{d.kind()}|{d.name()}|{d.params()}|{x.sort()}"
    return head + f"|{x.as_long()}" if z3.is_bv_value(x) else head


def term_digest(terms: Iterable[z3.ExprRef]) -> str:
    """A SHA-256 hex digest of ``terms`` (in order), equal for structurally equal terms in any process."""
    memo: dict = {}
    out = hashlib.sha256()
    for term in terms:
        out.update(fold(term, _node_digest, memo).encode())
    return out.hexdigest()


def _node_digest(x: z3.ExprRef, kids: list[str]) -> str:
    return hashlib.sha256((_head(x) + "(" + ",".join(kids) + ")").encode()).hexdigest()

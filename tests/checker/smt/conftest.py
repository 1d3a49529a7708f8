"""Shared planted bugs for the SMT tests."""

import pytest

from checker.smt import producer as P
from checker.smt import transition
from specs.smt import header_word, slot_index


def claim_without_busy(cfg, ring, s, p):
    """reserve.claim's z3 twin with the BUSY bit left out of the header it writes (a planted encoding bug)."""
    nxt = P.reserve_claim(cfg, ring, s, p)
    pr = s.producers[p]
    forgot = nxt.slots.store(slot_index(ring, pr.prod), header_word(pr.cur, pr.size))
    return nxt._replace(slots=forgot.ite(nxt.producer_pos != s.producer_pos, nxt.slots))


@pytest.fixture
def plant_claim_without_busy(monkeypatch):
    """A function that replaces reserve.claim's z3 term by ``claim_without_busy`` for the rest of the test."""
    return lambda: monkeypatch.setitem(transition.STEP_TERMS, "reserve.claim", claim_without_busy)

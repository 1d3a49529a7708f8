"""The adversarial user producer as z3 terms, mirroring ``model/userring/hostile.py`` (same names).

Which values it may write is the guard's business (``checker.smt.user.transition``):
the explicit model's bounded lists for BMC and the cross-check, any u64
producer_pos and any 32-bit len word at any slot for the proofs.
"""

from __future__ import annotations

import z3

from checker.smt.user.state import SymUserState
from model.config import Config
from model.userring.state import HOSTILE
from specs.smt import Ring, bv, header_word


def user_store_prod(cfg: Config, ring: Ring, s: SymUserState, value: z3.BitVecRef) -> SymUserState:
    """user.store_prod: store ``value`` into producer_pos (one write of the budget)."""
    pr = s.producer
    return s._replace(producer_pos=value, producer=pr._replace(writes=pr.writes + 1))


def user_store_word(cfg: Config, ring: Ring, s: SymUserState, slot: z3.BitVecRef,
                    len_word: z3.BitVecRef) -> SymUserState:
    """user.store_word: a word holding ``len_word`` in its low 32 bits at data-area word ``slot``."""
    pr = s.producer
    return s._replace(slots=s.slots.store(slot, header_word(bv(HOSTILE), len_word)),
                      producer=pr._replace(writes=pr.writes + 1))

"""Action codes of the compiled core back to model Actions, as the Python model names them."""

from __future__ import annotations

from model.actions import Action, producer_actor
from model.adversary import USER_ACTOR
from model.config import Config
from model.consumer import CONSUMER_ACTOR, IRQ_ACTOR
from model.constants import u64
from model.state import State

from checker.compiled import steps as K

_PRODUCER_STEPS = {K.A_LOAD_CONS: "reserve.load_cons", K.A_LOCK: "reserve.lock", K.A_SCAN: "reserve.scan",
                   K.A_CLAIM: "reserve.claim", K.A_COMMIT_WAKEUP: "commit.wakeup"}
_CONSUMER_STEPS = {K.A_CONSUME_LOAD_CONS: "consume.load_cons", K.A_CONSUME_LOAD_PROD: "consume.load_prod",
                   K.A_READ_HEADER: "consume.read_header", K.A_DELIVER: "consume.deliver",
                   K.A_STORE_CONS: "consume.store_cons", K.A_POLL_WAIT: "poll.wait"}


def decode_action(cfg: Config, code: int, before: State) -> Action:
    """The Action that ``code`` (``steps.action_code``) stands for, taken in state ``before``."""
    code = int(code)
    step, actor = code & 31, (code >> 5) & 31
    a1, a2, a3 = (code >> 10) & 0xFFFF, (code >> 26) & 3, (code >> 28) & 3
    if step == K.A_RESERVE_CHECK:
        args = (("size", cfg.sizes[a1]), ("nmi", 1)) if a2 else (("size", cfg.sizes[a1]),)
        return Action(producer_actor(actor), "reserve.check", args)
    if step == K.A_WRITE:
        return Action(producer_actor(actor), "write", (("rec", a1),))
    if step == K.A_COMMIT_XCHG:
        flags = (0, 1, 2)[a3]
        return Action(producer_actor(actor), "commit.xchg", (("rec", a1), ("discard", a2), ("flags", flags)))
    if step in _PRODUCER_STEPS:
        return Action(producer_actor(actor), _PRODUCER_STEPS[step])
    if step in _CONSUMER_STEPS:
        return Action(CONSUMER_ACTOR, _CONSUMER_STEPS[step])
    if step == K.A_IRQ_WORK:
        return Action(IRQ_ACTOR, "work")
    if step == K.A_USER_STORE_CONS:
        return Action(USER_ACTOR, "store_cons", (("value", u64(before.producer_pos - cfg.reach + 8 * a1)),))
    raise ValueError(f"action code {code:#x} names no step")

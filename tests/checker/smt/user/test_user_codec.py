"""Explicit user states survive the round trip through symbolic constants, on both codec paths."""

from checker.smt.codec import Evaluator
from checker.smt.concrete import Valuation
from checker.smt.user.codec import decode_user_state, encode_user_state, flat_user_values, variable_user_state
from checker.smt.user.crosscheck import reachable_user_states
from model.userring.model import UserRingModel


def test_decode_of_encode_is_the_state(small_user_config):
    cfg = small_user_config
    states = reachable_user_states(UserRingModel(cfg))
    cap = max(len(s.delivered) for s in states) + 1
    for s in states[:: max(1, len(states) // 60)] + states[-5:]:
        assert decode_user_state(cfg, Evaluator(), encode_user_state(cfg, s, cap)) == s


def test_flat_values_follow_the_variable_state_order(small_user_config):
    cfg = small_user_config
    states = reachable_user_states(UserRingModel(cfg))
    cap = max(len(s.delivered) for s in states) + 1
    sym, variables = variable_user_state(cfg, "v", cap)
    val = Valuation()
    bind = val.binder(variables)
    for s in states[:: max(1, len(states) // 50)]:
        bind.set(flat_user_values(cfg, s, cap))
        assert decode_user_state(cfg, Evaluator(val.model), sym) == s

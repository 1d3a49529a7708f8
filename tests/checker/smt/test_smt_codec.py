"""Explicit states survive the trip to symbolic constants and back."""

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.smt.codec import Evaluator, decode_state, encode_state
from model import Config, RingBufModel

CFG = Config(variant="v6.10", consumer="level", ring_size=32, producers=2, records=1, hold=1,
             sizes=(8, 16), discard=True)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=25))
def test_encode_decode_round_trip_on_random_walks(choices):
    m = RingBufModel(CFG, start=2**64 - 16)
    s = m.initial_states()[0]
    for c in choices:
        succ = m.successors(s)
        if not succ:
            break
        s = succ[c % len(succ)][1]
        assert decode_state(CFG, Evaluator(), encode_state(CFG, s, 8)) == s

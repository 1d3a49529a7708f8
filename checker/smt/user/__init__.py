"""The SMT layer of the user ring buffer (BPF_MAP_TYPE_USER_RINGBUF, ``model.userring``).

``state`` is the symbolic twin of ``model.userring.state.UserState`` (same
field names, same nesting, z3 terms in place of values); ``producer``,
``hostile`` and ``drain`` mirror the explicit step modules function by
function; ``transition`` is their relation; ``crosscheck``, ``bmc`` and
``prove`` are the engines over it (docs/user-ringbuf.md, "SMT encodings and
proofs").
"""

"""Conformance of user ring buffer implementations (BPF_MAP_TYPE_USER_RINGBUF) against the model.

``adapter`` is the interface an implementation offers (libbpf's user producer,
hostile writes through the mapping, and bpf_user_ringbuf_drain);
``reference`` a bundled implementation on a plain bytearray, written from
docs/protocol.md#5 apart from the model; ``mutants`` copies of it each missing
one thing; ``lockstep`` runs every operation of the model's operation graph
on an implementation and compares; ``cli`` is ``ringcheck conform --map user``.
"""

"""The SMT side of ringcheck: z3 transition terms, bounded model checking, cross-check, proofs.

The symbolic state and the property encodings live in ``specs`` (``specs.smt``
and the ``*_smt`` functions beside each predicate); this package holds the
transition terms (``producer``, ``consumer``, ``transition``, mirroring
``model/``), the explicit <-> symbolic ``codec``, ``bmc``, ``crosscheck`` and
the proofs (``prove``).
"""

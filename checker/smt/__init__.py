"""The SMT side of ringcheck: z3 transition terms, bounded model checking, cross-check, proofs.

The symbolic state and the property encodings live in ``specs`` (``specs.smt``
and the ``*_smt`` functions beside each predicate); this package holds the
transition terms (``producer``, ``consumer``, ``transition``, mirroring
``model/``), the explicit <-> symbolic ``codec``, ``bmc``, ``crosscheck`` and
the proofs (``prove``).
"""

from model.config import DEFAULT_ATTACKER, Config, ConfigError


def require_encoded(cfg: Config, command: str) -> None:
    """Refuse, in one line, what the encodings do not cover: every term is a 64-bit bitvector with
    positions modulo 2**64 (``specs.smt``), and the adversary's transition is the consumer_pos store.

    32-bit positions would need every position term, the distance and ``is_ahead`` helpers and the
    decoders at a second width; the explicit engines check them instead (``ringcheck check``).
    """
    if cfg.position_bits != 64:
        raise ConfigError(f"{command}: the SMT encodings are at 64-bit positions; check --position-bits "
                          f"{cfg.position_bits} with ringcheck check")
    if cfg.attacker != DEFAULT_ATTACKER:
        raise ConfigError(f"{command}: the SMT encodings have the consumer_pos attacker only; check --attacker "
                          f"{','.join(cfg.attacker)} with ringcheck check")

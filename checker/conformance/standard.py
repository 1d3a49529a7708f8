"""The configurations conformance is checked on by default, and where each mutant shows.

`standard_configs()` are the standard configurations of issue #2 for every
variant: the two adversarial CVE shapes and the honest level/edge
configuration with two producers and discards (at S=64 too, where two
records can be in flight). `MUTANT_CONFIGS` names, for
each mutant of `mutants.MUTANTS`, a configuration in which its broken
decision is reachable (a mutant of the consumer cannot show with an
adversarial consumer, a missing size check needs a size longer than the
ring), which the mutation-score tests and `ringcheck conform --mutants` use.
"""

from __future__ import annotations

from model.config import Config
from model.variants import rules_of, variant_names

VARIANTS = tuple(v for v in variant_names() if not rules_of(v).overwrite)
"""The variants the bundled references implement (overwrite mode is the model's only)."""


def standard_configs() -> dict[str, Config]:
    """Name -> configuration, every variant on each standard shape."""
    out: dict[str, Config] = {}
    for v in VARIANTS:
        out[f"{v} adversarial sizes 8,40"] = Config(variant=v, consumer="adversarial", ring_size=32,
                                                     sizes=(8, 40))
        out[f"{v} adversarial hold 2"] = Config(variant=v, consumer="adversarial", ring_size=32,
                                                hold=2, sizes=(8, 16))
        for consumer in ("level", "edge"):
            out[f"{v} {consumer} P=2 discard"] = Config(variant=v, consumer=consumer, ring_size=32,
                                                        producers=2, records=2, sizes=(8, 16),
                                                        discard=True)
        out[f"{v} level P=2 discard S=64"] = Config(variant=v, consumer="level", ring_size=64,
                                                    producers=2, records=2, sizes=(8, 16), discard=True)
    return out


_HONEST = Config(variant="v6.10", consumer="level", ring_size=32, producers=1, records=2,
                 sizes=(8, 16), discard=True)

MUTANT_CONFIGS: dict[str, Config] = {
    "consumer_ignores_busy": _HONEST,
    "commit_keeps_busy": _HONEST,
    "consumer_delivers_discarded": _HONEST,
    "consumer_never_stores": _HONEST,
    "reserve_no_size_check": Config(variant="v5.13", consumer="adversarial", ring_size=32,
                                    sizes=(8, 40)),
    "reserve_no_pending_check": Config(variant="v6.10", consumer="adversarial", ring_size=32,
                                       hold=2, sizes=(8, 16)),
}

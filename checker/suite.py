"""The default suite: what ``ringcheck`` with no arguments checks.

Small configurations of all three variants with honest and adversarial
consumers; beside each that must hold sits one that must fail (the two CVEs),
so the checker is seen to find something. ``expect`` is what the protocol
history says the verdict should be.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.config import Config


@dataclass(frozen=True)
class Case:
    """One configuration of the suite, with the verdict history predicts."""

    name: str
    config: Config
    expect: str
    """``holds`` or the property expected to be violated."""


CVE_2021_3489 = Config(variant="v5.8", consumer="adversarial", ring_size=32, sizes=(8, 40))
CVE_2024_41009 = Config(variant="v5.13", consumer="adversarial", ring_size=32, producers=1,
                        records=2, hold=2, sizes=(8, 16))
HONEST = Config(variant="v6.10", consumer="level", ring_size=32, producers=1, records=2, hold=2,
                sizes=(8, 16), discard=True)


LOST_WAKEUP = Config(variant="v6.10", consumer="edge", ring_size=64, producers=1, records=2, sizes=(8, 16))
"""Issue 13's configuration: one producer, two records in flight, the edge-triggered consumer."""
FENCE_AFTER_STORE = ("c.consume.load_prod", "c.consume.read_header")
"""A full fence between the consumer's consumer_pos store and its next load (aya's fix)."""


def weak_suite(memory: str) -> list[Case]:
    """The suite under a weak memory model (``ringcheck --memory tso``): the lost wakeup and its fixes.

    The CVE configurations under tso and ra take minutes each (the hostile
    consumer's stores fill a buffer of any value), so they are in the
    manifest's slow tests instead. Complete verdicts need bounds the runs
    never hit (--buffer 8 covers a producer's six stores; --history 6).
    """
    big = dict(buffer=8) if memory == "tso" else dict(history=6)
    w = LOST_WAKEUP.with_(memory=memory)
    return [
        Case(f"lost wakeup, edge ({memory})", w, "exactly_once"),
        Case("  fence after consumer_pos store", w.with_(fences=FENCE_AFTER_STORE, **big), "holds"),
        Case(f"lost wakeup, level ({memory})", w.with_(consumer="level"), "exactly_once"),
        Case("  fence before poll.wait", w.with_(consumer="level", fences=("c.poll.wait",), **big), "holds"),
        Case("  default bound", w.with_(consumer="level", fences=("c.poll.wait",)), "bounded"),
    ] + ([Case("plain producer_pos publication", w.with_(consumer="level", fences=("c.poll.wait",),
                                                         orders=("p0.reserve.claim:producer_pos=plain",), **big),
               "committed_only")] if memory == "ra" else [])


def default_suite() -> list[Case]:
    """The suite, in the order of the table it prints."""
    cases = [
        Case("CVE-2021-3489 shape", CVE_2021_3489, "in_bounds"),
        Case("CVE-2021-3489 fixed (v5.13)", CVE_2021_3489.with_(variant="v5.13"), "holds"),
        Case("CVE-2024-41009 shape", CVE_2024_41009, "no_overlap"),
        Case("CVE-2024-41009 on v5.8", CVE_2024_41009.with_(variant="v5.8"), "no_overlap"),
        Case("CVE-2024-41009 fixed (v6.10)", CVE_2024_41009.with_(variant="v6.10"), "holds"),
        Case("CVE-2021-3489 fixed (v6.10)", CVE_2021_3489.with_(variant="v6.10"), "holds"),
    ]
    for variant in ("v5.8", "v5.13", "v6.10"):
        for consumer in ("level", "edge"):
            cases.append(Case(f"honest {consumer} consumer", HONEST.with_(variant=variant, consumer=consumer),
                              "holds"))
    return cases

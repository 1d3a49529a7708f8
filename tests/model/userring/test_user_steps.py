"""The user ring's steps make exactly the shared accesses their @step declarations list."""

from collections import defaultdict

from model import Config
from model.steps import STEPS
from model.userring import UserRingModel, is_user_ring_step
from model.userring.memory import UserMem

CONFIGS = [
    Config(map="user", discard=True, wakeup_flags=True, drains=2, records=2, sizes=(0, 8)),
    Config(map="user", ring_size=16, user_producer="adversarial", hostile_writes=2, sizes=(8,)),
]


def _recorded(cfg: Config, limit: int = 4000) -> dict[str, set[tuple[str, str]]]:
    """Every step's accesses over the first ``limit`` states (BFS), through a recording UserMem."""
    m = UserRingModel(cfg)
    made: dict[str, set[tuple[str, str]]] = defaultdict(set)
    frontier, seen = m.initial_states(), set(m.initial_states())
    while frontier and len(seen) < limit:
        s = frontier.pop(0)
        for action, fn, args in m.steps(s):
            log: list = []
            t = fn(cfg, s, *args, mem=UserMem(s, log))
            assert t == fn(cfg, s, *args), action
            made[action.step] |= set(log)
            if t not in seen:
                seen.add(t)
                frontier.append(t)
    return made


def test_every_user_ring_step_makes_exactly_the_accesses_it_declares():
    made: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for cfg in CONFIGS:
        for step, accesses in _recorded(cfg).items():
            made[step] |= accesses
    names = [n for n in STEPS if is_user_ring_step(n)]
    assert len(names) == 14
    problems = []
    for name in names:
        declared = {(a.var, a.kind) for a in STEPS[name].accesses}
        if made[name] - declared:
            problems.append(f"{name} touches {sorted(made[name] - declared)} without declaring it")
        if declared - made[name]:
            problems.append(f"{name} declares {sorted(declared - made[name])} but never makes it")
    assert not problems, "\n".join(problems)

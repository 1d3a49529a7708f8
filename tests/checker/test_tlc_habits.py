"""Issue 16, class 15: what users of TLC, Apalache and SPIN expect of a checker.

Coverage (how often each step fired, which never did), several
counterexamples in one run, a switch for deadlock checking, and TLC's
statistics lines.
"""

import json
from collections import deque

import pytest

from checker.cli import cli_entry
from checker.run import check
from checker.search import Limits, SearchError
from checker.suite import CVE_2024_41009
from model.ringbuf import RingBufModel
from model.steps import STEPS
from specs import all_properties

CVE = ["check", "--variant", "v5.13", "--consumer", "adversarial", "--hold", "2", "--sizes", "8,16"]


def run(args, capsys):
    code = cli_entry(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_coverage_counts_every_step_and_names_those_that_never_fired(capsys):
    code, out, _ = run(CVE[:2] + ["v6.10"] + CVE[3:] + ["--coverage", "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    cov = {row["step"]: row for row in d["coverage"]["steps"]}
    assert list(cov) == RingBufModel(CVE_2024_41009.with_(variant="v6.10")).step_names()
    assert "store_prod" not in cov and "store_cons" in cov, "only the attacker's own powers are its steps"
    assert sum(r["fired"] for r in cov.values()) == d["stats"]["transitions"]
    assert sum(r["distinct"] for r in cov.values()) == d["stats"]["states"] - 1
    assert cov["reserve.scan"]["fired"] > 0 and cov["store_cons"]["fired"] > 0
    never = d["coverage"]["never_fired"]
    assert "consume.deliver" in never and "store_cons" not in never
    assert all(cov[n]["fired"] == 0 for n in never)


def test_coverage_as_text_and_with_every_strategy(capsys):
    code, out, _ = run(CVE + ["--coverage", "--strategy", "dfs"], capsys)
    assert code == 1 and "coverage:" in out and "never fired: consume.load_cons" in out
    v = check(CVE_2024_41009.with_(variant="v6.10"), strategy="random", coverage=True,
              limits=Limits(walks=20))
    assert sum(v.coverage.fired.values()) == v.stats.transitions
    assert check(CVE_2024_41009).coverage is None


def _shortest_distances(cfg):
    """Oracle: BFS distance of every state reachable without passing through a violating state."""
    model = RingBufModel(cfg)
    props = all_properties()
    init = model.initial_states()[0]
    dist = {init: 0}
    queue = deque([init])
    while queue:
        s = queue.popleft()
        if any(p.check(cfg, s, model.is_terminal(s)) for p in props):
            continue
        for _, t in model.successors(s):
            if t not in dist:
                dist[t] = dist[s] + 1
                queue.append(t)
    return dist


def test_max_violations_collects_distinct_shortest_traces():
    v = check(CVE_2024_41009, max_violations=4)
    assert v.kind == "violated" and len(v.violations) == 4
    finals = [x.trace.final for x in v.violations]
    assert len(set(finals)) == 4
    dist = _shortest_distances(CVE_2024_41009)
    for x in v.violations:
        x.trace.replay()
        assert len(x.trace) == dist[x.trace.final]
    assert v.trace is v.violations[0].trace and v.property == v.violations[0].property
    one = check(CVE_2024_41009)
    assert len(one.trace) == len(v.trace) and one.stats.states < v.stats.states


def test_max_violations_beyond_what_exists_says_the_search_completed():
    from checker.suite import CVE_2021_3489

    v = check(CVE_2021_3489, max_violations=10**6)
    assert v.kind == "violated" and 1 < len(v.violations) < 10**6
    assert "every reachable state was explored" in v.notes[0]
    assert {x.property for x in v.violations} == {"in_bounds"}
    assert check(CVE_2021_3489.with_(variant="v6.10"), max_violations=10**6).kind == "holds"


def test_max_violations_in_json_and_text(capsys):
    code, out, _ = run(CVE + ["--max-violations", "3", "--json"], capsys)
    assert code == 1
    d = json.loads(out)
    assert len(d["violations"]) == 3 and d["trace"] == d["violations"][0]["trace"]
    code, out, _ = run(CVE + ["--max-violations", "2"], capsys)
    assert code == 1 and "violation 2: no_overlap" in out


def test_max_violations_is_for_bfs(capsys):
    with pytest.raises(SearchError):
        check(CVE_2024_41009, strategy="dfs", max_violations=2)
    code, _, err = run(CVE + ["--max-violations", "2", "--strategy", "random"], capsys)
    assert code == 2 and "max-violations" in err


def test_deadlock_checking_can_be_switched_off(monkeypatch, capsys):
    import model.producer as producer

    monkeypatch.setattr(producer, "reserve_lock", lambda cfg, s, p: None)
    cfg = CVE_2024_41009.with_(variant="v6.10", consumer="level", hold=1)
    assert check(cfg, engine="python").property == "deadlock"
    assert check(cfg, deadlock=False, engine="python").kind == "holds"
    args = ["check", "--consumer", "level", "--hold", "1", "--engine", "python"]
    assert run(args, capsys)[0] == 1
    code, out, _ = run(args + ["--no-deadlock"], capsys)
    assert code == 0 and "holds (complete)" in out
    assert run(args + ["--deadlock"], capsys)[0] == 1


def test_tlc_statistics_lines_on_stderr_and_queue_in_json(capsys):
    code, out, err = run(CVE[:2] + ["v6.10"] + CVE[3:] + ["--max-states", "300", "--json"], capsys)
    assert code == 3
    d = json.loads(out)
    s = d["stats"]
    assert s["queue"] > 0
    assert (f"{s['transitions']} states generated" in err and f"{s['states']} distinct states found" in err
            and f"{s['queue']} states left on queue." in err and f"search is {s['depth']}." in err)
    code, out, err = run(CVE[:2] + ["v6.10"] + CVE[3:] + ["--json"], capsys)
    assert code == 0 and json.loads(out)["stats"]["queue"] == 0 and "0 states left on queue." in err

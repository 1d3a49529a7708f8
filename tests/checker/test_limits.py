"""Issue 16, classes 1 and 4: every limit is validated and honoured, memory included.

A search that runs out of memory (its own budget, a MemoryError raised
anywhere, or RLIMIT_AS) ends in "holds up to bound max_memory=..." with its
statistics and exit 3; sizes the machine cannot hold are refused up front;
the random strategy always ends; nonsense limits (nan, inf, 0, negative) are
one-line errors.
"""

import functools
import json
import math
import os
import resource
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker.cli import cli_entry
from checker.memory import MemoryBudgetError, default_max_memory_mb, mem_total_mb, parse_memory, rss_mb
from checker.run import check
from checker.search import Limits, SearchError
from checker.suite import CVE_2024_41009
from model.config import MAX_RING_SIZE, Config, ConfigError
from model.ringbuf import RingBufModel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOLDS_CFG = CVE_2024_41009.with_(variant="v6.10")
BIG = ["check", "--variant", "v6.10", "--ring-size", "64", "--producers", "3", "--records", "2",
       "--hold", "1", "--sizes", "8,16", "--consumer", "level", "--discard"]
"""The issue's configuration: millions of states, more than a small address space holds."""


def run(args, capsys):
    code = cli_entry(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@functools.cache
def small_address_space() -> int:
    """RLIMIT_AS for the out-of-memory tests: what ringcheck maps once imported, plus 60 MB to fill."""
    code = "import checker.cli, os; print(int(open('/proc/self/statm').read().split()[0]) * os.sysconf('SC_PAGE_SIZE'))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT)
    return int(p.stdout) + 60 * 2**20


def ringcheck(args, address_space=None, timeout=120):
    """ringcheck in a fresh interpreter, optionally under RLIMIT_AS (as `prlimit --as` does)."""
    def limit():
        if address_space:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", "from checker.cli import entry_point; entry_point()", *args],
                          capture_output=True, text=True, timeout=timeout, preexec_fn=limit, env=env, cwd=ROOT)


# --- class 1: out of memory ---------------------------------------------------------------------

def test_a_tiny_max_memory_ends_in_a_bounded_verdict_with_statistics(capsys):
    code, out, err = run(CVE_2024_41009_V610 + ["--max-memory", "1M", "--json"], capsys)
    assert code == 3
    d = json.loads(out)
    assert d["verdict"] == "bounded" and d["bound"] == "max_memory=1MB"
    assert d["stats"]["states"] > 0 and d["stats"]["transitions"] > 0 and d["stats"]["peak_mb"] > 1


CVE_2024_41009_V610 = ["check", "--variant", "v6.10", "--consumer", "adversarial", "--hold", "2", "--sizes", "8,16"]


@pytest.mark.parametrize("strategy", ["bfs", "dfs", "random"])
def test_every_strategy_stops_at_the_memory_budget(strategy):
    v = check(HOLDS_CFG, strategy=strategy, limits=Limits(max_memory=1))
    assert v.kind == "bounded" and v.bound.startswith("max_memory=1MB") and v.stats.states > 0


def test_a_memory_error_anywhere_in_the_search_is_a_bounded_verdict(monkeypatch):
    real = RingBufModel.successors
    calls = []

    def successors(self, s):
        calls.append(1)
        if len(calls) > 300:
            raise MemoryError
        return real(self, s)

    monkeypatch.setattr(RingBufModel, "successors", successors)
    for strategy in ("bfs", "dfs", "random"):
        calls.clear()
        v = check(HOLDS_CFG, strategy=strategy, engine="python")
        assert v.kind == "bounded" and v.exit_code == 3
        assert v.bound.startswith("max_memory=") and "MemoryError" in v.bound
        assert v.stats.states > 0 and v.stats.transitions > 0


def test_under_an_address_space_limit_the_default_budget_stops_the_search():
    """`prlimit --as`: the default budget is measured from RLIMIT_AS, so the search stops on its own."""
    p = ringcheck(BIG, address_space=small_address_space())
    assert p.returncode == 3, p.stderr[-2000:]
    assert "holds up to bound max_memory=" in p.stdout and "Traceback" not in p.stderr
    assert "distinct states found" in p.stderr


def test_under_an_address_space_limit_a_larger_budget_still_stops_before_the_limit():
    """A budget above what RLIMIT_AS allows: the address-space guard stops the search, still exit 3.

    Running into RLIMIT_AS itself crashed CPython 3.11 (SIGSEGV in a failed dict-items iterator) about one
    run in ten on a loaded machine; this test failed in CI that way (exit -11) before the guard.
    """
    total = mem_total_mb()
    if total is None or total < 1024:
        pytest.skip("needs a machine with more than 1 GB")
    p = ringcheck(BIG + ["--max-memory", f"{int(total * 0.9)}M", "--json"], address_space=small_address_space())
    assert p.returncode == 3, p.stderr[-2000:]
    d = json.loads(p.stdout)
    assert d["verdict"] == "bounded" and "address-space limit" in d["bound"] and d["stats"]["states"] > 1000
    assert "Traceback" not in p.stderr


def test_the_address_space_guard_keeps_its_reserve_free():
    """Under RLIMIT_AS, ``MemoryBudget.exceeded`` turns true while the reserve is still unmapped."""
    code = ("import resource, sys; sys.path.insert(0, '.'); from checker.memory import MemoryBudget, _statm;"
            "size = _statm()[0]; limit = size + 200 * 2**20;"
            "resource.setrlimit(resource.RLIMIT_AS, (limit, limit));"
            "b = MemoryBudget(10**6); held = []\n"
            "while not b.exceeded(): held.append(bytearray(2**20))\n"
            "print((limit - _statm()[0]) / 2**20, len(held), b.bound())")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]
    free_mb, held, bound = p.stdout.split(maxsplit=2)
    assert 30 < float(free_mb) < 45 and int(held) > 100
    assert bound.startswith("max_memory=") and "address-space limit" in bound


def test_the_default_budget_follows_the_address_space_limit():
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (400_000_000, 400_000_000));"
            "from checker.memory import default_max_memory_mb; print(default_max_memory_mb())")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert 0 < float(p.stdout) < 0.8 * 400_000_000 / 2**20
    assert default_max_memory_mb() > rss_mb()


@pytest.mark.parametrize("text,mb", [("512", 512), ("512M", 512), ("2G", 2048), ("1.5g", 1536),
                                     ("2048K", 2), ("256MiB", 256)])
def test_max_memory_sizes(text, mb):
    assert parse_memory(text) == mb


@pytest.mark.parametrize("text", ["0", "-5", "nan", "inf", "1e400", "abc", "", "12Q", "100000T"])
def test_bad_max_memory_is_refused(text, capsys):
    with pytest.raises(MemoryBudgetError):
        parse_memory(text)
    code, out, err = run(["check", "--max-memory", text], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "max-memory" in err


def test_the_default_suite_takes_max_memory(capsys):
    code, out, _ = run(["--max-memory", "1M"], capsys)
    assert code == 3 and "max_memory=1MB" in out and "0 unexpected" in out


@pytest.mark.parametrize("field,value", [
    ("ring_size", 2 * MAX_RING_SIZE), ("ring_size", 1 << 32), ("ring_size", 1 << 64),
    ("sizes", tuple(range(0, 8 * 65, 8))), ("adversary_reach", 1 << 40),
])
def test_sizes_the_machine_cannot_hold_are_refused(field, value):
    with pytest.raises(ConfigError) as e:
        Config(**{field: value})
    msg = str(e.value)
    assert msg.startswith(field) and "\n" not in msg


def test_the_largest_ring_is_accepted():
    assert Config(ring_size=MAX_RING_SIZE).ring_size == MAX_RING_SIZE


def test_a_huge_ring_size_on_the_command_line_is_one_line():
    p = ringcheck(["check", "--ring-size", "0x100000000"], address_space=1_000_000_000, timeout=60)
    assert p.returncode == 2 and "ring_size" in p.stderr and len(p.stderr.strip().splitlines()) == 1


# --- class 4: limits that limit -----------------------------------------------------------------

def test_random_on_a_tiny_model_ends_although_max_states_is_never_reached():
    p = ringcheck(["check", "--ring-size", "16", "--records", "1", "--sizes", "8", "--strategy", "random",
                   "--max-states", "1000", "--json"], timeout=60)
    assert p.returncode == 3, p.stderr
    d = json.loads(p.stdout)
    assert d["stats"]["states"] == 20 and d["bound"] == "random walks=1000 of depth<=200, seed 0"


def test_random_honours_walks_and_walk_length():
    v = check(HOLDS_CFG, strategy="random", limits=Limits(max_depth=3, walks=5))
    assert v.kind == "bounded" and v.bound == "random walks=5 of depth<=3, seed 0"
    assert v.stats.depth <= 3 and v.stats.transitions > 0


def test_random_honours_the_timeout_inside_one_endless_walk():
    """The adversary can always store consumer_pos, so a walk never ends before its length."""
    p = ringcheck(CVE_2024_41009_V610 + ["--strategy", "random", "--walks", "1", "--max-depth", "100000000",
                                         "--timeout", "1", "--json"], timeout=60)
    assert p.returncode == 3, p.stderr
    d = json.loads(p.stdout)
    assert d["bound"].startswith("timeout=1.0s (0 walks") and d["stats"]["seconds"] < 10


@pytest.mark.parametrize("option,value", [
    ("--timeout", "nan"), ("--timeout", "inf"), ("--timeout", "-inf"), ("--timeout", "-1"),
    ("--timeout", "0"), ("--max-states", "0"), ("--max-states", "-3"), ("--max-depth", "0"),
    ("--walks", "0"), ("--max-violations", "0"),
])
def test_limits_that_cannot_limit_are_one_line_errors(option, value, capsys):
    args = ["check", "--strategy", "random"] if option == "--walks" else ["check"]
    code, out, err = run(args + [f"{option}={value}"], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and option.lstrip("-") in lines[0] and "Traceback" not in err


@pytest.mark.parametrize("kw", [{"timeout": float("nan")}, {"timeout": float("inf")}, {"max_states": 1.5},
                                {"max_depth": True}, {"max_memory": float("nan")}, {"walks": -1}])
def test_limits_refuse_nonsense(kw):
    with pytest.raises(SearchError):
        Limits(**kw)


def test_walks_is_for_the_random_strategy(capsys):
    code, _, err = run(["check", "--walks", "3"], capsys)
    assert code == 2 and "walks" in err


@pytest.mark.parametrize("strategy", ["bfs", "dfs"])
def test_timeout_and_max_states_are_honoured(strategy):
    v = check(HOLDS_CFG, strategy=strategy, limits=Limits(max_states=300))
    assert v.kind == "bounded" and v.bound == "max_states=300" and 300 <= v.stats.states < 1000
    v = check(Config(variant="v6.10", ring_size=64, producers=3, records=2, sizes=(8, 16), discard=True),
              strategy=strategy, limits=Limits(timeout=0.5))
    assert v.kind == "bounded" and v.bound == "timeout=0.5s" and v.stats.seconds < 5


def test_states_stops_at_the_memory_budget_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "g.dot"
    code, _, err = run(["states", "--format", "dot", "--output", str(out), "--hold", "2", "--max-states", "100000",
                        "--max-memory", "1M"], capsys)
    assert code == 3 and not out.exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "max_memory=1MB" in lines[0] and "states" in lines[0]


def test_states_turns_a_memory_error_into_the_same_answer(tmp_path, monkeypatch, capsys):
    def no_memory(self, s):
        raise MemoryError

    monkeypatch.setattr(RingBufModel, "successors", no_memory)
    code, _, err = run(["states", "--format", "dot", "--output", str(tmp_path / "g.dot")], capsys)
    assert code == 3 and "MemoryError" in err and len(err.strip().splitlines()) == 1


def test_a_scenario_stops_at_the_memory_budget_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "t.json"
    code, _, err = run(["trace", "p0 reserve 8; p0 write; p0 submit", "--format", "json", "--output", str(out),
                        "--max-memory", "1M"], capsys)
    assert code == 3 and not out.exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "max_memory=1MB" in lines[0] and "statement 1 of 3" in lines[0]


def test_a_memory_error_while_replaying_a_scenario_is_the_same_answer(tmp_path, monkeypatch, capsys):
    def no_memory(self, s, action):
        raise MemoryError

    monkeypatch.setattr(RingBufModel, "apply", no_memory)
    code, _, err = run(["trace", "p0 reserve 8; p0 write", "--format", "json", "--output", str(tmp_path / "t")],
                       capsys)
    assert code == 3 and "MemoryError" in err and len(err.strip().splitlines()) == 1


def test_crosscheck_stops_at_the_memory_budget(capsys):
    code, out, _ = run(["crosscheck", "--hold", "2", "--max-memory", "1M", "--json"], capsys)
    assert code == 3
    d = json.loads(out)
    assert d["verdict"] == "bounded" and d["cut_short"] == "max_memory=1MB" and d["disagreements"] == 0


def test_crosscheck_turns_a_memory_error_into_a_bounded_report(monkeypatch, capsys):
    import checker.smt.crosscheck as crosscheck

    def no_memory(*args, **kw):
        raise MemoryError

    monkeypatch.setattr(crosscheck, "flat_values", no_memory)
    code, out, _ = run(["crosscheck", "--ring-size", "16", "--records", "1", "--sizes", "8", "--json"], capsys)
    assert code == 3
    d = json.loads(out)
    assert d["verdict"] == "bounded" and "MemoryError" in d["cut_short"] and d["configs"][0]["reachable"] > 0


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_timeout_is_accepted_exactly_when_it_is_positive_and_finite(t):
    if math.isfinite(t) and t > 0:
        assert Limits(timeout=t).timeout == t
    else:
        with pytest.raises(SearchError):
            Limits(timeout=t)


@given(st.integers(min_value=-2**70, max_value=2**70))
def test_a_state_or_depth_limit_is_accepted_exactly_when_positive(n):
    for name in ("max_states", "max_depth", "walks"):
        if n > 0:
            assert getattr(Limits(**{name: n}), name) == n
        else:
            with pytest.raises(SearchError):
                Limits(**{name: n})

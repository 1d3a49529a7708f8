"""The README's test command and the 'slow' split: the long tests are left out of it, and still run.

``python -m pytest`` (the README's command) must end within minutes on two
cores, so the longest tests carry ``@pytest.mark.slow``: pyproject's addopts
leave them out, ``.ci/run`` runs them right after with ``python -m pytest -m
slow``, and the README says both. Nothing here times a test: what is checked
is that the split is real (pytest's own selection puts the long tests on the
slow side and only there) and written down where a user looks.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LONG = [
    "tests/checker/test_manifest.py::test_standard_configuration_matches_manifest[honest/level/S32]",
    "tests/checker/test_manifest.py::test_standard_configuration_matches_manifest[honest/edge/S32]",
    "tests/checker/test_manifest.py::test_standard_configuration_matches_manifest[honest/level/S64]",
    "tests/checker/smt/test_smt_prove.py::test_proof_does_not_hold_without_the_window_headers_invariant",
    "tests/checker/smt/test_smt_prove.py::test_level_proof_log_has_a_place_per_record_and_never_fills",
    "tests/checker/smt/test_smt_bitwuzla.py::test_prove_through_bitwuzla_gives_the_same_verdicts",
    "tests/checker/smt/test_smt_quantifiers.py::test_quantifiers_are_found_and_abstracted_at_any_depth",
    "tests/checker/smt/test_smt_bmc.py::test_cve_2024_41009_at_real_size_replays_at_that_size",
    "tests/checker/smt/test_smt_prove.py::test_v6_10_level_consumer_committed_only_holds",
    "tests/checker/kernel/test_kernel_diff.py::test_many_scenarios_leave_no_fd_or_mapping_behind",
]
"""The tests the profile of the whole suite found longest (25-135 s each on two loaded cores)."""


def _collected(*marker: str) -> set[str]:
    """Node ids pytest selects from the files of ``LONG`` with the project's addopts plus ``marker``."""
    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    opts = [o for o in shlex.split(addopts) if o not in ("-n", "auto")]
    files = sorted({n.split("::")[0] for n in LONG})
    r = subprocess.run([sys.executable, "-m", "pytest", "-o", "addopts=", *opts, *marker, "-p", "no:xdist",
                        "-p", "no:cacheprovider", "--collect-only", *files],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 5), r.stdout + r.stderr
    return {line for line in r.stdout.splitlines() if "::" in line}


def test_the_default_run_leaves_the_long_tests_out_and_runs_the_rest():
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert '-m "not slow"' in ini["addopts"]
    assert any(m.startswith("slow:") for m in ini["markers"])
    default = _collected()
    assert default and not default & set(LONG)
    assert "tests/checker/test_manifest.py::test_standard_configuration_matches_manifest[cve-2024-41009/v6.10]" in default
    assert "tests/checker/smt/test_smt_bmc.py::test_cve_2021_3489_on_v5_8_shortest_trace_replays" in default


def test_the_long_tests_run_under_the_slow_marker():
    slow = _collected("-m", "slow")
    assert set(LONG) <= slow


def test_ci_runs_the_slow_tests_after_the_readme_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme_cmd = ci.index("python3 -m pytest\n")
    assert ci.index("python3 -m pytest -m slow") > readme_cmd


def test_the_readme_says_how_long_the_test_command_takes_and_how_to_run_the_slow_tests():
    readme = (ROOT / "README.md").read_text()
    two = readme[readme.index("## Two commands"):readme.index("\n## ", readme.index("## Two commands") + 1)]
    assert "pip install -e '.[test]' && python -m pytest" in two
    assert "python -m pytest -m slow" in two
    assert "a few minutes" not in two  # a measured time instead
    assert "CPU" in two and "minutes" in two

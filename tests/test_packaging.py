"""What a plain ``pip install .`` gives: every documented command runs without the test extra.

hypothesis drives ``conform --method stateful``, ``conform --mutants`` and
``kernel diff``, so it is a runtime requirement; the test extra holds only what
the test suite itself needs (pytest, xdist, pydot, rustworkx). The commands are
run in a child interpreter in which importing any test-extra package fails, as
it would after ``pip install .``.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import setuptools

ROOT = Path(__file__).resolve().parents[1]
TEST_ONLY = ("pytest", "_pytest", "xdist", "pydot", "rustworkx")

# Run in the child: refuse to import the test extra, then run the CLI with the given arguments.
WITHOUT_TEST_EXTRA = f"""
import sys
class _NoTestExtra:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {TEST_ONLY!r}:
            raise ImportError("test extra not installed: " + name)
        return None
sys.meta_path.insert(0, _NoTestExtra())
for module in sys.argv[1].split(","):
    if module:
        __import__(module)
sys.argv = ["ringcheck", *sys.argv[2:]]
from checker.cli import entry_point
entry_point()
"""


def _runtime_requirements(requires: list[str] | None) -> set[str]:
    """The names of the requirements that carry no ``extra == ...`` marker."""
    names = set()
    for req in requires or []:
        if "extra ==" in req:
            continue
        name = req.split(";")[0].strip()
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(name.lower())
    return names


def _built_distribution(tmp_path: Path) -> importlib.metadata.Distribution:
    """The metadata ``pip install .`` would install from this checkout (setuptools' egg_info, no build)."""
    cwd = Path.cwd()
    try:
        import os

        os.chdir(ROOT)
        setuptools.setup(script_args=["-q", "egg_info", "--egg-base", str(tmp_path)])
    finally:
        os.chdir(cwd)
    return importlib.metadata.PathDistribution(tmp_path / "ringcheck.egg-info")


def test_hypothesis_is_a_runtime_requirement(tmp_path: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "hypothesis" in _runtime_requirements(project["dependencies"])
    assert "hypothesis" not in _runtime_requirements(project["optional-dependencies"]["test"])
    built = _built_distribution(tmp_path)
    assert built.metadata["Name"] == "ringcheck"
    assert "hypothesis" in _runtime_requirements(built.requires)
    # The installed distribution too, when it was installed from this checkout (as .ci/run does).
    installed = importlib.metadata.distribution("ringcheck")
    url = json.loads(installed.read_text("direct_url.json") or "{}").get("url", "")
    if url == ROOT.as_uri():
        assert "hypothesis" in _runtime_requirements(installed.requires)


def _run_without_test_extra(*args: str, imports: str = "") -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    return subprocess.run([sys.executable, "-c", WITHOUT_TEST_EXTRA, imports, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_blocker_does_block_the_test_extra() -> None:
    r = _run_without_test_extra("--help", imports="pydot")
    assert r.returncode != 0 and "test extra not installed: pydot" in r.stderr


def test_stateful_conform_and_kernel_diff_need_no_test_extra() -> None:
    r = _run_without_test_extra("conform", "--method", "stateful", "--examples", "5",
                                imports="checker.kernel.campaign,checker.kernel.strategies,checker.conformance.mutants")
    assert r.returncode == 3, r.stderr  # stateful testing is never complete: conforms up to a bound
    assert "Traceback" not in r.stderr and "test extra" not in r.stderr
    r = _run_without_test_extra("kernel", "diff", "--scripts", "3", "--seed", "0")
    # 0: agrees; 2: bpf() not permitted here (one line). Either way not a missing dependency.
    assert r.returncode in (0, 2), r.stderr
    assert "hypothesis" not in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_mutation_score_needs_no_test_extra() -> None:
    r = _run_without_test_extra("conform", "--mutants")
    assert r.returncode == 0, r.stderr
    assert "12/12 caught" in r.stdout

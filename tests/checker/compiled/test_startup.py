"""Start-up: the compiled core does not make numba import SciPy, and SciPy stays importable."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="SciPy is not installed")


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=300).stdout.strip()


def test_importing_the_core_leaves_scipy_unimported_and_importable():
    out = _run("import sys, checker.compiled, numba.np.arraymath as am\n"
               "print('scipy' in sys.modules, am._HAVE_BLAS)\n"
               "import scipy.linalg\n"
               "print('scipy' in sys.modules)")
    assert out.split() == ["False", "False", "True"]


def test_a_process_that_imported_scipy_first_keeps_its_blas():
    out = _run("import scipy.linalg, checker.compiled, numba.np.arraymath as am; print(am._HAVE_BLAS)")
    assert out == "True"

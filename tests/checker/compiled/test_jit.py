"""``hot`` functions run without reference counting: views work, allocating is refused at compile time;
and compiles are serialized across processes."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from numba.core.errors import NumbaError

from checker.compiled.jit import LOCK_NAME, hot

ROOT = str(Path(__file__).resolve().parents[3])


@hot
def _row_sums(a, out):
    for i in range(a.shape[0]):
        row = a[i]                       # a view: no count taken, none needed
        s = 0
        for x in row[1:]:
            s += x
        out[i] = s + row[0]


@hot(inline="always")
def _twice(x):
    return 2 * x


@hot
def _uses_inline(x):
    return _twice(x) + 1


def _allocates(n):
    return np.zeros(n, np.int64)


def _copies(a, b):
    a[:] = b + 1


def test_views_in_a_hot_function_give_the_right_values():
    a = np.arange(12, dtype=np.int64).reshape(4, 3)
    out = np.zeros(4, np.int64)
    _row_sums(a, out)
    assert out.tolist() == a.sum(axis=1).tolist()
    assert _uses_inline(20) == 41


def test_a_hot_function_that_allocates_does_not_compile():
    with pytest.raises(NumbaError, match="NRT required|zeros"):
        hot(_allocates)(3)
    with pytest.raises(NumbaError, match="NRT required"):
        hot(_copies)(np.zeros(3, np.int64), np.ones(3, np.int64))


# --- one compiler at a time, across processes ---------------------------------------------------

_TINY_MODULE = '''
import sys
from checker.compiled.jit import hot

@hot
def triple(x):
    return 3 * x

print(triple(int(sys.argv[1])), sum(triple._cache_misses.values()), sum(triple._cache_hits.values()), flush=True)
'''


def _compile_in_a_process(tmp_path, arg: int) -> subprocess.Popen:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, str(tmp_path / "tiny.py"), str(arg)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)


@contextmanager
def _lock_held_here(tmp_path):
    """The tiny module written and the cache's compile lock held by this process, as a compiling one would."""
    (tmp_path / "tiny.py").write_text(_TINY_MODULE)
    (tmp_path / "cache").mkdir()
    fd = os.open(tmp_path / "cache" / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(fd)


def test_a_compile_waits_while_another_process_holds_the_lock(tmp_path):
    with _lock_held_here(tmp_path):
        p = _compile_in_a_process(tmp_path, 5)
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=4)             # numba and the compile take about 1.5 s unlocked
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err[-2000:]
    assert out.split()[0] == "15"


def test_two_processes_on_a_cold_cache_compile_once(tmp_path):
    """Both start while the lock is held, so both reach their compile together; one compiles, one loads."""
    with _lock_held_here(tmp_path):
        procs = [_compile_in_a_process(tmp_path, k) for k in (1, 2)]
        time.sleep(4)
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
        results.append(tuple(int(x) for x in out.split()))
    assert sorted(r[0] for r in results) == [3, 6]
    assert sorted(r[1:] for r in results) == [(0, 1), (1, 0)]   # one compiled (a miss), one loaded (a hit)


def test_a_child_forked_during_a_compile_does_not_keep_the_lock(tmp_path, monkeypatch):
    """The parent holds the lock (as mid-compile); the forked child drops its copy, so once the parent
    releases it another process can take it at once, while the child still runs."""
    from checker.compiled import jit

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    ready_r, ready_w = os.pipe()
    with jit._FILE_LOCK:
        pid = os.fork()
        if pid == 0:                       # the child: its fork handlers have run; say so, then live on
            os.write(ready_w, b"x")
            time.sleep(5)
            os._exit(0)
    try:
        assert os.read(ready_r, 1) == b"x"
        fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # raises BlockingIOError if the child still held it
        os.close(fd)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(ready_r)
        os.close(ready_w)

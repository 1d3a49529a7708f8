"""``hot``: how the core's inner functions are compiled: numba's ``njit``, cached, without reference counting.

Why: numba counts references to every array, and a row or slice taken of
one (``states[i]``, ``OUT[k]``, ``OUT[b:b + cap]``) is a new array whose
creation and release are an atomic increment and decrement of its owner's
count, a call each. The BFS takes several such views per transition; a
profile of level S=64 P=2 E=2 found a quarter of the search's time in those
two calls. The steps, the layout, the predicates, symmetry, the visited set
and the inner loops of the searches never allocate an array (their callers
hand them the buffers they work in), so they need no counting, and numba's
``_nrt=False`` compiles them without it: no view then costs anything.

The rule that follows: a function compiled with ``hot`` must not create an
array (``np.zeros``, ``np.empty``, a copy, ``a[:] = b`` between arrays); numba
refuses to compile one that does ("NRT required but not enabled"), so a
mistake shows at the first run of the test suite, not as a wrong result.
The functions that allocate scratch buffers (each search kernel's entry
point) are ``kernel``: plain ``njit(cache=True)``, and they call a ``hot`` loop.

``kernel`` and ``hot`` also make compiling one process at a time
(``one_compiler_at_a_time``): on a fresh install every ringcheck process
started at once would otherwise compile the same core side by side, each for
about 20 seconds (the test suite's two workers and its command-line tests
did, and paid a minute for it); with the lock, the first compiles and writes
numba's cache, and the others wait and load it.
"""

from __future__ import annotations

import fcntl
import os

from numba import njit
from numba.core.compiler_lock import global_compiler_lock

from checker.compiled import cache_dir

LOCK_NAME = "ringcheck-compile.lock"


class _FileLock:
    """An exclusive ``flock`` on the cache directory's lock file, re-entrant within this process.

    Only ever taken inside numba's own (re-entrant) compiler lock, which also
    guards the depth count; a directory that cannot be written means no lock,
    as numba then keeps no cache there either. The kernel drops the lock when
    a process dies, so a killed compile never blocks the next.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.fd: int | None = None

    def __enter__(self) -> None:
        if self.depth == 0:
            try:
                folder = cache_dir()
                folder.mkdir(parents=True, exist_ok=True)
                self.fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                fcntl.flock(self.fd, fcntl.LOCK_EX)
            except OSError:
                self._close()
            except BaseException:          # Ctrl-C while waiting: leave without the lock
                self._close()
                raise
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1
        if self.depth == 0:
            self._close()

    def _close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)             # closing the only descriptor releases the flock
            self.fd = None


_FILE_LOCK = _FileLock()


def _forget_lock_in_child() -> None:
    """A process forked during a compile must not keep the parent's lock: its descriptor is closed here."""
    if _FILE_LOCK.fd is not None:
        os.close(_FILE_LOCK.fd)           # the parent's descriptor still holds the lock
        _FILE_LOCK.fd = None
    _FILE_LOCK.depth = 0


os.register_at_fork(after_in_child=_forget_lock_in_child)


def one_compiler_at_a_time(dispatcher):
    """Make ``dispatcher`` compile (or load from the cache) only while holding the cross-process lock.

    numba calls a dispatcher's ``compile`` for each new signature, and for a
    callee while typing its caller; numba's global lock is taken first so
    that the two locks are always taken in the same order.
    """
    compile_unlocked = dispatcher.compile

    def compile(sig):
        with global_compiler_lock, _FILE_LOCK:
            return compile_unlocked(sig)

    dispatcher.compile = compile
    return dispatcher


def _decorate(options: dict, func):
    decorator = njit(cache=True, **options)
    if func is not None:
        return one_compiler_at_a_time(decorator(func))
    return lambda f: one_compiler_at_a_time(decorator(f))


def hot(func=None, **options):
    """``@hot`` or ``@hot(inline="always", nogil=True, ...)``: njit(cache=True, _nrt=False, **options)."""
    return _decorate({"_nrt": False, **options}, func)


def kernel(func=None, **options):
    """``@kernel`` or ``@kernel(nogil=True)``: njit(cache=True, **options), for functions that allocate."""
    return _decorate(options, func)

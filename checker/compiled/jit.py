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
point) stay plain ``njit(cache=True)`` and call a ``hot`` loop.
"""

from __future__ import annotations

from numba import njit


def hot(func=None, **options):
    """``@hot`` or ``@hot(inline="always", nogil=True, ...)``: njit(cache=True, _nrt=False, **options)."""
    decorator = njit(cache=True, _nrt=False, **options)
    return decorator(func) if func is not None else decorator

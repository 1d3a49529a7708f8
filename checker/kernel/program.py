"""Load a compiled ``Script``, run it once per call, and decode its results.

``checker.kernel.codegen`` says what the generated program does; this module
owns the kernel objects (the program and its results map), caches loaded
programs per script for repeated runs, and turns the result words back into
``OpResult`` values.
"""

from __future__ import annotations

import struct
from collections import OrderedDict

from checker.kernel import insn as I
from checker.kernel.bpf import BPF_MAP_TYPE_ARRAY, BPF_PROG_TYPE_SOCKET_FILTER, Map, Program, create_map, load_program
from checker.kernel.codegen import RESULT_SLOTS_EXTRA, RESULT_WORDS, generate
from checker.kernel.ringmap import RingMap
from checker.kernel.script import Op, OpResult, Output, Query, Reserve, Script, ScriptResult, reservation_position


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >> 63 else value


def _decode(script: Script, words: tuple[int, ...], auto_discarded: tuple[int, ...]) -> ScriptResult:
    results = []
    for index, op in enumerate(script):
        ok, value = words[RESULT_WORDS * index] != 0, words[RESULT_WORDS * index + 1]
        if isinstance(op, Reserve):
            results.append(OpResult(op, ok, reservation_position(op.size, value) if ok else None))
        elif isinstance(op, Output):
            results.append(OpResult(op, ok, _signed64(value)))
        elif isinstance(op, Query):
            results.append(OpResult(op, ok, value))
        else:
            results.append(OpResult(op, ok))
    return ScriptResult(tuple(results), auto_discarded)


class CompiledScript:
    """A loaded program for one script on one ring, with its own results map."""

    def __init__(self, ring: RingMap, script: Script) -> None:
        self.script = tuple(script)
        slots = len(self.script) + RESULT_SLOTS_EXTRA
        self.results: Map = create_map(BPF_MAP_TYPE_ARRAY, 4, 8 * RESULT_WORDS * slots, 1)
        try:
            self.generated = generate(self.script, ring.fd, self.results.fd)
            self.program: Program = load_program(
                BPF_PROG_TYPE_SOCKET_FILTER, I.assemble(list(self.generated.items)), name="ringcheck_script")
        except BaseException:
            self.results.close()
            raise

    def run(self) -> ScriptResult:
        """Zero the results, run the program once, decode what it stored."""
        key = bytes(4)
        self.results.update(key, bytes(self.results.value_size))
        retval = self.program.test_run()
        if retval != 1:
            raise RuntimeError(f"script program returned {retval}, expected 1 (results map lookup failed?)")
        raw = self.results.lookup(key)
        words = struct.unpack(f"<{len(raw) // 8}Q", raw)
        return _decode(self.script, words, self.generated.auto_discarded)

    def close(self) -> None:
        self.program.close()
        self.results.close()

    def __enter__(self) -> CompiledScript:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class ScriptRunner:
    """Runs scripts on one ring, keeping the most recently used programs loaded.

    Loading (verifying) is the expensive part of a run; a checker that replays
    the same script many times should hold one runner.  Closing the runner
    closes every cached program; it never closes the ring.
    """

    def __init__(self, ring: RingMap, cache_size: int = 32) -> None:
        self.ring = ring
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[Op, ...], CompiledScript] = OrderedDict()

    def compiled(self, script: Script) -> CompiledScript:
        """The loaded program for ``script``, loading it on first use (owned by the runner)."""
        key = tuple(script)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        compiled = CompiledScript(self.ring, key)
        self._cache[key] = compiled
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)[1].close()
        return compiled

    def run(self, script: Script) -> ScriptResult:
        """Run ``script`` once, loading its program only if it is not cached."""
        return self.compiled(script).run()

    def close(self) -> None:
        while self._cache:
            self._cache.popitem()[1].close()

    def __enter__(self) -> ScriptRunner:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def run_script(ring: RingMap, script: Script) -> ScriptResult:
    """Compile, load and run ``script`` once on ``ring``; close the program afterwards."""
    with CompiledScript(ring, script) as compiled:
        return compiled.run()

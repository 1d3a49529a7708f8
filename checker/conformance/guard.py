"""Keeping an implementation under test from taking the checker down with it.

An adapter is code the checker does not control: it may raise anything
(``sys.exit``, ``KeyboardInterrupt`` of its own, ``GeneratorExit``), block
forever, print to standard output, or return something of the wrong type.
`AdapterGuard` wraps a factory so that every call it and its adapters make
is

* caught whatever it raises (BaseException included) and turned into
  `AdapterRaised`, which the driver reports as a divergence in field
  ``exception``;
* timed: a call that has not returned after ``call_timeout`` seconds is
  abandoned and the run ends with `CallTimedOut` naming the call, which
  the checks report as a divergence in field ``timeout``;
* kept quiet: what it writes to ``sys.stdout`` / ``sys.stderr`` during the
  call, and to file descriptor 1 while the guarded work runs, goes to a
  scratch file instead of ringcheck's output, so ``--json`` stays one object;
* checked: results of the wrong type raise `AdapterContractError` (one line
  naming the method and the field; ``conform`` exits 2).

Why a worker thread and not a process: the adapter is a Python object the
factory built in this process (it may hold file descriptors, mappings, a
loaded BPF program); it cannot be sent to another process, and running
calls in a child would change what is being tested. A thread can be
abandoned (it is a daemon, so it never keeps the process alive) and needs
nothing from the adapter. The whole check runs in the worker
(`AdapterGuard.run`), so the price is one thread handoff per run, not per
call: the main thread only waits, waking when the current call's limit
passes. A real Ctrl-C is delivered by Python to the main thread only, so
it stops the run as before; a KeyboardInterrupt the adapter raises itself
happens in the worker and is a finding like any other exception.

What cannot be guarded: ``os._exit``, a crash of the interpreter, and
writes an abandoned call makes to file descriptor 1 after the run has
ended.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import threading
from _thread import get_ident
from time import monotonic
from typing import Any, Callable, TypeVar

from checker.conformance.adapter import Adapter, Factory, Handle, Observation

DEFAULT_CALL_TIMEOUT = 5.0
"""Seconds one adapter call may take (the bundled reference needs microseconds)."""

MESSAGE_LIMIT = 200
"""An exception's text is cut to this many characters in a divergence."""

T = TypeVar("T")


class AdapterRaised(Exception):
    """An adapter call raised; the message is ``Type: text`` of what it raised."""


class CallTimedOut(Exception):
    """An adapter call did not return within the limit; the run was abandoned."""

    def __init__(self, call: str, limit: float, ops: list) -> None:
        super().__init__(f"{call} did not return within {limit:g}s")
        self.call = call
        self.limit = limit
        self.ops = ops
        """The operations the current implementation had started, the blocked one last."""


class _Stopped(BaseException):
    """Raised in an abandoned worker at its next adapter call, so that it stops working."""


class AdapterContractError(ValueError):
    """An adapter returned something of the wrong type (one line naming the method and field)."""


def short(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[:limit - 3] + "..."


def describe_exception(e: BaseException) -> str:
    """``Type: message``, one line, cut."""
    return short(f"{type(e).__name__}: {e}")


def check_call_timeout(value: float | None) -> float | None:
    """A call limit must be a positive finite number of seconds (or None for no limit)."""
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"call_timeout: {value!r} is not a positive finite number of seconds")
    return float(value)


# ------------------------------------------------------------------ output


class _Quiet:
    """A ``sys.stdout``/``sys.stderr`` stand-in: adapter calls write to the scratch file, others pass through."""

    def __init__(self, real: Any, guard: "AdapterGuard") -> None:
        self._real = real
        self._guard = guard

    def write(self, text: str) -> int:
        if self._guard.in_adapter_call():
            return self._guard.swallow(text)
        return self._real.write(text)

    def flush(self) -> None:
        if not self._guard.in_adapter_call():
            self._real.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


# ------------------------------------------------------------------ the guard


class AdapterGuard:
    """A factory whose adapters' calls are caught, timed and kept quiet (see the module docstring).

    Use it where a factory goes, and run the work that drives the adapters
    with `run`; adapter calls made outside `run` are each run as their own
    small job.
    """

    def __init__(self, factory: Factory, call_timeout: float | None = DEFAULT_CALL_TIMEOUT) -> None:
        self.factory = factory
        self.call_timeout = check_call_timeout(call_timeout)
        self._abandoned: set[threading.Thread] = set()
        self._current: tuple[str, tuple, float] | None = None
        self._worker: threading.Thread | None = None
        self._worker_ident = -1
        """The worker's thread id (-1: none), compared on every call: cheaper than current_thread()."""
        self.driver_ops: list | None = None
        """The operation list of the driver currently in use (set by `ImplDriver`)."""
        self.output_bytes = 0
        """Characters the adapter wrote to sys.stdout/sys.stderr during calls (discarded)."""
        self._scratch = tempfile.TemporaryFile()

    # factory protocol
    def __call__(self, ring_size: int, variant: str, **options: object) -> "GuardedAdapter":
        """A guarded fresh adapter; ``options`` (``position_bits=32``) are passed to the factory only when given."""
        self.driver_ops = None
        factory = self.factory
        build = (lambda r, v: factory(r, v, **options)) if options else factory
        inner = self.invoke("factory", build, (ring_size, variant))
        return GuardedAdapter(inner, self)

    def in_adapter_call(self) -> bool:
        """True in the worker during an adapter call, and in every abandoned worker from then on."""
        me = threading.current_thread()
        return (self._current is not None and me is self._worker) or me in self._abandoned

    def swallow(self, text: str) -> int:
        self.output_bytes += len(text)
        return len(text)

    def noted_output(self) -> list[str]:
        """A note for the result when the adapter wrote output that was kept out of ringcheck's."""
        self._scratch.seek(0, os.SEEK_END)
        fd_bytes = self._scratch.tell()
        if not (self.output_bytes or fd_bytes):
            return []
        return [f"the implementation wrote {self.output_bytes + fd_bytes} bytes of output during calls "
                "(kept out of ringcheck's output)"]

    def invoke(self, name: str, fn: Callable[..., T], args: tuple) -> T:
        """Call ``fn(*args)`` as adapter call ``name``: timed, quiet, and every exception as AdapterRaised."""
        if get_ident() != self._worker_ident:
            if threading.current_thread() in self._abandoned:
                raise _Stopped()
            return self.run(lambda: self.invoke(name, fn, args))
        self._current = (name, args, monotonic())
        try:
            return fn(*args)
        except BaseException as e:  # noqa: BLE001  (sys.exit, its own KeyboardInterrupt: all findings)
            raise AdapterRaised(f"{name}: {describe_exception(e)}") from None
        finally:
            self._current = None

    def run(self, job: Callable[[], T]) -> T:
        """Run ``job`` in a worker thread, abandoning it if one adapter call overruns the limit.

        Whatever ``job`` raises is raised here; CallTimedOut if a call overran.
        Already inside the worker, ``job`` simply runs.
        """
        if threading.current_thread() is self._worker:
            return job()
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            self._worker_ident = get_ident()  # before the job's first call can compare it
            try:
                box["value"] = job()
            except BaseException as e:  # noqa: BLE001  (carried to the main thread and raised there)
                box["error"] = e
            finally:
                done.set()

        worker = threading.Thread(target=work, name="ringcheck-adapter", daemon=True)
        self._worker = worker
        self._worker_ident = -1
        saved = self._quiet_start()
        abandoned = False
        try:
            worker.start()
            self._wait(done)
        except BaseException:  # a call overran, or the user pressed Ctrl-C: the worker stops at its next call
            abandoned = True
            self._abandoned.add(worker)
            if self._worker is worker:
                self._worker, self._worker_ident = None, -1
            raise
        finally:
            self._quiet_end(saved, keep_streams=abandoned)
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _wait(self, done: threading.Event) -> None:
        while not done.is_set():
            current = self._current
            if self.call_timeout is None or current is None:
                done.wait(self.call_timeout or 1.0)
                continue
            name, args, started = current
            left = started + self.call_timeout - monotonic()
            if left > 0:
                done.wait(left)
                continue
            if self._current is current and not done.is_set():
                if self._worker is not None:
                    self._abandoned.add(self._worker)
                self._worker, self._worker_ident = None, -1
                ops = list(self.driver_ops) if self.driver_ops is not None else []
                call = f"{name}({', '.join(short(repr(a), 40) for a in args)})"
                raise CallTimedOut(call, self.call_timeout, ops)

    def _quiet_start(self) -> tuple:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Quiet(out, self), _Quiet(err, self)
        try:
            saved_fd: int | None = os.dup(1)
            os.dup2(self._scratch.fileno(), 1)
        except OSError:
            saved_fd = None
        return out, err, saved_fd

    def _quiet_end(self, saved: tuple, keep_streams: bool = False) -> None:
        """Give file descriptor 1 back; the stream stand-ins too, unless an abandoned call may still print."""
        out, err, saved_fd = saved
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
        if keep_streams:
            return
        if isinstance(sys.stdout, _Quiet) and sys.stdout._guard is self:
            sys.stdout = out
        if isinstance(sys.stderr, _Quiet) and sys.stderr._guard is self:
            sys.stderr = err


def guarded(factory: Factory, call_timeout: float | None = DEFAULT_CALL_TIMEOUT) -> AdapterGuard:
    """``factory`` behind a guard (itself if it already is one)."""
    return factory if isinstance(factory, AdapterGuard) else AdapterGuard(factory, call_timeout)


# ------------------------------------------------------------------ results


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_BYTES = (bytes, bytearray, memoryview)


def _check_handle(h: object) -> Handle | None:
    if h is None or (type(h) is Handle and type(h.position) is int and type(h.size) is int
                     and type(h.producer) is int):
        return h  # type: ignore[return-value]
    if not isinstance(h, Handle):
        raise AdapterContractError(f"adapter: reserve() returned {type(h).__name__}, not a Handle or None")
    for name in ("position", "size", "producer"):
        if not _is_int(getattr(h, name)):
            raise AdapterContractError(f"adapter: reserve() returned a Handle whose {name} is "
                                       f"{type(getattr(h, name)).__name__}, not an integer")
    return h


def _check_samples(samples: object) -> list[bytes]:
    if not isinstance(samples, (list, tuple)):
        raise AdapterContractError(f"adapter: consume() returned {type(samples).__name__}, not a list of bytes")
    for i, s in enumerate(samples):
        if not isinstance(s, (bytes, bytearray, memoryview)):
            raise AdapterContractError(f"adapter: consume() sample {i} is {type(s).__name__}, not bytes")
    return list(samples)


def _check_observation(obs: object) -> Observation:
    if type(obs) is Observation and type(obs.producer_pos) is int and type(obs.consumer_pos) is int \
            and type(obs.data) in _BYTES:
        return obs
    if not isinstance(obs, Observation):
        raise AdapterContractError(f"adapter: observe() returned {type(obs).__name__}, not an Observation")
    for name in ("producer_pos", "consumer_pos"):
        if not _is_int(getattr(obs, name)):
            raise AdapterContractError(f"adapter: observe() {name} is {type(getattr(obs, name)).__name__}, "
                                       "not an integer")
    if not isinstance(obs.data, (bytes, bytearray, memoryview)):
        raise AdapterContractError(f"adapter: observe() data is {type(obs.data).__name__}, not bytes")
    return obs


_METHODS = ("reserve", "write", "commit", "consume", "set_consumer_pos", "observe", "close")


def _bound(inner: object, name: str) -> Callable[..., Any]:
    """``inner.name``, or a stand-in that raises when called (so a missing method is a finding, in the guard)."""
    try:
        fn = getattr(inner, name)
    except Exception as e:  # noqa: BLE001  (whatever the adapter's __getattr__ raises)
        error = describe_exception(e)
    else:
        if callable(fn):
            return fn
        error = f"TypeError: {name} is {type(fn).__name__}, not a method"

    def missing(*args: object) -> Any:
        raise AttributeError(f"the adapter has no usable {name}() ({error})")
    return missing


class GuardedAdapter:
    """An adapter whose every call goes through its guard, and whose results are type-checked.

    The adapter's methods are looked up once, when it is built.
    """

    def __init__(self, inner: Adapter, guard: AdapterGuard) -> None:
        self.inner = inner
        self.guard = guard
        (self._reserve, self._write, self._commit, self._consume, self._set_consumer_pos, self._observe,
         self._close) = (_bound(inner, name) for name in _METHODS)

    def reserve(self, producer: int, size: int, flags: int = 0) -> Handle | None:
        return _check_handle(self.guard.invoke("reserve", self._reserve, (producer, size, flags)))

    def write(self, handle: Handle, data: bytes) -> None:
        self.guard.invoke("write", self._write, (handle, data))

    def commit(self, handle: Handle, discard: bool = False, flags: int = 0) -> None:
        self.guard.invoke("commit", self._commit, (handle, discard, flags))

    def consume(self) -> list[bytes]:
        return _check_samples(self.guard.invoke("consume", self._consume, ()))

    def set_consumer_pos(self, value: int) -> None:
        self.guard.invoke("set_consumer_pos", self._set_consumer_pos, (value,))

    def observe(self) -> Observation:
        return _check_observation(self.guard.invoke("observe", self._observe, ()))

    def close(self) -> None:
        self.guard.invoke("close", self._close, ())

    @property
    def reopen(self):
        """The adapter's optional ``reopen()`` (the consumer closed and opened again), guarded; None without one."""
        return self.optional("reopen")

    def optional(self, name: str):
        """The adapter's optional method ``name`` (``reopen``, ``adapter.CAPABILITIES``), guarded; None without one."""
        inner = getattr(self.inner, name, None)
        if not callable(inner):
            return None
        return lambda *args: self.guard.invoke(name, inner, args)

    @property
    def write_producer_pos(self):
        return self.optional("write_producer_pos")

    @property
    def write_header(self):
        return self.optional("write_header")

    @property
    def write_payload(self):
        return self.optional("write_payload")

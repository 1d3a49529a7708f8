"""Ctrl-C and SIGTERM: one place that turns them into an ``Interrupted`` exception, within a second.

Why this needs more than Python's default ``KeyboardInterrupt``:

* Python runs a signal handler only between bytecodes of the main thread; a
  z3 or Bitwuzla call can run for minutes in C without returning. z3 also
  catches SIGINT itself during a check (its ``ctrl_c`` parameter), answers
  ``unknown`` and carries on, which is how ``prove`` used to ignore Ctrl-C.
  So, while ``interruptible()`` is active, z3's own handler is switched off,
  the signal is also written to a pipe (``signal.set_wakeup_fd``), and a
  watcher thread reading that pipe calls z3's ``interrupt()`` on the main
  context until the main thread is back in Python and has raised.
* Bitwuzla calls back into Python (its terminator, ``terminator()``); an
  exception raised inside that callback is printed and lost. Around such
  calls ``deferred()`` makes the handler only record the signal, and the
  caller raises afterwards (``raise_if_requested``).
* An interrupted z3 call other than a check (building or simplifying a term)
  fails with the error "canceled", reported through a ctypes callback (where
  the handler must not raise, for the same reason); while a signal is
  pending, that error is raised as ``Interrupted`` instead of ``Z3Exception``.
* ``Interrupted`` derives from ``BaseException``, not ``Exception``, so the
  ``except Exception`` that guards user code (adapters, imports) does not
  swallow it, and not from ``KeyboardInterrupt``, so click does not turn it
  into its bare ``Abort``.

Each command catches ``Interrupted`` where it still holds what it found so
far, prints that (``--json``: one object with verdict ``interrupted``) and
exits ``EXIT_INTERRUPTED`` (130, the shell's 128 + SIGINT). A second signal
while that is being printed ends the process at once with the same code.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = 130
SIGNALS = (signal.SIGINT, signal.SIGTERM)
_STOP_WATCHER = b"\xff"
"""Written to the wakeup pipe by ``interruptible()`` itself when it ends (no signal has this number)."""


class Interrupted(BaseException):
    """Raised in the main thread when SIGINT or SIGTERM arrives (``interruptible``)."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(f"interrupted by {signal_name}")
        self._signal_name = signal_name

    @property
    def signal_name(self) -> str:
        """``SIGINT`` or ``SIGTERM``. Every handler of the exception reads it, so reading it also tells the
        watcher the exception was caught (until then, and for ``ACK_S``, it is raised again if lost)."""
        _state.acknowledged = True
        return self._signal_name


class _State:
    """What the handler and the watcher share: the signal seen, whether it was raised, the deferral depth."""

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self.raised = False
        self.deferred = 0
        self.active = False
        self.delivered = 0
        """Signals the handler has seen: a second one ends the process at once."""
        self.resent = 0
        """Signals the watcher has sent again and the handler has not seen yet (they do not count)."""
        self.acknowledged = False
        """Set when a handler of ``Interrupted`` has read its signal name."""


_state = _State()


def requested() -> str | None:
    """The name of the signal that arrived (``SIGINT``/``SIGTERM``), or None."""
    return _state.signal_name


def raise_if_requested() -> None:
    """Raise ``Interrupted`` now if a signal arrived while it could not be raised (``deferred``)."""
    if _state.signal_name is not None and _state.deferred == 0:
        _state.raised = True
        raise Interrupted(_state.signal_name)


def raise_at_safe_point() -> None:
    """Raise ``Interrupted`` if a signal arrived, even inside ``deferred()``.

    For code run by a library that must not be interrupted just anywhere: a
    signal raised inside hypothesis's own data generation surfaces as its
    FlakyStrategyDefinition or is swallowed, so ``kernel diff`` runs the
    campaign deferred and stops here, between scenarios.
    """
    if _state.signal_name is not None:
        _state.raised = True
        raise Interrupted(_state.signal_name)


def terminator() -> Callable[[], bool]:
    """A Bitwuzla terminator: True once a signal has arrived (call the solver inside ``deferred()``)."""
    return lambda: _state.signal_name is not None


@contextmanager
def deferred() -> Iterator[None]:
    """Inside: a signal is only recorded, not raised (for C code that calls back into Python); raised on exit."""
    _state.deferred += 1
    try:
        yield
    finally:
        _state.deferred -= 1
    raise_if_requested()


UNSAFE_FRAMES = frozenset({"z3_error_handler", "from_param", "__del__"})
"""Functions run from C whose exceptions do not propagate: z3's ctypes error callback and argument conversion
(an exception there is printed and lost, or becomes a ``ctypes.ArgumentError``) and finalizers (every z3
object's ``__del__``: "Exception ignored in"). The handler does not raise there; the watcher signals again
a moment later (``_watch``)."""


def _unsafe(frame, depth: int = 8) -> bool:
    """Whether ``frame`` or one of its few callers is in ``UNSAFE_FRAMES``."""
    while frame is not None and depth > 0:
        if frame.f_code.co_name in UNSAFE_FRAMES:
            return True
        frame, depth = frame.f_back, depth - 1
    return False


def _handler(signum: int, frame) -> None:
    if not _state.active:
        return  # a signal the watcher sent again just as the run ended
    if _state.resent > 0:
        _state.resent -= 1
    else:
        _state.delivered += 1
        if _state.delivered > 1:
            os._exit(EXIT_INTERRUPTED)  # a second signal while the partial result is printed: stop now
    _state.signal_name = _state.signal_name or signal.Signals(signum).name
    if _unsafe(frame):
        return
    raise_if_requested()


def _z3_check(elems, ctx) -> None:
    """z3's check after each API call (``z3core.Elementaries.Check``), raising ``Interrupted`` instead of its
    ``Z3Exception`` while a signal is pending (the call was canceled by ``_interrupt_z3``)."""
    err = elems.get_error_code(ctx)
    if err != elems.OK:
        if _state.signal_name is not None and threading.current_thread() is threading.main_thread():
            if _unsafe(sys._getframe(1)):
                return  # a canceled z3 call in a finalizer: nothing to report there; the watcher goes on
            _state.raised = True
            raise Interrupted(_state.signal_name)
        raise elems.Exception(elems.get_error_message(ctx, err))


def _z3_errors() -> type | None:
    """The class of z3's per-call error checkers, or None if z3 is missing or its layout has changed."""
    try:
        import z3.z3core

        checker = z3.z3core.Elementaries
        return checker if callable(getattr(checker, "Check", None)) else None
    except (ImportError, AttributeError):
        return None


def _interrupt_z3() -> None:
    try:
        import z3

        z3.main_ctx().interrupt()
    except BaseException:  # noqa: BLE001  (z3 missing, no context yet, or the main thread's error seen here)
        pass


ACK_S = 5.0
"""Seconds the watcher waits for a raised ``Interrupted`` to be caught before it raises it again."""


def _watch(read_fd: int) -> None:
    """The watcher thread: on a signal byte, interrupt z3 every 20 ms until the main thread has raised, and
    signal the process again every 40 ms meanwhile (the handler may have run where it could not raise);
    then, if no handler has caught the exception within ``ACK_S``, all of that again."""
    while True:
        try:
            data = os.read(read_fd, 64)
        except OSError:
            return
        if not data or _STOP_WATCHER in data:
            return
        if _state.signal_name is None:  # known here first when the main thread is inside a z3 call
            try:
                _state.signal_name = signal.Signals(data[0]).name
            except ValueError:
                continue
        stop = threading.Event()
        while _state.active and not _state.acknowledged:
            ticks = 0
            while not _state.raised and _state.active and not stop.wait(0.02):
                _interrupt_z3()
                ticks += 1
                if ticks % 2 == 0 and _state.deferred == 0:
                    _state.resent += 1
                    signal.pthread_kill(threading.main_thread().ident, signal.Signals(data[0]))
            give_up = time.monotonic() + ACK_S
            while _state.active and not _state.acknowledged and time.monotonic() < give_up:
                stop.wait(0.05)
            if _state.active and not _state.acknowledged:
                _state.raised = False  # raised where nothing caught it (a finalizer, say): raise it again


def _quiet_z3_ctrl_c() -> None:
    try:
        import z3

        z3.set_param("ctrl_c", False)
    except Exception:  # noqa: BLE001
        pass


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` in the main thread (z3 queries included) while inside.

    Outside the main thread (where Python cannot install handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread() or _state.active:
        yield
        return
    _quiet_z3_ctrl_c()
    errors = _z3_errors()
    z3_check = errors.Check if errors is not None else None
    if errors is not None:
        errors.Check = _z3_check
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    old_handlers = {s: signal.getsignal(s) for s in SIGNALS}
    old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    _state.__init__()
    _state.active = True
    watcher = threading.Thread(target=_watch, args=(read_fd,), name="ringcheck-interrupt", daemon=True)
    watcher.start()
    for s in SIGNALS:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        _state.active = False
        try:
            os.write(write_fd, _STOP_WATCHER)
        except OSError:
            pass
        watcher.join(1.0)
        for s, h in old_handlers.items():
            signal.signal(s, h)
        signal.set_wakeup_fd(old_wakeup)
        if errors is not None:
            errors.Check = z3_check
        os.close(write_fd)
        os.close(read_fd)
        _state.__init__()


def ignore_in_worker() -> None:
    """In a worker process: ignore SIGINT (a terminal's Ctrl-C reaches the whole process group; the parent
    decides and terminates the workers) and keep z3 from catching it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _quiet_z3_ctrl_c()


def exit_interrupted(signal_name: str) -> None:
    """After a command has printed what it found before ``signal_name``: one line on stderr, exit 130."""
    import click

    _state.acknowledged = True
    click.echo(f"ringcheck: interrupted by {signal_name}; the results above are partial", err=True)
    raise SystemExit(EXIT_INTERRUPTED)

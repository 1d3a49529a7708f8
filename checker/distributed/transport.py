"""How the driver talks to its workers: local processes (pipes) or Ray actors (object store).

Both pools offer the same three operations to ``driver``: ``call`` (one
method on every worker, results in worker order), ``call_one``, and
``exchange`` (every worker expands its next frontier block; each batch of
candidates goes to its owner, which inserts it).

``--workers N`` uses local processes from ``multiprocessing`` (see
``START_METHOD``), not Ray's local mode: local mode runs
every actor in the driver's one process, serially, so it cannot use a
second core, and it would make Ray a requirement for a run on one machine.
With fork, each worker writes the candidates of a block
into its own shared-memory outbox, grouped by owner, and each owner reads
its rows there in place: only the row ranges pass through the driver's
pipes. (With spawn, a batch travels worker -> driver -> owner through the
pipes, as pickled numpy arrays.) ``--ray ADDRESS`` connects to a running cluster; a batch
is a Ray object returned by its sender and passed by reference to its
owner, so it moves between the two workers' object stores without passing
through the driver.

A worker that dies (its pipe closes, or Ray raises ``RayActorError``) is
reported as ``WorkerLost`` naming it.
"""

from __future__ import annotations

import mmap
import multiprocessing as mp
import signal
import sys
from typing import Any

from checker.distributed.shard import Shard

RAY_INSTALL = "the distributed extra is not installed; pip install 'ringcheck[distributed]' (Ray >= 2.9)"


class WorkerLost(Exception):
    """A worker process or actor died; ``worker`` is its index, ``how`` what is known of why."""

    def __init__(self, worker: int, how: str) -> None:
        super().__init__(f"worker {worker} lost ({how})")
        self.worker, self.how = worker, how


class WorkerError(RuntimeError):
    """A worker raised an exception (a bug or a refusal); the message names the worker."""


def _serve(conn: Any, args: tuple, outboxes: list | None = None) -> None:
    """A local worker's loop: build the shard, then run the methods the driver sends until it says stop.

    Ctrl-C is the driver's to handle (it stops the workers), so a worker
    ignores SIGINT; SIGTERM ends it at once; the signal plumbing a forked
    worker inherits from ``checker.interrupt`` (a wakeup pipe shared with the
    driver's watcher thread) is dropped.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        signal.set_wakeup_fd(-1)
    except ValueError:
        pass
    try:
        shard = Shard(*args)
    except Exception as e:  # noqa: BLE001  (reported to the driver, one line)
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    if outboxes is not None:
        shard.attach_outboxes(outboxes)
    conn.send(("ok", None))
    while True:
        try:
            method, call_args = conn.recv()
        except (EOFError, OSError):
            return                              # the driver is gone
        if method is None:
            return
        try:
            result = getattr(shard, method)(*call_args)
        except Exception as e:  # noqa: BLE001
            conn.send(("error", f"{type(e).__name__}: {e}"))
            continue
        conn.send(("ok", result))


START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"
"""fork on Linux: a worker starts in milliseconds with the kernels the driver has just loaded (its warm-up)
and its pages shared until written; spawn elsewhere (macOS's system libraries are not fork-safe), where each
worker imports numba and loads the kernels from numba's cache."""


class LocalPool:
    """N worker processes on this machine, one shard each."""

    transport = "processes"

    def __init__(self, shard_args: list[tuple], outbox_bytes: int | None = None) -> None:
        ctx = mp.get_context(START_METHOD)
        self.n = len(shard_args)
        self.procs, self.conns = [], []
        self.outboxes = None
        if START_METHOD == "fork" and outbox_bytes:
            # anonymous shared mappings, inherited by the forked workers and freed with the last of them
            self.outboxes = [mmap.mmap(-1, outbox_bytes) for _ in range(self.n)]
        for args in shard_args:
            mine, theirs = ctx.Pipe()
            p = ctx.Process(target=_serve, args=(theirs, args, self.outboxes), daemon=True,
                            name=f"ringcheck-worker-{args[0]}")
            p.start()
            theirs.close()                      # else a dead worker's pipe would never report EOF
            self.procs.append(p)
            self.conns.append(mine)
        for k in range(self.n):
            self._receive(k)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def _how(self, k: int) -> str:
        p = self.procs[k]
        p.join(timeout=2)
        code = p.exitcode
        if code is None:
            return f"pid {p.pid}, its pipe closed"
        if code < 0:
            try:
                return f"pid {p.pid}, killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"pid {p.pid}, killed by signal {-code}"
        return f"pid {p.pid}, exit code {code}"

    def _send(self, k: int, method: str | None, args: tuple = ()) -> None:
        try:
            self.conns[k].send((method, args))
        except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
            raise WorkerLost(k, self._how(k)) from None

    def _receive(self, k: int) -> Any:
        try:
            status, result = self.conns[k].recv()
        except (EOFError, ConnectionResetError, OSError):
            raise WorkerLost(k, self._how(k)) from None
        if status == "error":
            raise WorkerError(f"worker {k}: {result}")
        return result

    def call(self, method: str, args: list[tuple] | None = None) -> list[Any]:
        """``method`` on every worker (``args[k]`` for worker k); the results in worker order."""
        for k in range(self.n):
            self._send(k, method, args[k] if args else ())
        return [self._receive(k) for k in range(self.n)]

    def call_one(self, k: int, method: str, *args: Any) -> Any:
        self._send(k, method, args)
        return self._receive(k)

    def exchange(self) -> tuple[list[dict], list[dict]]:
        """One round: every worker expands a block; the batches go to their owners. (summaries, insert results)"""
        if self.outboxes is not None:
            summaries = self.call("expand_to_outbox")
            inserted = self.call("insert_from_outboxes",
                                 [([summaries[k]["slices"][j] for k in range(self.n)],) for j in range(self.n)])
            return summaries, inserted
        out = self.call("expand_next")
        summaries = [s for s, _ in out]
        inserted = self.call("insert", [tuple(out[k][1][j] for k in range(self.n)) for j in range(self.n)])
        return summaries, inserted

    def close(self) -> None:
        for k, p in enumerate(self.procs):
            if p.is_alive():
                try:
                    self.conns[k].send((None, ()))
                except OSError:
                    pass
        for p in self.procs:
            p.join(timeout=2)
            if p.is_alive():
                p.kill()
                p.join(timeout=2)
        for c in self.conns:
            c.close()


def import_ray() -> Any:
    """The ray module, or a one-line ``ImportError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ImportError(RAY_INSTALL) from None
    return ray


class RayPool:
    """N Ray actors on a running cluster, one shard each."""

    transport = "ray"

    def __init__(self, shard_args: list[tuple], address: str) -> None:
        ray = import_ray()
        self.ray = ray
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        remote = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(Shard)
        self.n = len(shard_args)
        self.actors = [remote.remote(*args) for args in shard_args]
        self.nodes = self.call("hello")

    def _get(self, k: int, ref: Any) -> Any:
        ray = self.ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayActorError as e:
            raise WorkerLost(k, f"Ray actor died: {str(e).splitlines()[0][:120]}") from None
        except ray.exceptions.RayTaskError as e:
            raise WorkerError(f"worker {k}: {str(e.cause) if e.cause else e}") from None

    def call(self, method: str, args: list[tuple] | None = None) -> list[Any]:
        refs = [getattr(a, method).remote(*(args[k] if args else ())) for k, a in enumerate(self.actors)]
        return [self._get(k, r) for k, r in enumerate(refs)]

    def call_one(self, k: int, method: str, *args: Any) -> Any:
        return self._get(k, getattr(self.actors[k], method).remote(*args))

    def exchange(self) -> tuple[list[dict], list[dict]]:
        n = self.n
        outs = [a.expand_next_flat.options(num_returns=n + 1).remote() for a in self.actors]
        summaries = [self._get(k, outs[k][0]) for k in range(n)]
        refs = [a.insert.remote(*[outs[k][1 + j] for k in range(n)]) for j, a in enumerate(self.actors)]
        return summaries, [self._get(j, r) for j, r in enumerate(refs)]

    def close(self) -> None:
        for a in self.actors:
            try:
                self.ray.kill(a)
            except Exception:  # noqa: BLE001  (already dead)
                pass
        self.ray.shutdown()

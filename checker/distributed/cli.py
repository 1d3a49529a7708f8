"""``ringcheck check --workers N | --ray ADDRESS``: the distributed search behind the check command.

The options are declared in ``checker.cli_options.distributed_options``;
this module checks that the rest of the command line fits a distributed run
(BFS, safety properties, the compiled core) and turns every refusal into
one line (exit 2).
"""

from __future__ import annotations

from checker.cli_common import UserError
from checker.search import Limits, Progress, Search
from checker.verdict import Verdict
from model.config import Config
from model.ringbuf import RingBufModel
from specs import all_properties, get_property, is_liveness


def _refuse(kw: dict) -> str | None:
    """Why the other options do not fit a distributed run, or None."""
    if kw["strategy"] != "bfs":
        return f"--strategy {kw['strategy']}: the distributed search is a breadth-first search"
    if kw["liveness"] or kw["fair"] is not None:
        return "--liveness/--fair: the distributed search checks safety properties"
    if int(kw["max_violations"]) != 1 or kw["coverage"]:
        return "--max-violations/--coverage are not available in the distributed search"
    if kw["engine"] == "python":
        return "--engine python: the distributed search runs the compiled core"
    if int(kw["threads"]) != 1:
        return "--threads: each worker runs one thread; give --workers N instead"
    if kw.get("store", "flat") != "flat":
        return "--store tree: the distributed workers keep flat shards"
    return None


def check_distributed(cfg: Config, names: list[str], limits: Limits, progress: Progress | None, start: int,
                      kw: dict) -> Verdict:
    """Build the search the options describe and run it on the workers (``driver.run_distributed``)."""
    from checker.cli_options import max_memory_from
    from checker.distributed.checkpoint import CheckpointError
    from checker.distributed.driver import run_distributed

    why = _refuse(kw)
    if why is not None:
        raise UserError(f"workers: {why}")
    props = [get_property(n, liveness=True) for n in dict.fromkeys(names)] if names else all_properties()
    if any(is_liveness(p) for p in props):
        raise UserError("workers: the distributed search checks safety properties; liveness runs without --workers")
    search = Search(RingBufModel(cfg, start), props, limits, progress, symmetry=bool(kw["symmetry"]),
                    check_deadlock=bool(kw["deadlock"]))
    worker_mb = None
    if kw["worker_memory"] is not None:
        worker_mb = max_memory_from(str(kw["worker_memory"]).replace("max-memory", "worker-memory"))
    try:
        return run_distributed(search, kw["workers"], kw["ray_address"], kw["checkpoint_dir"], kw["resume_dir"],
                               worker_mb, str(kw["on_worker_loss"]))
    except ImportError as e:
        raise UserError(f"ray: {e}") from None
    except CheckpointError as e:
        raise UserError(str(e)) from None

"""``ringcheck compile``: compile the compiled core now (or load it from the cache) and say how long it took."""

from __future__ import annotations

import time

import click


@click.command("compile")
@click.option("--path", "paths", multiple=True, metavar="PATH",
              help="Only this search path (repeatable): bfs, 'bfs --symmetry', dfs, 'bfs --threads 2', "
                   "'bfs --store tree', 'bfs --store tree --threads 2'. Default: all.")
def compile_cmd(paths: tuple[str, ...]) -> None:
    """Compile the compiled core into numba's cache, so that the next search starts at once.

    A fresh install compiles on its first search (about 40 s for all paths on
    a 2-core machine); run this once after installing, or in a container
    image. Several ringcheck processes started together on a cold cache wait
    for one compile instead of each doing its own. Each path is checked on a
    tiny configuration against the Python engine's verdict.
    """
    from checker.cli import UserError
    from checker.compiled import cache_dir
    from checker.compiled.warm import PATHS, WARM_CONFIG, warm_up

    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise UserError(f"path: {unknown[0]!r} is not one of: {', '.join(repr(p) for p in PATHS)}")
    t0 = time.perf_counter()
    click.echo(f"compiling the core, or loading it from the cache {cache_dir()}, on {WARM_CONFIG.describe()}:")
    for step in warm_up(list(paths) or None, progress=None):
        click.echo(f"  {step.path:30} {step.seconds:7.2f} s  holds, {step.states} states")
    click.echo(f"ready in {time.perf_counter() - t0:.1f} s")

"""Scoring in worker processes: units of work run in forked processes that share what the parent
holds at the fork (copy-on-write: nothing is sent to them: loaded predictions, or for
sarbench.score_files only the names of the files each unit reads) and send back only their
results, which the caller merges in a fixed order, so the numbers do not depend on the worker count.

Where `fork` is not available (Windows) the units run in this process, with the same results.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

# (function, shared data) of the units being run: set before the pool forks, read in its workers
_JOB: tuple[Callable[[Any, Any], Any], Any] | None = None


class WorkerError(RuntimeError):
    """A worker process ended without a result (killed, out of memory, a crash in C code)."""


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def run_units(
    function: Callable[[Any, Any], Any], shared: Any, units: Sequence[Any], workers: int
) -> Iterator[tuple[Any, Any]]:
    """(unit, function(shared, unit)) for each unit, in the order of `units`, computed by up to
    `workers` processes (1: here). An exception raised by `function` is raised here; a worker
    that dies raises WorkerError naming the unit it was given."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if workers == 1 or len(units) <= 1 or not can_fork():
        for unit in units:
            yield unit, function(shared, unit)
        return
    global _JOB
    _JOB = (function, shared)
    # The workers' garbage collector leaves alone what exists at the fork: scanning the
    # inherited objects would cost time and copy every page they lie on.
    gc.freeze()
    pool = ProcessPoolExecutor(max_workers=min(workers, len(units)), mp_context=multiprocessing.get_context("fork"))
    try:
        # every worker is forked at the first submit, before the pool starts its own thread
        futures = [pool.submit(_run_unit, unit) for unit in units]
        _JOB = None
        for unit, future in zip(units, futures):
            try:
                result = future.result()
            except BrokenProcessPool:
                raise WorkerError(
                    f"a scoring worker process ended abruptly (killed, or out of memory?): no result for {unit}; "
                    "--workers 1 scores in this process"
                ) from None
            yield unit, result
    finally:
        _JOB = None
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


def _run_unit(unit: Any) -> Any:
    function, shared = _JOB
    return function(shared, unit)

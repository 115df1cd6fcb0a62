"""Feeding an engine that schedules its own batches (vLLM) from the runner's stream of batches.

The runner hands over small batches (`backend.submit_size` samples: decoded together, appended to
the predictions together, the unit of resume). Each is queued in the engine as soon as it
arrives, and up to `window` (`backend.chunk_size`) requests are kept in the engine at once, so it
always has thousands to schedule across, starts on the first batch while later images are still
being decoded, and never drains between batches. Answers come back batch by batch, in order.

Preparing a request for the engine (the family's prompt and image, then the engine's own
tokenisation and multimodal processing) is most of the work of the thread that drives the engine;
`prepared_ahead` does it on one background thread, batches ahead, so that thread only queues
prepared requests and collects answers (PIL, torch and tokenizers release the GIL; the engine
itself runs in other processes).

The engine is reached through four callables, so this logic is tested without vLLM
(tests/test_engine_stream.py):
  submit(request) -> request id, or an InferenceFailure for a request the engine refused;
  collect(block)  -> {request id: output} of requests that finished; with block=False only what
                     is ready now (possibly nothing), with block=True at least one engine step;
  busy()          -> whether the engine has unfinished requests;
  abort(ids)      -> drop queued requests (a run that stops early).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain
from typing import Any, TypeVar

from model_adapters.base import InferenceFailure

Answer = Any  # the engine's output for one request, or an InferenceFailure
Item = TypeVar("Item")
Prepared = TypeVar("Prepared")


def prepared_ahead(
    batches: Iterable[list[Item]], prepare: Callable[[Item], Prepared], ahead: int
) -> Iterator[list[tuple[Item, Prepared]]]:
    """Each batch as (item, prepare(item)) pairs, in order, prepared on one background thread up
    to `ahead` batches before they are asked for. One thread: the engine's preparation (its
    processor caches) is never used from two at once. An exception in `prepare` is raised here,
    with its batch."""
    if ahead < 1:
        raise ValueError("prepare at least one batch ahead")
    pending: deque[tuple[list[Item], Future]] = deque()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sarbench-engine-prepare")
    try:
        for batch in batches:
            pending.append((batch, pool.submit(lambda b=batch: [prepare(i) for i in b])))
            if len(pending) > ahead:
                yield _paired(*pending.popleft())
        while pending:
            yield _paired(*pending.popleft())
    finally:  # stopped early: the batch being prepared finishes, the others are dropped
        pool.shutdown(wait=True, cancel_futures=True)


def _paired(batch: list[Item], future: Future) -> list[tuple[Item, Any]]:
    return list(zip(batch, future.result()))


def stream_through_engine(
    batches: Iterable[list[Any]],
    submit: Callable[[Any], str | InferenceFailure],
    collect: Callable[[bool], dict[str, Any]],
    busy: Callable[[], bool],
    abort: Callable[[list[str]], None],
    window: int,
) -> Iterator[list[Answer]]:
    if window < 1:
        raise ValueError("the engine window must hold at least one request")
    queued: deque[list[str | InferenceFailure]] = deque()  # per batch: request ids, or failures
    finished: dict[str, Any] = {}
    in_engine = 0  # submitted and not yet collected

    def done(batch: list[str | InferenceFailure]) -> bool:
        return all(not isinstance(i, str) or i in finished for i in batch)

    def take(outputs: dict[str, Any]) -> None:
        nonlocal in_engine
        finished.update(outputs)
        in_engine -= len(outputs)

    try:
        for requests in chain(batches, [None]):
            if requests is not None:
                queued.append([submit(r) for r in requests])
                in_engine += sum(isinstance(i, str) for i in queued[-1])
            take(collect(False))
            while queued:
                if done(queued[0]):
                    batch = queued.popleft()
                    yield [finished.pop(i) if isinstance(i, str) else i for i in batch]
                elif requests is not None and in_engine < window:
                    break  # room in the engine: queue the next batch first
                elif not busy():
                    raise RuntimeError("the engine has no request left that this batch waits for")
                else:
                    take(collect(True))
    finally:  # a run stopped early (or failed): drop what is still queued
        leftover = [i for batch in queued for i in batch if isinstance(i, str) and i not in finished]
        if leftover:
            abort(leftover)

"""Feeding an engine that schedules its own batches (vLLM) from the runner's stream of batches.

The runner hands over small batches (`backend.submit_size` samples: decoded together, appended to
the predictions together, the unit of resume). Each is queued in the engine as soon as it
arrives, and up to `window` (`backend.chunk_size`) requests are kept in the engine at once, so it
always has thousands to schedule across, starts on the first batch while later images are still
being decoded, and never drains between batches. Answers come back batch by batch, in order.

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
from itertools import chain
from typing import Any

from model_adapters.base import GenerationRequest, InferenceFailure

Answer = Any  # the engine's output for one request, or an InferenceFailure


def stream_through_engine(
    batches: Iterable[list[GenerationRequest]],
    submit: Callable[[GenerationRequest], str | InferenceFailure],
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

"""Batches of samples with their loaded images -> prediction records, in order: requests to the
adapter's stream, its answers (or failures, with their kind) back as records. A failing stream
goes on batch by batch, a failing batch sample by sample."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from itertools import chain

from model_adapters.base import GenerationRequest, InferenceFailure, ModelAdapter
from model_adapters.errors import AdapterError
from sarbench.data import Sample
from sarbench.failures import PERMANENT, TRANSIENT, exception_kind
from sarbench.images import ImageError, ImageFile
from sarbench.run_io import Outcome, prediction_record, request_of
from sarbench.run_settings import RunError


class BatchGenerator:
    def __init__(self, adapter: ModelAdapter, max_new_tokens: dict[str, int], on_event: Callable[[str], None]) -> None:
        self.adapter = adapter
        self.max_new_tokens = max_new_tokens
        self.on_event = on_event  # a note for the manifest's events, also logged
        self._image_files: dict[str, ImageFile | None] = {}  # sample id -> bytes read, until recorded

    def prepare(self, batch: list[Sample], loaded: list) -> tuple[list[Sample], dict, list[GenerationRequest]]:
        """(samples with an image, records of those without, their requests)."""
        ready = [(s, img, file) for s, (img, file) in zip(batch, loaded) if not isinstance(img, ImageError)]
        failed = {
            s.id: prediction_record(s, None, 0.0, len(batch), (str(img), PERMANENT))
            for s, (img, _) in zip(batch, loaded)
            if isinstance(img, ImageError)
        }
        self._image_files.update((s.id, file) for s, _, file in ready)
        return (
            [s for s, *_ in ready],
            failed,
            [request_of(s, img, self.max_new_tokens[s.subset]) for s, img, _ in ready],
        )

    def records(self, batch: list[Sample], prepared: tuple, outcomes: list) -> list[dict]:
        samples, records, requests = prepared
        for request, sample, (raw, latency, error) in zip(requests, samples, outcomes):
            response = raw if raw is None else self.adapter.to_protocol(raw, request)
            records[sample.id] = prediction_record(
                sample, response, latency, len(requests), error, self._image_files.pop(sample.id, None)
            )
            if response != raw:
                records[sample.id]["raw_response"] = raw
        return [records[s.id] for s in batch]

    def generated(self, loaded: Iterator) -> Iterator[tuple[list[Sample], list[dict]]]:
        """(batch, records) in order. The adapter takes the batches as a stream, so an engine can
        queue the next batch before the current one drains; if the stream fails, the batches it
        has not answered go through `call` one at a time (retried sample by sample)."""
        items = ((batch, self.prepare(batch, images)) for batch, images in loaded)
        in_flight: deque = deque()

        def requests() -> Iterator[list[GenerationRequest]]:
            for batch, prepared in items:
                in_flight.append((batch, prepared, time.perf_counter()))  # latency from here
                yield prepared[2]

        stream = self.adapter.generate_stream(requests())
        try:
            while True:
                try:
                    responses = next(stream, None)
                except AdapterError as exc:  # the model cannot run as configured: no sample would
                    raise RunError(str(exc)) from None
                except Exception as exc:  # noqa: BLE001 - what the stream did not answer is retried
                    self.on_event(f"generation stream failed ({exc!r}); going on batch by batch")
                    for batch, prepared, *_ in chain(in_flight, items):
                        yield batch, self.records(batch, prepared, self.call(prepared[2]))
                    return
                if responses is None:
                    return
                batch, prepared, start = in_flight.popleft()
                yield batch, self.records(batch, prepared, self.outcomes(prepared[2], responses, start))
        finally:
            stream.close()

    def call(self, requests: list[GenerationRequest]) -> list[Outcome]:
        start = time.perf_counter()
        try:
            responses = self.adapter.generate(requests) if requests else []
        except AdapterError as exc:  # the model cannot run as configured: no sample would
            raise RunError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a failing batch is retried sample by sample
            if len(requests) > 1:
                self.on_event(f"batch of {len(requests)} failed ({exc!r}); retrying one by one")
                return [r for request in requests for r in self.call([request])]
            return [(None, time.perf_counter() - start, (f"{type(exc).__name__}: {exc}", exception_kind(exc)))]
        return self.outcomes(requests, responses, start)

    def outcomes(self, requests: list[GenerationRequest], responses: list, start: float) -> list[Outcome]:
        if len(responses) != len(requests):
            raise RunError(
                f"adapter {self.adapter.name} returned {len(responses)} responses for {len(requests)} requests"
            )
        latency = (time.perf_counter() - start) / max(1, len(requests))
        return [
            (None, latency, (r.message, TRANSIENT if r.transient else PERMANENT))
            if isinstance(r, InferenceFailure)
            else (r, latency, None)
            for r in responses
        ]

"""The runner's plumbing: the samples a run covers, a sample's request and prediction line,
appending lines to their files and closing them, the progress bar."""

from __future__ import annotations

from typing import Any

from model_adapters.base import GenerationRequest
from sarbench.data import Dataset, Sample
from sarbench.images import ImageFile
from sarbench.prediction_store import PredictionFile
from sarbench.run_settings import RunError

# (response or None, latency in s, (error message, error kind) or None) of one request
Outcome = tuple[str | None, float, tuple[str, str] | None]


def select_samples(dataset: Dataset, subsets: list[str], limit: int | None) -> dict[str, list[Sample]]:
    chosen = {}
    for subset in subsets:
        samples = dataset.samples.get(subset, [])
        chosen[subset] = samples[:limit] if limit is not None else samples
    return {k: v for k, v in chosen.items() if v}


def request_of(sample: Sample, image: Any, max_new_tokens: int) -> GenerationRequest:
    return GenerationRequest(
        sample_id=sample.id,
        subset=sample.subset,
        prompt=sample.prompt,
        image_path=sample.image,
        image=image,
        max_new_tokens=max_new_tokens,
        reference=sample.reference,
    )


def prediction_record(
    sample: Sample,
    response: str | None,
    latency: float,
    batch_size: int,
    error: tuple[str, str] | None = None,
    image_file: ImageFile | None = None,
) -> dict:
    record = {
        "id": sample.id,
        "response": response,
        "labels": sample.reference,
        "messages": sample.record.get("messages"),
        "images": sample.record.get("images"),
        "latency_s": round(latency, 6),
        "batch_size": batch_size,
    }
    if error is not None:  # (message, kind): see sarbench/failures.py
        record["error"], record["error_kind"] = error
    if image_file is not None:  # the bytes this prediction saw (checked on resume)
        record["image_sha256"] = image_file.sha256
        record["image_stat"] = [image_file.size, image_file.mtime_ns]
    return record


def append_records(store: PredictionFile, records: list[dict]) -> None:
    try:
        store.append(records)
    except OSError as exc:
        raise RunError(
            f"cannot write predictions to {store.path}: {exc}. Predictions written "
            "before this batch are intact; fix the cause and re-run the same command "
            "to resume."
        ) from None


def close_all(stores, report: bool) -> None:
    """Close every file. A close error (NFS reports deferred write errors there) is raised after
    all are closed when `report`; otherwise the error that stopped the run is the one shown."""
    failure = None
    for store in stores:
        try:
            store.close()
        except OSError as exc:
            failure = failure or RunError(f"cannot write predictions to {store.path}: {exc}")
    if failure is not None and report:
        raise failure


class _NoProgress:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, enabled: bool, shard: str | None = None):
    if not enabled:
        return _NoProgress()
    from tqdm import tqdm

    desc = f"{shard} generating" if shard else "generating"  # each shard's bar names its shard
    return tqdm(total=total, unit="sample", desc=desc, dynamic_ncols=True, smoothing=0.1)

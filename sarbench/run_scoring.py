"""A run's scores: every selected sample's prediction (from the files of all shards) scored,
with the run's inference failures counted and marked (sarbench/failures.py)."""

from __future__ import annotations

from pathlib import Path

from sarbench.data import Sample
from sarbench.failures import mark_failures, record_kind
from sarbench.records import DataError
from sarbench.result_files import Prediction
from sarbench.run_settings import RunError
from sarbench.score_predictions import score_predictions
from sarbench.shards import read_union


def score_run(
    selected: dict[str, list[Sample]], files: dict[str, list[Path]], issues: list, details: Path, meteor: bool | None
) -> dict:
    """metrics.json of `selected` (subset -> samples); a sample without a prediction is an error."""
    by_subset: dict[str, list[Prediction]] = {}
    for subset, samples in selected.items():
        records, where = read_union(files[subset])
        missing = [s.id for s in samples if s.id not in records]
        if missing:
            raise RunError(
                f"{len(missing)} samples of {subset} have no prediction (first: {missing[0]}); re-run to complete them"
            )
        by_subset[subset] = [
            Prediction(
                s.id,
                subset,
                records[s.id].get("response") or "",
                s.reference,
                f"{where[s.id]}:{s.index}",
                s.image,
                question=s.prompt,
                failure=record_kind(records[s.id]),
            )
            for s in samples
        ]
    try:
        result = score_predictions(by_subset, meteor=meteor, issues=issues, details=details)
    except DataError as exc:
        raise RunError(str(exc)) from None
    except OSError as exc:
        raise RunError(f"cannot write {details}: {exc}") from None
    mark_failures(result, {subset: [p.failure for p in items] for subset, items in by_subset.items()})
    return result

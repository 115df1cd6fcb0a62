"""Scoring result files in worker processes, one subset's files a unit: each worker reads and
scores its own files, so neither the reading nor the records pass through the parent, which
only merges what comes back (sarbench.score_predictions.merged_scores, in a fixed order).

Only files that all name their subset can be split this way (a file routed by content may hold
any subset). When a worker meets a record it cannot read, or two subsets' files share a sample
id, the caller reads everything in one process instead (`None`), which reports exactly what it
always did: which error comes first depends on the order of all the files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from metrics import benchmark
from sarbench.records import DataError
from sarbench.result_files import DuplicateFile, PredictionReader, distinct_files, result_files
from sarbench.score_predictions import (
    SECONDS_PER_MB_OF_TASK,
    CaptionScores,
    ChunkScores,
    caption_scores,
    merged_scores,
    meteor_plan,
    score_chunk,
    whole_subset_results,
)
from sarbench.score_workers import can_fork, run_units
from sarbench.subsets import SUBSETS, subset_from_filename


@dataclass
class SubsetScores:
    """What a worker sends back for one subset's files: their scores and what the caller reports
    about the records themselves."""

    subset: str
    samples: int = 0
    chunk: ChunkScores | None = None
    captions: CaptionScores | None = None
    no_response_field: int = 0
    failures: list[str | None] | None = None  # each record's failure kind, when any failed
    ids: dict[str, str] = field(default_factory=dict)  # the records' own sample ids -> where
    unreadable: bool = False  # a record that is no result record: the caller reads serially


@dataclass
class ScoredFiles:
    result: dict  # the metrics.json document
    used: list[Path]
    no_response_field: dict[str, int]  # per subset, records without a response field
    failures: dict[str, list[str | None]]  # per subset, each record's failure kind (None: answered)


def score_files_in_workers(
    inputs: Sequence[str | Path],
    *,
    workers: int,
    meteor: bool | None = None,
    details: Path | None = None,
    collect_errors: bool = False,
    image_root: Path | None = None,
) -> tuple[ScoredFiles, list[DuplicateFile]] | None:
    """Score result files with one unit of work per subset, or None when they cannot be split
    (a file names no subset, fewer than two subsets, no fork) or when the one-process reading
    must tell what is wrong with them."""
    files = result_files(list(inputs))
    names = [subset_from_filename(path.name) for path in files]
    if workers < 2 or not can_fork() or None in names or len(set(names)) < 2:
        return None
    files, duplicates = distinct_files(files)
    groups: dict[str, list[Path]] = {}
    for path in files:
        groups.setdefault(subset_from_filename(path.name), []).append(path)
    try:
        note, run_meteor = meteor_plan(meteor) if "describe" in groups else (None, False)
    except DataError:  # METEOR required but unavailable: one-process reading finds any earlier error
        return None
    units = sorted(groups.items(), key=lambda group: -_cost(*group))
    options = (details is not None, "collect" if collect_errors else "raise", run_meteor)
    by_subset = {}
    for subset_scores in (scores for _, scores in run_units(_score_subset, (options, image_root), units, workers)):
        by_subset[subset_scores.subset] = subset_scores
    if any(s.unreadable for s in by_subset.values()) or _shared_ids(by_subset.values()):
        return None
    present = [s for s in SUBSETS if s in by_subset and by_subset[s].samples]
    if not present:  # no records at all: one-process reading says so
        return None
    # METEOR, when it runs, starts here: after every subset is back (a later one may send this
    # scoring back to one process), though describe, the costliest, tends to come back first
    results = (
        pair
        for scores in (by_subset[s] for s in present)
        for pair in whole_subset_results(scores.subset, scores.samples, scores.chunk, scores.captions)
    )
    result = merged_scores(
        results,
        details=details,
        meteor_note=note if "describe" in present else None,
    )
    failures = {s: by_subset[s].failures or [None] * by_subset[s].samples for s in present}
    missing = {s: by_subset[s].no_response_field for s in present}
    return ScoredFiles(result, files, missing, failures), duplicates


def _cost(subset: str, paths: list[Path]) -> float:
    megabytes = sum(os.path.getsize(path) for path in paths) / 1e6
    return SECONDS_PER_MB_OF_TASK[benchmark.subset(subset).task] * megabytes


def _shared_ids(subsets) -> bool:
    seen: set[str] = set()
    for scores in subsets:
        if not seen.isdisjoint(scores.ids):
            return True
        seen.update(scores.ids)
    return False


def _score_subset(shared, unit: tuple[str, list[Path]]) -> SubsetScores:
    (with_details, malformed_reference, run_meteor), image_root = shared
    subset, paths = unit
    reader = PredictionReader(image_root, collect_errors=False)
    try:
        for path in paths:
            reader.read(path, subset)
    except DataError:
        return SubsetScores(subset, unreadable=True)
    predictions = reader.by_subset[subset]
    scores = SubsetScores(subset, len(predictions), ids=reader.seen)
    if not predictions:
        return scores
    scores.chunk = score_chunk(subset, predictions, with_details, malformed_reference)
    if subset == "describe":
        scores.captions = caption_scores(predictions, run_meteor)
    scores.no_response_field = sum(p.no_response_field for p in predictions)
    if any(p.failure is not None for p in predictions):
        scores.failures = [p.failure for p in predictions]
    return scores

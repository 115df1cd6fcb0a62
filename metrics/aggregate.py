"""Pooling per-sample counts into the metric ids of PROTOCOL §4, task scores, avg and avg_paper."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from metrics import benchmark
from metrics.benchmark import (  # noqa: F401 - CAPTION_METRICS, TABLE3_COLUMNS: re-exported
    CAPTION_METRICS,
    COUNT_ERROR_METRICS,
    EXACT_COUNT_METRIC,
    SUBSET_TABLE,
    TABLE3_COLUMNS,
    TASK_TABLE,
)
from metrics.sample_scores import SampleScore


def accuracy(tp: int, fp: int, fn: int) -> float:
    """100 * TP / (TP + FP + FN); an empty denominator scores 100."""
    denominator = tp + fp + fn
    return 100.0 if denominator == 0 else 100.0 * tp / denominator


def pooled(samples: Iterable[SampleScore], metric: str) -> dict[str, float | int] | None:
    """Micro accuracy and per-sample mean of one metric over the samples that carry it."""
    tp = fp = fn = 0
    total = 0.0
    n = 0
    for sample in samples:
        counts = sample.counts.get(metric)
        if counts is None:
            continue
        tp += counts[0]
        fp += counts[1]
        fn += counts[2]
        total += accuracy(*counts)
        n += 1
    if n == 0:
        return None
    return {"acc": accuracy(tp, fp, fn), "sample_mean": total / n, "tp": tp, "fp": fp, "fn": fn, "n": n}


def _as_float(value: int) -> float:
    """An exact integer error as a float; inf beyond float range (a runaway count)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _rms(values: list[float]) -> float:
    """Root mean square, scaled so that squares of large (finite) errors cannot overflow."""
    peak = max(values, default=0.0)
    if peak < 1e150:  # the plain formula (bit-identical to a naive implementation)
        return math.sqrt(sum(v * v for v in values) / len(values))
    if math.isinf(peak):
        return peak
    return peak * math.sqrt(math.fsum((v / peak) ** 2 for v in values) / len(values))


def _count_metrics(samples: list[SampleScore]) -> dict[str, float]:
    n = len(samples)
    errors = [s.count_error for s in samples]
    floats = [_as_float(e) for e in errors]
    mae, rmse, within1 = COUNT_ERROR_METRICS
    return {
        EXACT_COUNT_METRIC: 100.0 * sum(1 for s in samples if s.count_exact) / n,
        mae: sum(floats) / n,
        rmse: _rms(floats),
        within1: 100.0 * sum(1 for e in errors if e <= 1) / n,
    }


def aggregate(
    by_subset: Mapping[str, list[SampleScore]],
    caption_scores: Mapping[str, float | None] | None = None,
) -> tuple[dict[str, float | None], dict[str, dict]]:
    """Return (metrics, tp/fp/fn totals per primary metric) for the evaluated subsets.

    Subsets with no samples are not evaluated: their metric ids are absent. Present-but-
    undefined values (grounding.abstract with no reference relation, METEOR without Java)
    are None.
    """
    present = [s for s in SUBSET_TABLE if by_subset.get(s.name)]
    metrics: dict[str, float | None] = {}
    totals: dict[str, dict] = {}
    metric_ids: list[str] = []
    for subset in present:
        for metric in subset.metrics:
            if metric not in metric_ids:
                metric_ids.append(metric)
    for metric in metric_ids:
        samples = [s for subset in present if metric in subset.metrics for s in by_subset[subset.name]]
        result = pooled(samples, metric)
        if result is None:
            metrics[metric] = None  # only a relation metric can be present but undefined
            continue
        metrics[metric] = result["acc"]
        metrics[f"{metric}.sample_mean"] = result["sample_mean"]
        totals[metric] = {k: result[k] for k in ("tp", "fp", "fn", "n")}
    counted = [s for subset in present if subset.states_count for s in by_subset[subset.name]]
    if counted:
        metrics.update(_count_metrics(counted))
    for subset in present:
        if subset.captioned and caption_scores is not None:
            for name in CAPTION_METRICS:
                metrics[f"{subset.task}.{name}"] = caption_scores.get(name)
    for subset in present:
        samples = by_subset[subset.name]
        metrics[f"{subset.name}.parse_fail"] = 100.0 * sum(s.parse_fail for s in samples) / len(samples)
    metrics.update(task_scores(metrics, {s.name: len(by_subset[s.name]) for s in present}))
    return metrics, totals


def task_scores(metrics: Mapping[str, float | None], n: Mapping[str, int]) -> dict[str, float]:
    """task.<task> (mean of present columns), avg (weighted by samples) and avg_paper."""
    columns = {
        c: np.array([np.nan if metrics[c] is None else metrics[c]], dtype=np.float64)
        for task in TASK_TABLE
        for c in task.columns
        if c in metrics
    }
    sizes = {subset: np.array([count], dtype=np.float64) for subset, count in n.items()}
    scores = task_score_arrays(columns, sizes)
    return {name: float(value[0]) for name, value in scores.items() if not np.isnan(value[0])}


def task_score_arrays(values: Mapping[str, np.ndarray], n: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """task.<task>, avg and avg_paper elementwise (one value, or one per bootstrap replicate).

    `values`: metric id -> score array, NaN where undefined; a task none of whose columns is a
    key gets no score. `n`: subset -> sample counts (a missing subset weighs 0). A task score
    is the mean of its defined columns; avg weighs the defined task scores by their samples,
    avg_paper by the paper's test sizes. The sums run in column and task order, so the scalar
    path and the bootstrap give bit-identical numbers.
    """
    scores: dict[str, np.ndarray] = {}
    weights: dict[str, np.ndarray] = {}
    for task in TASK_TABLE:
        columns = [values[c] for c in task.columns if c in values]
        if not columns:
            continue
        total = np.zeros(np.shape(columns[0]))
        defined = np.zeros(np.shape(columns[0]))
        for column in columns:
            total = total + np.where(np.isnan(column), 0.0, column)
            defined = defined + ~np.isnan(column)
        scores[f"task.{task.name}"] = np.where(defined > 0, total / np.maximum(defined, 1), np.nan)
        weights[task.name] = sum(n[s] for s in task.subsets if s in n)
    if scores:
        scores["avg"] = _weighted(scores, weights)
        paper_sizes = {t: float(benchmark.task(t).paper_test_size) for t in weights}
        scores["avg_paper"] = _weighted(scores, paper_sizes)
    return scores


def _weighted(scores: dict[str, np.ndarray], weights: Mapping[str, object]) -> np.ndarray:
    """Mean of the defined task scores weighted by `weights`; NaN where none is defined."""
    numerator = denominator = 0.0
    for task, weight in weights.items():
        value = scores[f"task.{task}"]
        defined = ~np.isnan(value)
        numerator = numerator + np.where(defined, value, 0.0) * weight
        denominator = denominator + np.where(defined, weight, 0.0)
    return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)

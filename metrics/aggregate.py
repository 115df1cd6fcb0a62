"""Pooling per-sample counts into the metric ids of PROTOCOL §4, task scores, avg and avg_paper."""
from __future__ import annotations

import math
from typing import Iterable, Mapping

from metrics.sample_scores import METRICS_OF_SUBSET, SampleScore
from sarbench.subsets import PAPER_TASK_SIZES, SUBSETS, SUBSETS_OF_TASK, TASKS

CAPTION_METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "cider", "rouge_l", "meteor")

# Subtask columns of each task score (paper Eq. 4).
TASK_COLUMNS: dict[str, tuple[str, ...]] = {
    "classify": ("classify.acc",),
    "describe": ("describe.acc",),
    "count": ("count.only", "count.iou25", "count.iou50"),
    "grounding": ("grounding.abstract", "grounding.multi", "grounding.single"),
    "identify": ("identify.multi", "identify.single"),
    "refer": ("refer.multi.iou25", "refer.multi.iou50", "refer.single.iou25", "refer.single.iou50"),
}

# The 15 columns of the paper's Table 3 after Avg, in the paper's order.
TABLE3_COLUMNS: tuple[str, ...] = (
    "count.only", "count.iou25", "count.iou50",
    "grounding.abstract", "grounding.multi", "grounding.single",
    "identify.multi", "identify.single",
    "refer.multi.iou25", "refer.multi.iou50", "refer.single.iou25", "refer.single.iou50",
    "describe.acc", "classify.acc",
)  # with "avg" in front: 15 columns


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
    return {"acc": accuracy(tp, fp, fn), "sample_mean": total / n, "tp": tp, "fp": fp, "fn": fn,
            "n": n}


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
    return {
        "count.only": 100.0 * sum(1 for s in samples if s.count_exact) / n,
        "count.mae": sum(floats) / n,
        "count.rmse": _rms(floats),
        "count.within1": 100.0 * sum(1 for e in errors if e <= 1) / n,
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
    present = [s for s in SUBSETS if by_subset.get(s)]
    metrics: dict[str, float | None] = {}
    totals: dict[str, dict] = {}
    metric_ids: list[str] = []
    for subset in present:
        for metric in METRICS_OF_SUBSET[subset]:
            if metric not in metric_ids:
                metric_ids.append(metric)
    for metric in metric_ids:
        samples = [s for subset in present if metric in METRICS_OF_SUBSET[subset]
                   for s in by_subset[subset]]
        result = pooled(samples, metric)
        if result is None:
            metrics[metric] = None  # only grounding.abstract can be present but undefined
            continue
        metrics[metric] = result["acc"]
        metrics[f"{metric}.sample_mean"] = result["sample_mean"]
        totals[metric] = {k: result[k] for k in ("tp", "fp", "fn", "n")}
    if "count" in present:
        metrics.update(_count_metrics(by_subset["count"]))
    if "describe" in present and caption_scores is not None:
        for name in CAPTION_METRICS:
            metrics[f"describe.{name}"] = caption_scores.get(name)
    for subset in present:
        samples = by_subset[subset]
        metrics[f"{subset}.parse_fail"] = 100.0 * sum(s.parse_fail for s in samples) / len(samples)
    metrics.update(task_scores(metrics, {s: len(by_subset[s]) for s in present}))
    return metrics, totals


def task_scores(metrics: Mapping[str, float | None], n: Mapping[str, int]) -> dict[str, float]:
    """task.<task> (mean of present columns), avg (weighted by samples) and avg_paper."""
    scores: dict[str, float] = {}
    weights: dict[str, int] = {}
    for task in TASKS:
        columns = [metrics[c] for c in TASK_COLUMNS[task] if metrics.get(c) is not None]
        if not columns:
            continue
        scores[f"task.{task}"] = sum(columns) / len(columns)
        weights[task] = sum(n.get(s, 0) for s in SUBSETS_OF_TASK[task])
    if scores:
        tasks = [t for t in TASKS if f"task.{t}" in scores]
        total = sum(weights[t] for t in tasks)
        scores["avg"] = sum(scores[f"task.{t}"] * weights[t] for t in tasks) / total
        paper_total = sum(PAPER_TASK_SIZES[t] for t in tasks)
        scores["avg_paper"] = sum(
            scores[f"task.{t}"] * PAPER_TASK_SIZES[t] for t in tasks
        ) / paper_total
    return scores

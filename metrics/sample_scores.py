"""Per-sample TP/FP/FN of every primary metric (PROTOCOL §4), from parsed reference and response."""
from __future__ import annotations

from dataclasses import dataclass, field

from metrics.boxes import match_count
from metrics.parsing import Multiset, Parsed

Counts = tuple[int, int, int]  # TP, FP, FN


@dataclass(frozen=True)
class SampleScore:
    subset: str
    counts: dict[str, Counts]  # metric id -> (TP, FP, FN)
    parse_fail: bool
    count_error: int | None = None  # count subset: |response count - reference count|
    count_exact: bool | None = None
    extra: dict = field(default_factory=dict)


def multiset_counts(predicted: Multiset, reference: Multiset) -> Counts:
    reference_items = dict(reference)
    tp = sum(min(n, reference_items.get(item, 0)) for item, n in predicted)
    n_pred = sum(n for _, n in predicted)
    n_ref = sum(n for _, n in reference)
    return tp, n_pred - tp, n_ref - tp


def set_counts(predicted: frozenset, reference: frozenset) -> Counts:
    tp = len(predicted & reference)
    return tp, len(predicted) - tp, len(reference) - tp


def _classify(p: Parsed, r: Parsed) -> dict[str, Counts]:
    return {"classify.acc": set_counts(p.categories, r.categories)}


def _describe(p: Parsed, r: Parsed) -> dict[str, Counts]:
    return {"describe.acc": multiset_counts(p.mentions, r.mentions)}


def _count(p: Parsed, r: Parsed) -> dict[str, Counts]:
    return {
        "count.iou25": match_count(p.boxes, r.boxes, 0.25),
        "count.iou50": match_count(p.boxes, r.boxes, 0.5),
    }


def _grounding(metric: str):
    def score(p: Parsed, r: Parsed) -> dict[str, Counts]:
        counts = {
            metric: match_count(p.boxes, r.boxes, 0.5, p.box_categories, r.box_categories)
        }
        if r.relations:
            counts["grounding.abstract"] = multiset_counts(p.relations, r.relations)
        return counts

    return score


def _identify(metric: str):
    return lambda p, r: {metric: multiset_counts(p.mentions, r.mentions)}


def _refer(prefix: str):
    return lambda p, r: {
        f"{prefix}.iou25": match_count(p.boxes, r.boxes, 0.25),
        f"{prefix}.iou50": match_count(p.boxes, r.boxes, 0.5),
    }


SCORERS = {
    "classify": _classify,
    "describe": _describe,
    "count": _count,
    "grounding_single": _grounding("grounding.single"),
    "grounding_multi": _grounding("grounding.multi"),
    "identify_single": _identify("identify.single"),
    "identify_multi": _identify("identify.multi"),
    "refer_single": _refer("refer.single"),
    "refer_multi": _refer("refer.multi"),
}

# Metric ids each subset contributes to (grounding.abstract only where a reference has relations).
METRICS_OF_SUBSET: dict[str, tuple[str, ...]] = {
    "classify": ("classify.acc",),
    "describe": ("describe.acc",),
    "count": ("count.iou25", "count.iou50"),
    "grounding_single": ("grounding.single", "grounding.abstract"),
    "grounding_multi": ("grounding.multi", "grounding.abstract"),
    "identify_single": ("identify.single",),
    "identify_multi": ("identify.multi",),
    "refer_single": ("refer.single.iou25", "refer.single.iou50"),
    "refer_multi": ("refer.multi.iou25", "refer.multi.iou50"),
}


def score_sample(subset: str, predicted: Parsed, reference: Parsed) -> SampleScore:
    counts = SCORERS[subset](predicted, reference)
    if subset != "count":
        return SampleScore(subset, counts, predicted.failed)
    response_count = predicted.count if predicted.count is not None else 0
    error = abs(response_count - reference.count)
    exact = predicted.count is not None and predicted.count == reference.count
    return SampleScore(subset, counts, predicted.failed, count_error=error, count_exact=exact)

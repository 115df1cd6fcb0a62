"""Per-sample TP/FP/FN of every primary metric (PROTOCOL §4), from parsed reference and response."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from metrics import benchmark
from metrics.benchmark import Subset
from metrics.boxes import match_counts
from metrics.parsing import Multiset, Parsed, parse_answer

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


def _box_counts(subset: Subset, p: Parsed, r: Parsed) -> dict[str, Counts]:
    labels = (p.box_categories, r.box_categories) if subset.labelled_boxes else (None, None)
    counts = match_counts(p.boxes, r.boxes, [threshold for _, threshold in subset.box_metrics], *labels)
    return {metric: c for (metric, _), c in zip(subset.box_metrics, counts)}


def _classify(subset: Subset, p: Parsed, r: Parsed) -> dict[str, Counts]:
    return {subset.answer_metric: set_counts(p.categories, r.categories)}


def _mentions(subset: Subset, p: Parsed, r: Parsed) -> dict[str, Counts]:
    return {subset.answer_metric: multiset_counts(p.mentions, r.mentions)}


def _grounding(subset: Subset, p: Parsed, r: Parsed) -> dict[str, Counts]:
    counts = _box_counts(subset, p, r)
    if r.relations:
        counts[subset.relation_metric] = multiset_counts(p.relations, r.relations)
    return counts


# Scorer of each task (metrics.benchmark); the subset's table entry names its metric ids.
SCORERS_OF_TASK = {
    "classify": _classify,
    "describe": _mentions,
    "count": _box_counts,
    "grounding": _grounding,
    "identify": _mentions,
    "refer": _box_counts,
}


def score_sample(subset_name: str, predicted: Parsed, reference: Parsed) -> SampleScore:
    entry = benchmark.subset(subset_name)
    counts = SCORERS_OF_TASK[entry.task](entry, predicted, reference)
    if not entry.states_count:
        return SampleScore(subset_name, counts, predicted.failed)
    response_count = predicted.count if predicted.count is not None else 0
    error = abs(response_count - reference.count)
    exact = predicted.count is not None and predicted.count == reference.count
    return SampleScore(subset_name, counts, predicted.failed, count_error=error, count_exact=exact)


@lru_cache(maxsize=1 << 16)
def score_texts(subset_name: str, response: str, reference: str) -> tuple[Parsed, Parsed, SampleScore | None]:
    """(parsed response, parsed reference, score) of one pair of texts, the score None when the
    reference has nothing to score. A pair seen before is not parsed or matched again (templated
    answers repeat: identification's ~800 reference texts cover 158k samples). The returned
    objects are shared: read them, never mutate."""
    reference_parsed = parse_answer(subset_name, reference)
    parsed = parse_answer(subset_name, response)
    if reference_parsed.failed:
        return parsed, reference_parsed, None
    return parsed, reference_parsed, score_sample(subset_name, parsed, reference_parsed)

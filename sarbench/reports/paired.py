"""Per-sample paired views of two runs: McNemar's exact test on binary hits, and the samples
on which the runs disagree most."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

from sarbench.reports.details import RunSamples


@dataclass
class McNemar:
    name: str
    definition: str
    n: int
    a_only: int  # samples A gets right and B wrong
    b_only: int
    p_value: float


def _hit(samples: RunSamples, metric: str, rule: str) -> np.ndarray:
    counts = samples.counts[metric]
    if rule == "hit":  # the single reference object was found
        return counts[:, 0] >= 1
    return (counts[:, 1] == 0) & (counts[:, 2] == 0)  # exact: per-sample accuracy 100


# (test name, metric id, rule, definition shown in reports)
BINARY_TESTS = (
    ("count.only", None, "exact", "response count = reference count"),
    ("refer.single.iou50 hit", "refer.single.iou50", "hit", "TP = 1 (the referred box, IoU ≥ .5)"),
    ("refer.single.iou25 hit", "refer.single.iou25", "hit", "TP = 1 (the referred box, IoU ≥ .25)"),
    ("grounding.single hit", "grounding.single", "hit", "TP = 1 (the object, right category, IoU ≥ .5)"),
    ("identify.single exact", "identify.single", "exact", "all attributes right, none extra"),
    ("classify.acc exact", "classify.acc", "exact", "category set exactly right"),
)


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value: binomial test of the discordant pairs against 1/2."""
    discordant = a_only + b_only
    return 1.0 if discordant == 0 else float(binomtest(b_only, discordant, 0.5).pvalue)


def mcnemar_tests(a: RunSamples, b: RunSamples) -> list[McNemar]:
    tests = []
    for name, metric, rule, definition in BINARY_TESTS:
        if metric is None:
            eligible = a.subsets == "count"
            hits_a, hits_b = a.count_exact, b.count_exact
        else:
            if metric not in a.carries:
                continue
            eligible = a.carries[metric]
            hits_a, hits_b = _hit(a, metric, rule), _hit(b, metric, rule)
        if not eligible.any():
            continue
        a_only = int((hits_a & ~hits_b & eligible).sum())
        b_only = int((~hits_a & hits_b & eligible).sum())
        tests.append(McNemar(name, definition, int(eligible.sum()), a_only, b_only, mcnemar_exact(a_only, b_only)))
    return tests


def sample_accuracy(samples: RunSamples) -> np.ndarray:
    """Per sample: mean of 100·TP/(TP+FP+FN) over its metrics (count exactness included)."""
    total = np.zeros(len(samples.ids))
    carried = np.zeros(len(samples.ids))
    for metric, counts in samples.counts.items():
        mask = samples.carries[metric]
        denominator = counts.sum(axis=1)
        accuracy = np.where(denominator > 0, 100.0 * counts[:, 0] / np.maximum(denominator, 1), 100.0)
        total += np.where(mask, accuracy, 0.0)
        carried += mask
    is_count = samples.subsets == "count"
    total += np.where(is_count & samples.count_exact, 100.0, 0.0)
    carried += is_count
    return np.where(carried > 0, total / np.maximum(carried, 1), np.nan)


def differing_samples(a: RunSamples, b: RunSamples) -> int:
    """Samples the two runs score differently: any TP/FP/FN count, parse failure or count answer."""
    differ = (a.parse_fail != b.parse_fail) | (a.count_exact != b.count_exact)
    differ |= np.nan_to_num(a.count_error, nan=-1.0) != np.nan_to_num(b.count_error, nan=-1.0)
    for metric, counts in a.counts.items():
        differ |= (counts != b.counts[metric]).any(axis=1)
    return int(differ.sum())


def _id_key(sample_id: str) -> tuple[str, int, str]:
    """`count/10` after `count/9`: sample ids are `<subset>/<index>`."""
    head, _, tail = sample_id.rpartition("/")
    return (head, int(tail), "") if tail.isdigit() else (head, -1, tail)


def disagreements(a: RunSamples, b: RunSamples, top: int) -> list[dict]:
    """The `top` samples with the largest |B − A| per-sample accuracy (ties by id)."""
    score_a, score_b = sample_accuracy(a), sample_accuracy(b)
    difference = np.nan_to_num(score_b - score_a)
    candidates = np.flatnonzero(difference != 0)
    order = sorted(candidates.tolist(), key=lambda i: (-abs(difference[i]), _id_key(a.ids[i])))[:top]
    return [
        {
            "id": a.ids[i],
            "subset": str(a.subsets[i]),
            "a": float(score_a[i]),
            "b": float(score_b[i]),
            "delta": float(difference[i]),
            "a_response": a.responses[i],
            "b_response": b.responses[i],
        }
        for i in order
    ]

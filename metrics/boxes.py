"""Box IoU and maximum-cardinality one-to-one matching (PROTOCOL §4, "Box matching").

Most samples hold a handful of boxes, so matching is a plain augmenting-path search (Kuhn's
algorithm) on the thresholded IoU graph: exact, and far cheaper per sample than building a
cost matrix for scipy. `tests/test_boxes.py` checks it against scipy's linear_sum_assignment.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

Box = Sequence[float]


def is_degenerate(box: Box) -> bool:
    """x2 <= x1 or y2 <= y1: still a box for counts and FP, but it matches nothing."""
    return box[2] <= box[0] or box[3] <= box[1]


def iou(a: Box, b: Box) -> float:
    """IoU on continuous coordinates, no "+1"; a union of 0 gives 0."""
    inter_w = min(a[2], b[2]) - max(a[0], b[0])
    inter_h = min(a[3], b[3]) - max(a[1], b[1])
    inter = inter_w * inter_h if inter_w > 0 and inter_h > 0 else 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    if not math.isfinite(union):  # areas beyond float range (coordinates of ~155+ digits)
        return _exact_iou(a, b)
    if union <= 0:
        return 0.0
    return inter / union


def _exact_iou(a: Box, b: Box) -> float:
    """The same IoU in exact rational arithmetic, for boxes whose areas overflow float64 (the
    coordinates themselves are finite floats). A coordinate that is itself infinite has no IoU: 0."""
    if not all(math.isfinite(v) for v in (*a, *b)):
        return 0.0
    a, b = [Fraction(v) for v in a], [Fraction(v) for v in b]
    inter_w = min(a[2], b[2]) - max(a[0], b[0])
    inter_h = min(a[3], b[3]) - max(a[1], b[1])
    inter = inter_w * inter_h if inter_w > 0 and inter_h > 0 else Fraction(0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def match_edges(
    predicted: Sequence[Box],
    reference: Sequence[Box],
    threshold: float,
    predicted_labels: Sequence[object] | None = None,
    reference_labels: Sequence[object] | None = None,
) -> list[list[int]]:
    """For each predicted box, the reference boxes it may match (IoU >= threshold, same label)."""
    usable_ref = [j for j, r in enumerate(reference) if not is_degenerate(r)]
    edges: list[list[int]] = []
    for i, p in enumerate(predicted):
        if is_degenerate(p):
            edges.append([])
            continue
        row = []
        for j in usable_ref:
            if predicted_labels is not None and predicted_labels[i] != reference_labels[j]:
                continue
            if iou(p, reference[j]) >= threshold:
                row.append(j)
        edges.append(row)
    return edges


def maximum_matching(edges: list[list[int]], n_right: int) -> int:
    """Size of a maximum-cardinality matching of a bipartite graph given as adjacency lists."""
    return sum(1 for left in matching_owners(edges, n_right) if left != -1)


def matching_owners(edges: list[list[int]], n_right: int) -> list[int]:
    """A maximum-cardinality matching: for each right vertex, its left partner or -1.

    Iterative augmenting-path search, so a response spraying thousands of boxes cannot hit
    Python's recursion limit.
    """
    owner = [-1] * n_right
    for root, row in enumerate(edges):
        if not row:
            continue
        seen = [False] * n_right
        # stack of (left vertex, index of next edge to try); path[k] is the right vertex taken
        stack = [[root, 0]]
        path: list[int] = []
        found = False
        while stack:
            frame = stack[-1]
            left, k = frame
            adjacency = edges[left]
            if k >= len(adjacency):
                stack.pop()
                if path:
                    path.pop()
                continue
            frame[1] = k + 1
            right = adjacency[k]
            if seen[right]:
                continue
            seen[right] = True
            path.append(right)
            if owner[right] == -1:
                found = True
                break
            stack.append([owner[right], 0])
        if found:
            for (left, _), right in zip(stack, path):
                owner[right] = left
    return owner


def match_count(
    predicted: Sequence[Box],
    reference: Sequence[Box],
    threshold: float,
    predicted_labels: Sequence[object] | None = None,
    reference_labels: Sequence[object] | None = None,
) -> tuple[int, int, int]:
    """(TP, FP, FN) of maximum one-to-one matching at IoU >= threshold (labels equal if given)."""
    if not predicted or not reference:
        return 0, len(predicted), len(reference)
    edges = match_edges(predicted, reference, threshold, predicted_labels, reference_labels)
    tp = maximum_matching(edges, len(reference))
    return tp, len(predicted) - tp, len(reference) - tp


def match_pairs(
    predicted: Sequence[Box],
    reference: Sequence[Box],
    threshold: float,
    predicted_labels: Sequence[object] | None = None,
    reference_labels: Sequence[object] | None = None,
) -> list[tuple[int, int]]:
    """(predicted index, reference index) pairs of one maximum matching (for breakdowns)."""
    if not predicted or not reference:
        return []
    edges = match_edges(predicted, reference, threshold, predicted_labels, reference_labels)
    owners = matching_owners(edges, len(reference))
    return [(left, right) for right, left in enumerate(owners) if left != -1]

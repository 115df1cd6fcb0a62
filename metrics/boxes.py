"""Box IoU and maximum-cardinality one-to-one matching (PROTOCOL §4, "Box matching").

Most samples hold a handful of boxes, so matching is a plain augmenting-path search (Kuhn's
algorithm) on the thresholded IoU graph: exact, and far cheaper per sample than building a
cost matrix for scipy. `tests/test_boxes.py` checks it against scipy's linear_sum_assignment.

Bounded work on adversarial input (a response or reference of thousands of mutually overlapping
boxes): Kuhn's search costs up to O(V·E), minutes for 2,000 x 2,000 boxes. Above
`KUHN_MAX_WORK` (left vertices x edges) the matching is Hopcroft-Karp (scipy's
maximum_bipartite_matching, O(E·sqrt(V))). Both are maximum matchings, so TP/FP/FN are the
same; which pairs are matched (used only by the size breakdown) may differ in that regime,
which no realistic sample reaches (it needs hundreds of boxes overlapping hundreds of others).
The IoU graph of more than `VECTOR_MIN_PAIRS` pairs is computed with numpy in the same float
operations, so the same edges come out (pairs whose union overflows float go through `iou`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

Box = Sequence[float]

KUHN_MAX_WORK = 20_000_000  # left vertices x edges: ~1 s of Kuhn's search at worst
VECTOR_MIN_PAIRS = 4_096
_EXACT_INT = 2**24  # int coordinates up to this give the same products in float64 as in int


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
    if _vectorised(predicted, reference):
        return _vector_edges(predicted, reference, threshold, predicted_labels, reference_labels)
    return edges_at(overlaps(predicted, reference, predicted_labels, reference_labels), threshold)


def _vectorised(predicted: Sequence[Box], reference: Sequence[Box]) -> bool:
    return len(predicted) * len(reference) >= VECTOR_MIN_PAIRS and _float_exact(predicted, reference)


def overlaps(
    predicted: Sequence[Box],
    reference: Sequence[Box],
    predicted_labels: Sequence[object] | None = None,
    reference_labels: Sequence[object] | None = None,
) -> list[list[tuple[int, float]]]:
    """For each predicted box, (j, IoU) of the reference boxes it could match (neither box
    degenerate, labels equal), so that several thresholds share one IoU computation.

    The IoU is `iou`'s value: the same float operations, inlined (this loop is most of box
    scoring). A pair that does not intersect gets 0.0 without the union: `iou` returns 0.0 for it
    on every path (a nonzero float difference has the sign of the exact one, and the exact path
    gives 0 for an empty intersection or an infinite coordinate)."""
    usable_ref = [(j, r, (r[2] - r[0]) * (r[3] - r[1])) for j, r in enumerate(reference) if not is_degenerate(r)]
    rows: list[list[tuple[int, float]]] = []
    for i, p in enumerate(predicted):
        row: list[tuple[int, float]] = []
        rows.append(row)
        if is_degenerate(p):
            continue
        p0, p1, p2, p3 = p
        area = (p2 - p0) * (p3 - p1)
        label = predicted_labels[i] if predicted_labels is not None else None
        for j, r, r_area in usable_ref:
            if predicted_labels is not None and label != reference_labels[j]:
                continue
            r0, r1, r2, r3 = r
            # min(a, b) is b only when b < a, max(a, b) b only when b > a: NaN and -0.0 as in iou
            inter_w = (r2 if r2 < p2 else p2) - (r0 if r0 > p0 else p0)
            inter_h = (r3 if r3 < p3 else p3) - (r1 if r1 > p1 else p1)
            if not (inter_w > 0 and inter_h > 0):
                row.append((j, 0.0))
                continue
            inter = inter_w * inter_h
            union = area + r_area - inter
            if not math.isfinite(union):
                row.append((j, _exact_iou(p, r)))
            else:
                row.append((j, inter / union if union > 0 else 0.0))
    return rows


def edges_at(overlap_rows: list[list[tuple[int, float]]], threshold: float) -> list[list[int]]:
    """The matching graph at one IoU threshold."""
    return [[j for j, value in row if value >= threshold] for row in overlap_rows]


def _float_exact(*box_lists: Sequence[Box]) -> bool:
    """Whether float64 arithmetic on these coordinates gives exactly what `iou` computes."""
    for boxes in box_lists:
        for box in boxes:
            for v in box:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    return False
                if isinstance(v, int) and abs(v) > _EXACT_INT:
                    return False
    return True


def _vector_edges(predicted, reference, threshold, predicted_labels, reference_labels) -> list[list[int]]:
    """`match_edges` for many pairs: the same IoU operations, elementwise in float64."""
    import numpy as np

    p = np.asarray(predicted, dtype=np.float64).reshape(-1, 4)[:, None, :]
    r = np.asarray(reference, dtype=np.float64).reshape(-1, 4)[None, :, :]
    with np.errstate(over="ignore", invalid="ignore"):
        inter_w = np.minimum(p[..., 2], r[..., 2]) - np.maximum(p[..., 0], r[..., 0])
        inter_h = np.minimum(p[..., 3], r[..., 3]) - np.maximum(p[..., 1], r[..., 1])
        inter = np.where((inter_w > 0) & (inter_h > 0), inter_w * inter_h, 0.0)
        union = (p[..., 2] - p[..., 0]) * (p[..., 3] - p[..., 1]) + (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])
        union = union - inter
        value = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    ok = value >= threshold
    ok &= ~((p[..., 2] <= p[..., 0]) | (p[..., 3] <= p[..., 1]))  # degenerate boxes match nothing
    ok &= ~((r[..., 2] <= r[..., 0]) | (r[..., 3] <= r[..., 1]))
    overflow = ~np.isfinite(union)
    if overflow.any():
        for i, j in zip(*np.nonzero(overflow)):
            degenerate = is_degenerate(predicted[i]) or is_degenerate(reference[j])
            ok[i, j] = not degenerate and iou(predicted[i], reference[j]) >= threshold
    if predicted_labels is not None:
        codes: dict[object, int] = {}
        left = np.array([codes.setdefault(x, len(codes)) for x in predicted_labels])
        right = np.array([codes.setdefault(x, len(codes)) for x in reference_labels])
        ok &= left[:, None] == right[None, :]
    return [np.flatnonzero(row).tolist() for row in ok]


def maximum_matching(edges: list[list[int]], n_right: int) -> int:
    """Size of a maximum-cardinality matching of a bipartite graph given as adjacency lists."""
    taken = [j for row in edges for j in row]
    if len(taken) == len(set(taken)):  # no two left vertices share a right one: each takes its own
        return sum(map(bool, edges))
    return sum(1 for left in matching_owners(edges, n_right) if left != -1)


def matching_owners(edges: list[list[int]], n_right: int) -> list[int]:
    """A maximum-cardinality matching: for each right vertex, its left partner or -1.

    Iterative augmenting-path search, so a response spraying thousands of boxes cannot hit
    Python's recursion limit; Hopcroft-Karp above KUHN_MAX_WORK (module docstring).
    """
    if len(edges) * sum(map(len, edges)) > KUHN_MAX_WORK:
        return _hopcroft_karp_owners(edges, n_right)
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


def _hopcroft_karp_owners(edges: list[list[int]], n_right: int) -> list[int]:
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    indptr = np.zeros(len(edges) + 1, dtype=np.int64)
    np.cumsum([len(row) for row in edges], out=indptr[1:])
    indices = np.fromiter((j for row in edges for j in row), dtype=np.int32, count=int(indptr[-1]))
    graph = csr_matrix((np.ones(len(indices), dtype=np.int8), indices, indptr), shape=(len(edges), n_right))
    return maximum_bipartite_matching(graph, perm_type="row").tolist()


def match_count(
    predicted: Sequence[Box],
    reference: Sequence[Box],
    threshold: float,
    predicted_labels: Sequence[object] | None = None,
    reference_labels: Sequence[object] | None = None,
) -> tuple[int, int, int]:
    """(TP, FP, FN) of maximum one-to-one matching at IoU >= threshold (labels equal if given)."""
    return match_counts(predicted, reference, (threshold,), predicted_labels, reference_labels)[0]


def match_counts(
    predicted: Sequence[Box],
    reference: Sequence[Box],
    thresholds: Sequence[float],
    predicted_labels: Sequence[object] | None = None,
    reference_labels: Sequence[object] | None = None,
) -> list[tuple[int, int, int]]:
    """`match_count` at each of several thresholds, computing each pair's IoU once."""
    if not predicted or not reference:
        return [(0, len(predicted), len(reference))] * len(thresholds)
    if _vectorised(predicted, reference):
        graphs = [match_edges(predicted, reference, t, predicted_labels, reference_labels) for t in thresholds]
    else:
        rows = overlaps(predicted, reference, predicted_labels, reference_labels)
        graphs = [edges_at(rows, t) for t in thresholds]
    counts = []
    for edges in graphs:
        tp = maximum_matching(edges, len(reference))
        counts.append((tp, len(predicted) - tp, len(reference) - tp))
    return counts


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

"""Box IoU and maximum-cardinality matching, checked against scipy and pycocotools."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from metrics.boxes import iou, is_degenerate, match_count

coordinate = st.integers(0, 60)
box = st.tuples(coordinate, coordinate, coordinate, coordinate)
boxes = st.lists(box, max_size=7)


def scipy_tp(pred, ref, t):
    if not pred or not ref:
        return 0
    graph = np.array([[0 if is_degenerate(p) or is_degenerate(r) else int(iou(p, r) >= t) for r in ref] for p in pred])
    rows, cols = linear_sum_assignment(graph, maximize=True)
    return int(graph[rows, cols].sum())


def test_iou_by_hand():
    assert iou((291, 355, 320, 428), (294, 358, 329, 427)) == pytest.approx(1794 / 2738)
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0
    assert iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0  # union 0
    assert iou((0, 0, 2, 2), (0, 0, 1, 4)) == 2 / 6


def test_iou_equals_pycocotools():
    mask_util = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 100, (50, 2))
    b = rng.uniform(0, 100, (50, 2))
    first = np.hstack([a, a + rng.uniform(1, 50, (50, 2))])
    second = np.hstack([b, b + rng.uniform(1, 50, (50, 2))])

    def xywh(x):
        return np.hstack([x[:, :2], x[:, 2:] - x[:, :2]])

    expected = mask_util.iou(xywh(first).tolist(), xywh(second).tolist(), [0] * 50)
    ours = np.array([[iou(p, r) for r in second] for p in first])
    assert np.allclose(ours, expected, atol=1e-12)


def test_threshold_is_inclusive():
    # IoU exactly 0.5 and exactly 0.25 match at those thresholds
    assert match_count([(0, 0, 2, 1)], [(0, 0, 1, 1)], 0.5) == (1, 0, 0)
    assert match_count([(0, 0, 4, 1)], [(0, 0, 1, 1)], 0.25) == (1, 0, 0)
    assert match_count([(0, 0, 4, 1)], [(0, 0, 1, 1)], 0.5) == (0, 1, 1)


def test_maximum_cardinality_beats_greedy():
    # greedy-by-IoU takes p0-r0 (best pair) and leaves p1 unmatched; the maximum matching has 2
    ref = [(0, 0, 10, 10), (4, 0, 14, 10)]
    pred = [(2, 0, 12, 10), (0, 0, 9, 10)]
    assert match_count(pred, ref, 0.5) == (2, 0, 0)


def test_labels_must_agree():
    assert match_count([(0, 0, 1, 1)], [(0, 0, 1, 1)], 0.5, ["ship"], ["tank"]) == (0, 1, 1)
    assert match_count([(0, 0, 1, 1)], [(0, 0, 1, 1)], 0.5, ["none"], ["none"]) == (1, 0, 0)


def test_many_boxes_do_not_recurse():
    ref = [(i, 0, i + 1, 1) for i in range(3000)]
    assert match_count(list(reversed(ref)), ref, 0.5) == (3000, 0, 0)


@settings(max_examples=300, deadline=None)
@given(boxes, boxes, st.sampled_from([0.25, 0.5]))
def test_matching_equals_scipy(pred, ref, t):
    tp, fp, fn = match_count(pred, ref, t)
    assert tp == scipy_tp(pred, ref, t)
    assert tp <= min(len(pred), len(ref))
    assert (tp + fp, tp + fn) == (len(pred), len(ref))


@settings(max_examples=200, deadline=None)
@given(boxes, boxes, st.randoms())
def test_permutation_invariant(pred, ref, rnd):
    shuffled_pred, shuffled_ref = pred[:], ref[:]
    rnd.shuffle(shuffled_pred)
    rnd.shuffle(shuffled_ref)
    assert match_count(pred, ref, 0.5) == match_count(shuffled_pred, shuffled_ref, 0.5)


@given(boxes)
def test_identical_boxes_all_match_unless_degenerate(ref):
    tp, fp, fn = match_count(ref, ref, 0.5)
    assert tp == sum(not is_degenerate(b) for b in ref)


@given(box, box)
def test_degenerate_never_matches(a, b):
    degenerate = (a[0], a[1], a[0], a[3])
    assert match_count([degenerate], [b], 0.0) == (0, 1, 1)
    assert match_count([b], [degenerate], 0.0) == (0, 1, 1)


def test_boxes_whose_areas_overflow_float_still_get_their_iou():
    huge = float("1" + "0" * 200)
    assert iou((0, 0, huge, huge), (0, 0, huge, huge)) == 1.0
    assert iou((0, 0, huge, huge), (0, 0, huge, huge / 2)) == 0.5
    assert iou((0, 0, 1e308, 1e308), (-1e308, 0, 0, 1e308)) == 0.0
    assert iou((0, 0, float("inf"), 1), (0, 0, float("inf"), 1)) == 0.0  # no IoU exists: matches nothing


# --- bounded work on dense, adversarial inputs (numpy IoU graph, Hopcroft-Karp) ---------------

from metrics import boxes as boxes_module  # noqa: E402
from metrics.boxes import match_edges, match_pairs, matching_owners  # noqa: E402

fine_coordinate = st.one_of(st.integers(0, 60), st.floats(0, 60, allow_nan=False, allow_infinity=False))
fine_box = st.tuples(fine_coordinate, fine_coordinate, fine_coordinate, fine_coordinate)


def python_edges(pred, ref, t, pl=None, rl=None):
    return [
        [
            j
            for j, r in enumerate(ref)
            if not is_degenerate(p) and not is_degenerate(r) and (pl is None or pl[i] == rl[j]) and iou(p, r) >= t
        ]
        for i, p in enumerate(pred)
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(fine_box, max_size=12),
    st.lists(fine_box, max_size=12),
    st.sampled_from([0.25, 0.5]),
    st.booleans(),
    st.randoms(),
)
def test_numpy_iou_graph_equals_the_python_one(pred, ref, t, labelled, rnd):
    pl = [rnd.choice("ab") for _ in pred] if labelled else None
    rl = [rnd.choice("ab") for _ in ref] if labelled else None
    original = boxes_module.VECTOR_MIN_PAIRS
    try:
        boxes_module.VECTOR_MIN_PAIRS = 1
        assert match_edges(pred, ref, t, pl, rl) == python_edges(pred, ref, t, pl, rl)
    finally:
        boxes_module.VECTOR_MIN_PAIRS = original


def test_numpy_iou_graph_keeps_the_exact_path_for_overflowing_areas():
    big = 1e200
    pred = [(0.0, 0.0, big, big)] * 70
    ref = [(0.0, 0.0, big, big / 2)] * 70
    assert match_edges(pred, ref, 0.5) == python_edges(pred, ref, 0.5)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), max_size=6, unique=True), max_size=10))
def test_hopcroft_karp_and_kuhn_find_matchings_of_the_same_size(edges):
    kuhn = matching_owners(edges, 10)
    original = boxes_module.KUHN_MAX_WORK
    try:
        boxes_module.KUHN_MAX_WORK = -1
        fast = matching_owners(edges, 10)
    finally:
        boxes_module.KUHN_MAX_WORK = original
    assert sum(o != -1 for o in fast) == sum(o != -1 for o in kuhn)
    assert all(right in edges[left] for right, left in enumerate(fast) if left != -1)
    assert len({left for left in fast if left != -1}) == sum(o != -1 for o in fast)


def test_dense_adversarial_matching_is_bounded_and_exact():
    """2,000 x 2,000 mutually overlapping boxes took minutes (Kuhn's search on 4M edges)."""
    import random
    import time

    rnd = random.Random(0)
    ref = [(100 + rnd.random(), 100 + rnd.random(), 200 + rnd.random(), 200 + rnd.random()) for _ in range(2000)]
    pred = [(100 + rnd.random(), 100 + rnd.random(), 200 + rnd.random(), 200 + rnd.random()) for _ in range(2000)]
    started = time.perf_counter()
    assert match_count(pred, ref, 0.5) == (2000, 0, 0)
    assert len(match_pairs(pred, ref, 0.5)) == 2000
    assert time.perf_counter() - started < 30


extreme_coordinate = st.one_of(
    fine_coordinate,
    st.sampled_from([0.0, -0.0, 1e200, -1e200, 1e308, float("inf"), float("-inf"), 5e-324, 2**60]),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(*(extreme_coordinate,) * 4), max_size=6),
    st.lists(st.tuples(*(extreme_coordinate,) * 4), max_size=6),
    st.booleans(),
    st.randoms(),
)
def test_inlined_iou_values_and_shared_graphs_equal_iou(pred, ref, labelled, rnd):
    from metrics.boxes import match_counts, overlaps

    pl = [rnd.choice("ab") for _ in pred] if labelled else None
    rl = [rnd.choice("ab") for _ in ref] if labelled else None
    for i, row in enumerate(overlaps(pred, ref, pl, rl)):
        expected = [
            (j, iou(pred[i], r))
            for j, r in enumerate(ref)
            if not is_degenerate(pred[i]) and not is_degenerate(r) and (pl is None or pl[i] == rl[j])
        ]
        assert row == expected
    for t in (0.0, 0.25, 0.5):
        assert match_edges(pred, ref, t, pl, rl) == python_edges(pred, ref, t, pl, rl)
    assert match_counts(pred, ref, (0.25, 0.5), pl, rl) == [match_count(pred, ref, t, pl, rl) for t in (0.25, 0.5)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 5), max_size=3, unique=True), max_size=6))
def test_matching_size_shortcut_for_disjoint_rows(edges):
    original = boxes_module.KUHN_MAX_WORK
    try:
        boxes_module.KUHN_MAX_WORK = -1  # Hopcroft-Karp, which the shortcut does not take
        expected = sum(o != -1 for o in matching_owners(edges, 6))
    finally:
        boxes_module.KUHN_MAX_WORK = original
    assert boxes_module.maximum_matching(edges, 6) == expected

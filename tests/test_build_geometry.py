"""PROTOCOL §2 geometry: grid cells, sizes, shapes, relations and the paper's filters."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from sarbench.build import geometry as geo
from sarbench.build.geometry import Box


def test_cells_follow_the_min_2_floor_rule_on_exact_thirds():
    # 300 px: columns split at centre x = 100 and 200 exactly.
    assert geo.grid_cell(Box(98, 0, 100, 10), 300, 300) == "top left"  # centre 99
    assert geo.grid_cell(Box(99, 0, 101, 10), 300, 300) == "top center"  # centre 100 -> floor(1.0) = 1
    assert geo.grid_cell(Box(199, 140, 201, 160), 300, 300) == "middle right"  # centre 200
    assert geo.grid_cell(Box(290, 290, 300, 300), 300, 300) == "bottom right"
    assert geo.grid_cell(Box(0, 0, 300, 300), 300, 300) == "middle center"


def test_paper_examples_cells():
    # Fig. 3 boxes on a 512 x 512 image, with the paper's grid words.
    for box, cell in [
        ((294, 358, 329, 427), "bottom center"),
        ((61, 448, 122, 503), "bottom left"),
        ((27, 199, 78, 261), "middle left"),
        ((193, 157, 245, 306), "middle center"),
        ((393, 426, 470, 494), "bottom right"),
    ]:
        assert geo.grid_cell(Box(*box), 512, 512) == cell


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 2000), st.integers(1, 2000), st.data())
def test_cells_sizes_shapes_match_the_float_definitions(width, height, data):
    x1 = data.draw(st.integers(0, width - 1))
    y1 = data.draw(st.integers(0, height - 1))
    box = Box(x1, y1, data.draw(st.integers(x1 + 1, width)), data.draw(st.integers(y1 + 1, height)))
    cx, cy = Fraction(box.x1 + box.x2, 2), Fraction(box.y1 + box.y2, 2)
    row, col = min(2, math.floor(3 * cy / height)), min(2, math.floor(3 * cx / width))
    assert geo.grid_cell(box, width, height) == f"{geo.ROWS[row]} {geo.COLUMNS[col]}"
    ratio = Fraction(box.area, width * height)
    size = (
        "very large"
        if ratio >= Fraction(2, 5)
        else "large"
        if ratio >= Fraction(1, 4)
        else "medium"
        if ratio >= Fraction(1, 10)
        else "small"
        if ratio >= Fraction(3, 100)
        else "very small"
    )
    assert geo.size_word(box, width, height) == size
    aspect = Fraction(box.width, box.height)
    assert geo.shape_word(box) == (
        "wide" if aspect > Fraction(3, 2) else "tall" if aspect < Fraction(67, 100) else "square"
    )


def test_size_and_shape_thresholds_are_inclusive_as_written():
    assert geo.size_word(Box(0, 0, 40, 10), 100, 10) == "very large"  # R = 0.4
    assert geo.size_word(Box(0, 0, 25, 10), 100, 10) == "large"  # R = 0.25
    assert geo.size_word(Box(0, 0, 10, 10), 100, 10) == "medium"  # R = 0.1
    assert geo.size_word(Box(0, 0, 3, 10), 100, 10) == "small"  # R = 0.03
    assert geo.size_word(Box(0, 0, 2, 10), 100, 10) == "very small"
    assert geo.shape_word(Box(0, 0, 15, 10)) == "square"  # exactly 1.5 is not wide
    assert geo.shape_word(Box(0, 0, 16, 10)) == "wide"
    assert geo.shape_word(Box(0, 0, 67, 100)) == "square"  # exactly 0.67 is not tall
    assert geo.shape_word(Box(0, 0, 66, 100)) == "tall"


def test_filters():
    assert geo.image_too_small(223, 500) and geo.image_too_small(500, 223) and not geo.image_too_small(224, 224)
    assert geo.too_elongated(Box(0, 0, 101, 10)) and not geo.too_elongated(Box(0, 0, 100, 10))
    assert geo.too_elongated(Box(0, 0, 10, 101))
    assert geo.out_of_bounds(Box(-1, 0, 10, 10), 100, 100) and geo.out_of_bounds(Box(0, 0, 101, 10), 100, 100)
    assert not geo.out_of_bounds(Box(0, 0, 100, 100), 100, 100)
    assert geo.degenerate(Box(5, 5, 5, 9)) and geo.degenerate(Box(5, 9, 8, 3))
    assert geo.describable(Box(0, 0, 10, 10), 100, 100) and not geo.describable(Box(0, 0, 9, 11), 100, 100)


def test_rounding_of_fractional_boxes_is_half_up():
    assert geo.to_pixel_box(0.5, 1.49, 2.5, 3.5000001) == Box(1, 1, 3, 4)
    assert geo.to_pixel_box(1, 2, 3, 4) == Box(1, 2, 3, 4)
    assert geo.box_text(Box(294, 358, 329, 427)) == "{<294><358><329><427>}"


def point(x: int, y: int) -> geo.Position:
    return geo.position([Box(x, y, x, y)])  # a zero-size box is just its centre


def test_positions_are_mean_box_centres():
    assert geo.position([Box(0, 0, 10, 10), Box(20, 0, 31, 10)]) == geo.Position(61, 20, 2)  # (15.25, 5)


def test_near_threshold_is_strict():
    # W + H = 800 -> near when the centre distance < 100.
    a = point(0, 0)
    assert geo.is_near(a, point(60, 79), 400, 400)  # distance ~99.2
    assert not geo.is_near(a, point(60, 80), 400, 400)  # distance 100 exactly
    assert not geo.is_near(a, point(0, 100), 400, 400)
    half = geo.position([Box(0, 0, 1, 1)])  # centre (0.5, 0.5)
    assert geo.is_near(half, point(60, 80), 400, 400) and not geo.is_near(half, point(61, 81), 400, 400)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(1, 60), st.integers(1, 60)),
        min_size=2,
        max_size=6,
    ),
    st.integers(1, 5),
    st.integers(224, 800),
    st.integers(224, 800),
)
def test_relations_match_the_rational_definitions(raw, split, width, height):
    boxes = [Box(x, y, x + w, y + h) for x, y, w, h in raw]
    a, b = boxes[: min(split, len(boxes) - 1)], boxes[min(split, len(boxes) - 1) :]

    def centroid(group):
        return (
            sum(Fraction(g.x1 + g.x2, 2) for g in group) / len(group),
            sum(Fraction(g.y1 + g.y2, 2) for g in group) / len(group),
        )

    (ax, ay), (bx, by) = centroid(a), centroid(b)
    distance_squared = (ax - bx) ** 2 + (ay - by) ** 2
    assert geo.is_near(geo.position(a), geo.position(b), width, height) == (
        distance_squared < Fraction(width + height, 8) ** 2
    )
    expected = []
    if abs(ax - bx) >= Fraction(width, 6):
        expected.append("left_of" if ax < bx else "right_of")
    if abs(ay - by) >= Fraction(height, 6):
        expected.append("above" if ay < by else "below")
    assert geo.directional_relations(geo.position(a), geo.position(b), width, height) == expected


def test_directional_relations_need_half_a_cell_of_offset():
    # W = H = 300: a direction is stated from an offset of 50 px (W/6) on that axis.
    centre = point(150, 150)
    assert geo.directional_relations(point(100, 150), centre, 300, 300) == ["left_of"]
    assert geo.directional_relations(point(101, 150), centre, 300, 300) == []
    assert geo.directional_relations(point(150, 210), centre, 300, 300) == ["below"]
    assert geo.directional_relations(point(250, 40), centre, 300, 300) == ["right_of", "above"]


def test_group_relations_use_group_centroids_and_list_order():
    ships = [Box(0, 0, 10, 10), Box(20, 0, 30, 10)]  # centroid (15, 5)
    harbor = [Box(280, 280, 300, 300)]  # centre (290, 290)
    triples = geo.group_relations([("ship", ships), ("harbor", harbor)], 300, 300)
    assert triples == [("ship", "far", "harbor"), ("ship", "left_of", "harbor"), ("ship", "above", "harbor")]
    assert geo.group_relations([("ship", ships)], 300, 300) == []
    near = geo.group_relations([("car", [Box(100, 100, 110, 110)]), ("tank", [Box(120, 100, 130, 110)])], 300, 300)
    assert near == [("car", "near", "tank")]

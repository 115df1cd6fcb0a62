"""Box geometry of PROTOCOL §2: grid cells, size and shape words, relations and the paper's filters.

This module is the single source of truth for every attribute the builder writes and every test
recomputes. Boxes are integer pixel boxes (x1, y1, x2, y2) and all decisions use exact integer
arithmetic, so a box on a threshold is classified the same way on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from metrics.attributes import COLUMNS as COLUMNS  # re-exported: tests enumerate the cells
from metrics.attributes import ROWS as ROWS
from metrics.attributes import grid_cell as protocol_grid_cell
from metrics.attributes import shape_word as protocol_shape_word
from metrics.attributes import size_word as protocol_size_word

MIN_IMAGE_SIDE = 224  # paper: images smaller than 224x224 are dropped
MAX_ASPECT_RATIO = 10  # paper: boxes longer than 10:1 are dropped
DESCRIBE_MIN_AREA_PERCENT = 1  # paper: objects under 1% of the image are left out of descriptions


class Box(NamedTuple):
    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    @property
    def area(self) -> int:
        return self.width * self.height


def round_half_up(value: float) -> int:
    """Round to the nearest integer, halves upward (Python's round() is banker's rounding)."""
    return math.floor(value + 0.5)


def to_pixel_box(x1: float, y1: float, x2: float, y2: float) -> Box:
    """An integer box from possibly fractional corner coordinates."""
    return Box(*(v if isinstance(v, int) else round_half_up(v) for v in (x1, y1, x2, y2)))


def box_text(box: Box) -> str:
    return f"{{<{box.x1}><{box.y1}><{box.x2}><{box.y2}>}}"


def grid_cell(box: Box, width: int, height: int) -> str:
    """`row column` of the box centre in thirds: index = min(2, floor(3*c/W))."""
    return protocol_grid_cell(box, width, height)


def size_word(box: Box, width: int, height: int) -> str:
    """Size from R = box area / image area (PROTOCOL §2); one implementation shared with the
    scorer's size breakdown (exact for integer boxes: it compares products, never divides)."""
    return protocol_size_word(box, width, height)


def shape_word(box: Box) -> str:
    """Shape from w/h: > 1.5 wide, < 0.67 tall, else square."""
    return protocol_shape_word(box)


def out_of_bounds(box: Box, width: int, height: int) -> bool:
    return box.x1 < 0 or box.y1 < 0 or box.x2 > width or box.y2 > height


def degenerate(box: Box) -> bool:
    return box.x2 <= box.x1 or box.y2 <= box.y1


def too_elongated(box: Box) -> bool:
    return box.width > MAX_ASPECT_RATIO * box.height or box.height > MAX_ASPECT_RATIO * box.width


def image_too_small(width: int, height: int) -> bool:
    return width < MIN_IMAGE_SIDE or height < MIN_IMAGE_SIDE


def describable(box: Box, width: int, height: int) -> bool:
    """At least 1% of the image area: smaller objects are left out of descriptions."""
    return 100 * box.area >= DESCRIBE_MIN_AREA_PERCENT * width * height


# --- relations between category groups (grounding "abstract position") -------------------------


class Position(NamedTuple):
    """A group's position: the mean of its box centres, (sx / 2n, sy / 2n), kept as exact integers."""

    sx: int  # sum of x1 + x2 over the group's boxes
    sy: int
    n: int


def position(boxes: Iterable[Box]) -> Position:
    boxes = list(boxes)
    return Position(sum(b.x1 + b.x2 for b in boxes), sum(b.y1 + b.y2 for b in boxes), len(boxes))


def _offset(a: Position, b: Position) -> tuple[int, int, int]:
    """(dx, dy, d): the centroid offset a - b is (dx / d, dy / d)."""
    return a.sx * b.n - b.sx * a.n, a.sy * b.n - b.sy * a.n, 2 * a.n * b.n


def is_near(a: Position, b: Position, width: int, height: int) -> bool:
    """Near when the centroid distance is < (W + H) / 8, i.e. 64 * dist^2 < (W + H)^2."""
    dx, dy, d = _offset(a, b)
    return 64 * (dx * dx + dy * dy) < (width + height) ** 2 * d * d


def directional_relations(a: Position, b: Position, width: int, height: int) -> list[str]:
    """Directions of `a` seen from `b`: horizontal when the centroids are at least W/6 apart
    (half a grid column), vertical when at least H/6 apart; a diagonal offset gives both.

    Returns protocol relation ids in the order horizontal, vertical: left_of/right_of, above/below.
    """
    relations = []
    dx, dy, d = _offset(a, b)
    if 6 * abs(dx) >= width * d:
        relations.append("left_of" if dx < 0 else "right_of")
    if 6 * abs(dy) >= height * d:
        relations.append("above" if dy < 0 else "below")
    return relations


def group_relations(groups: Sequence[tuple[str, Sequence[Box]]], width: int, height: int) -> list[tuple[str, str, str]]:
    """Relation triples (c1, rel, c2) for every pair of category groups, c1 listed before c2.

    Each pair gives `near` or `far`, then its directional relations. Single-category images give
    none: a relation is always between two different categories.
    """
    triples = []
    positions = [(category, position(boxes)) for category, boxes in groups]
    for i, (first, first_pos) in enumerate(positions):
        for second, second_pos in positions[i + 1 :]:
            proximity = "near" if is_near(first_pos, second_pos, width, height) else "far"
            triples.append((first, proximity, second))
            triples.extend((first, rel, second) for rel in directional_relations(first_pos, second_pos, width, height))
    return triples

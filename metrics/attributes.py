"""PROTOCOL §2 attribute words of a box in an image: grid cell, size and shape.

One implementation, shared by the builder (the references it writes), the scorer's size
breakdown and rule-based models (model_adapters/cfar.py). Integer boxes are decided with exact
integer arithmetic (products, never divisions), so a box on a threshold gets the same word on
every machine.
"""

from __future__ import annotations

ROWS = ("top", "middle", "bottom")
COLUMNS = ("left", "center", "right")


def grid_cell(box, width: int, height: int) -> str:
    """`row column` of the box centre in thirds: index = min(2, floor(3*c/W))."""
    x1, y1, x2, y2 = box[:4]
    column = min(2, int((3 * (x1 + x2)) // (2 * width)))
    row = min(2, int((3 * (y1 + y2)) // (2 * height)))
    return f"{ROWS[row]} {COLUMNS[column]}"


def size_word(box, width: float, height: float) -> str:
    """Size from the area ratio R = box area / image area (degenerate boxes are very small)."""
    area = max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])
    image_area = width * height
    if 10 * area >= 4 * image_area:
        return "very large"
    if 4 * area >= image_area:
        return "large"
    if 10 * area >= image_area:
        return "medium"
    if 100 * area >= 3 * image_area:
        return "small"
    return "very small"


def shape_word(box) -> str:
    """Shape from w/h: > 1.5 wide, < 0.67 tall, else square."""
    w, h = box[2] - box[0], box[3] - box[1]
    if 2 * w > 3 * h:
        return "wide"
    if 100 * w < 67 * h:
        return "tall"
    return "square"

"""Deterministic synthetic SAR scenes with exact boxes (numpy only), written as PNG + simple JSONL.

A scene is built in a canonical orientation (coast running top-down with land on the right, river
running top-down, runway left-right), speckled with multiplicative gamma noise (L looks) and then
turned by one of the 8 flips/transposes, boxes included. Scene i of seed s uses its own numpy
Generator seeded with (s, i), so scenes are independent of each other and of how many are made.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from sarbench.build import sar_targets as st
from sarbench.build.geometry import Box
from sarbench.build.png import write_gray_png

# (width, height); about 110k pixels on average keeps the bundled sample well under 5 MB.
SIZES = (
    (256, 256),
    (256, 320),
    (288, 320),
    (320, 320),
    (320, 384),
    (352, 288),
    (384, 384),
    (288, 416),
    (448, 256),
    (512, 256),
)
SCENE_KINDS = ("sea_single", "sea", "coast", "airport", "river", "industrial", "single", "harbor_town")
SINGLE_CATEGORIES = ("aircraft", "bridge", "harbor", "tank", "car")
SEA, LAND = 0.05, 0.3  # mean backscatter of calm sea and of land
LOOKS = 3
DISPLAY_SATURATION = 2.2  # amplitude mapped to 255


def smooth_field(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Zero-mean, unit-ish random field varying over about `cells` cells per side (bilinear)."""
    grid = rng.standard_normal((cells + 1, cells + 1))
    ys, xs = np.linspace(0, cells, height, endpoint=False), np.linspace(0, cells, width, endpoint=False)
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def _background(rng: np.random.Generator, height: int, width: int, water: np.ndarray) -> np.ndarray:
    """Sea with slow wind-driven swells; land as fields (Voronoi patches) of differing backscatter."""
    sea = SEA * np.exp(0.3 * smooth_field(rng, height, width, 3))
    n_fields = max(8, height * width // 3600)
    seeds_y, seeds_x = rng.uniform(0, height, n_fields), rng.uniform(0, width, n_fields)
    ys, xs = np.arange(height, dtype=float)[:, None], np.arange(width, dtype=float)[None, :]
    nearest = np.zeros((height, width), dtype=np.intp)
    best = np.full((height, width), np.inf)
    for i in range(n_fields):
        distance = (ys - seeds_y[i]) ** 2 + (xs - seeds_x[i]) ** 2
        closer = distance < best
        best[closer], nearest[closer] = distance[closer], i
    field_level = LAND * np.exp(0.45 * rng.standard_normal(n_fields))
    land = field_level[nearest] * np.exp(0.2 * smooth_field(rng, height, width, 10))
    return np.where(water, sea, land)


def _canvas(rng, height: int, width: int, water: np.ndarray, blocked: np.ndarray | None = None) -> st.Canvas:
    reflectivity = _background(rng, height, width, water)
    return st.Canvas(reflectivity, water, np.zeros_like(water) if blocked is None else blocked)


def _coast(rng, height: int, width: int, fraction: float) -> tuple[st.Canvas, np.ndarray]:
    coast_x = width * (
        fraction + 0.06 * smooth_field(rng, height, 1, 2)[:, 0] + 0.012 * smooth_field(rng, height, 1, 12)[:, 0]
    )
    water = np.arange(width)[None, :] < coast_x[:, None]
    return _canvas(rng, height, width, water), coast_x


def _ships(canvas: st.Canvas, rng, count: int, lengths: tuple[float, float]) -> None:
    for _ in range(count):
        canvas.place_randomly(st.ship(rng, float(rng.uniform(*lengths))), rng, on_water=True)


def _cluster(canvas: st.Canvas, rng, make, count: int, spacing: int) -> None:
    """Cars in a parking lot or tanks in a tank farm: a loose grid around a random land point."""
    for _ in range(40):
        top, left = int(rng.integers(8, canvas.height - 60)), int(rng.integers(8, canvas.width - 60))
        if not canvas.water[top, left] and not canvas.blocked[top, left]:
            break
    columns = max(1, int(math.ceil(math.sqrt(count))))
    for i in range(count):
        target = make()
        row, col = divmod(i, columns)
        canvas.place_at(
            target,
            left + col * spacing + int(rng.integers(0, 3)),
            top + row * spacing + int(rng.integers(0, 3)),
            on_water=False,
            margin=2,
        )


def _cars(canvas, rng, count):
    _cluster(canvas, rng, lambda: st.car(rng), count, spacing=17)


def _tanks(canvas, rng, count, diameter):
    _cluster(canvas, rng, lambda: st.tank(rng, diameter), count, spacing=int(diameter) + 8)


def _harbor(canvas: st.Canvas, rng, coast_x: np.ndarray) -> None:
    height = int(rng.integers(canvas.height // 5, canvas.height // 3))
    top = int(rng.integers(4, canvas.height - height - 4))
    target, left = st.harbor(rng, coast_x, top, height)
    h, w = target.mask.shape
    canvas.placed.append((target, Box(left, top, left + w, top + h)))


def _river(rng, height: int, width: int) -> tuple[st.Canvas, np.ndarray, float]:
    half_width = float(rng.uniform(20, 38))
    centre = width * float(rng.uniform(0.35, 0.65)) + width * 0.08 * smooth_field(rng, height, 1, 2)[:, 0]
    water = np.abs(np.arange(width)[None, :] - centre[:, None]) < half_width
    return _canvas(rng, height, width, water), centre, half_width


def _bridges(canvas: st.Canvas, rng, centre: np.ndarray, half_width: float, count: int) -> None:
    rows = rng.permutation(np.arange(canvas.height // 6, canvas.height * 5 // 6, 12))
    for y in rows[: count * 6]:
        span = int(2 * half_width + 2 * rng.integers(6, 14))
        thickness = int(math.ceil(span / float(rng.uniform(3.0, 5.0))))
        left = int(round(centre[y] - span / 2))
        box = Box(left, int(y), left + span, int(y) + thickness)
        if (
            box.x1 >= 1
            and box.x2 <= canvas.width - 1
            and box.y2 <= canvas.height - 1
            and all(box.y1 > b.y2 + 30 or b.y1 > box.y2 + 30 for _, b in canvas.placed)
        ):
            canvas.placed.append((st.bridge(span, thickness), box))
        if sum(t.category == "bridge" for t, _ in canvas.placed) == count:
            return


def _airport(rng, height: int, width: int) -> st.Canvas:
    water = np.zeros((height, width), dtype=bool)
    y, runway = int(rng.integers(height // 4, height * 3 // 4)), int(rng.integers(14, 24))
    blocked = np.zeros_like(water)
    blocked[y - 6 : y + runway + 6, :] = True
    canvas = _canvas(rng, height, width, water, blocked)
    canvas.reflectivity[y : y + runway, :] = 0.015  # smooth tarmac is dark in SAR
    return canvas


def compose(kind: str, rng: np.random.Generator, height: int, width: int, index: int) -> st.Canvas:
    """Background plus targets of one scene kind, in canonical orientation."""
    if kind in ("sea_single", "sea"):
        canvas = _canvas(rng, height, width, np.ones((height, width), dtype=bool))
        _ships(
            canvas,
            rng,
            1 if kind == "sea_single" else int(rng.integers(2, 8)),
            (30, 80) if kind == "sea_single" else (14, 60),
        )
    elif kind in ("coast", "harbor_town"):
        canvas, coast_x = _coast(rng, height, width, float(rng.uniform(0.4, 0.6)))
        _harbor(canvas, rng, coast_x)
        _ships(canvas, rng, int(rng.integers(1, 5)), (14, 50))
        if kind == "harbor_town":
            _cars(canvas, rng, int(rng.integers(2, 7)))
        elif rng.random() < 0.5:
            _tanks(canvas, rng, int(rng.integers(2, 6)), float(rng.uniform(10, 20)))
    elif kind == "airport":
        canvas = _airport(rng, height, width)
        for _ in range(int(rng.integers(2, 6))):
            canvas.place_randomly(st.aircraft(rng, float(rng.uniform(24, 60))), rng, on_water=False)
        if rng.random() < 0.6:
            _cars(canvas, rng, int(rng.integers(2, 7)))
    elif kind == "river":
        canvas, centre, half_width = _river(rng, height, width)
        _bridges(canvas, rng, centre, half_width, int(rng.integers(1, 3)))
        _ships(canvas, rng, int(rng.integers(0, 3)), (10, 18))
        if rng.random() < 0.5:
            _cars(canvas, rng, int(rng.integers(2, 6)))
    elif kind == "industrial":
        canvas = _canvas(rng, height, width, np.zeros((height, width), dtype=bool))
        _tanks(canvas, rng, int(rng.integers(3, 9)), float(rng.uniform(12, 26)))
        _cars(canvas, rng, int(rng.integers(2, 7)))
    elif kind == "single":
        category = SINGLE_CATEGORIES[index % len(SINGLE_CATEGORIES)]
        if category == "bridge":
            canvas, centre, half_width = _river(rng, height, width)
            _bridges(canvas, rng, centre, half_width, 1)
        elif category == "harbor":
            canvas, coast_x = _coast(rng, height, width, 0.5)
            _harbor(canvas, rng, coast_x)
        else:
            canvas = _canvas(rng, height, width, np.zeros((height, width), dtype=bool))
            make = {
                "aircraft": lambda: st.aircraft(rng, float(rng.uniform(50, 90))),
                "tank": lambda: st.tank(rng, float(rng.uniform(40, 60))),
                "car": lambda: st.car(rng),
            }[category]
            canvas.place_randomly(make(), rng, on_water=False)
    else:
        raise ValueError(f"unknown scene kind {kind!r}")
    return canvas


def speckle_to_pixels(reflectivity: np.ndarray, rng: np.random.Generator, looks: int = LOOKS) -> np.ndarray:
    """Multiplicative gamma speckle (mean 1, L looks), then amplitude scaled to 8 bits."""
    intensity = reflectivity * rng.gamma(looks, 1.0 / looks, size=reflectivity.shape)
    amplitude = np.sqrt(intensity) / DISPLAY_SATURATION
    return np.clip(np.rint(amplitude * 255), 0, 255).astype(np.uint8)


def orient(
    pixels: np.ndarray, boxes: list[Box], flip_x: bool, flip_y: bool, transpose: bool
) -> tuple[np.ndarray, list[Box]]:
    """Apply one of the 8 flips/transposes to an image and its half-open pixel boxes."""
    height, width = pixels.shape
    if flip_x:
        pixels, boxes = pixels[:, ::-1], [Box(width - b.x2, b.y1, width - b.x1, b.y2) for b in boxes]
    if flip_y:
        pixels, boxes = pixels[::-1, :], [Box(b.x1, height - b.y2, b.x2, height - b.y1) for b in boxes]
    if transpose:
        pixels, boxes = pixels.T, [Box(b.y1, b.x1, b.y2, b.x2) for b in boxes]
    return np.ascontiguousarray(pixels), boxes


def make_scene(seed: int, index: int) -> tuple[np.ndarray, list[tuple[str, Box]], str]:
    """(uint8 image, [(category, box)], scene kind) of scene `index` for `seed`."""
    rng = np.random.default_rng([seed, index])
    kind = SCENE_KINDS[index % len(SCENE_KINDS)]
    width, height = SIZES[int(rng.integers(len(SIZES)))]
    flip_x, flip_y, transpose = (bool(b) for b in rng.integers(0, 2, size=3))
    if transpose:
        width, height = height, width  # compose so that the final image is width x height
    canvas = compose(kind, rng, height, width, index // len(SCENE_KINDS))
    st.paint_wakes(canvas, rng)
    st.paint_targets(canvas)
    pixels = speckle_to_pixels(canvas.reflectivity, rng)
    pixels, boxes = orient(pixels, [b for _, b in canvas.placed], flip_x, flip_y, transpose)
    return pixels, [(t.category, b) for (t, _), b in zip(canvas.placed, boxes)], kind


def write_scenes(out: Path, count: int, seed: int = 0) -> Path:
    """Write `out/images/scene_NNN.png` and `out/annotations.jsonl` (image paths relative to `out`)."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    annotations = out / "annotations.jsonl"
    with open(annotations, "w", encoding="utf-8", newline="\n") as handle:
        for index in range(count):
            pixels, objects, kind = make_scene(seed, index)
            name = f"images/scene_{index:03d}.png"
            write_gray_png(out / name, pixels)
            record = {
                "image": name,
                "width": int(pixels.shape[1]),
                "height": int(pixels.shape[0]),
                "scene": kind,
                "objects": [{"category": c, "bbox": list(b)} for c, b in objects],
            }
            handle.write(json.dumps(record) + "\n")
    return annotations

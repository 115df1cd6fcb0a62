"""Bright extended SAR targets as (mask, reflectivity) patches, plus the scene canvas they go on.

A target's box is the tight box of its mask once placed, so the annotation is exact by construction.
Reflectivity is linear power; speckle is applied to the whole scene afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sarbench.build.geometry import Box


@dataclass
class Target:
    category: str
    mask: np.ndarray  # bool, tight around the target
    reflectivity: np.ndarray  # same shape; used where mask is True
    heading: float = 0.0  # radians, for ship wakes
    length: float = 0.0


@dataclass
class Canvas:
    reflectivity: np.ndarray  # (H, W) linear backscatter of the background
    water: np.ndarray  # bool (H, W)
    blocked: np.ndarray  # bool (H, W): land where nothing may be placed (runways)
    placed: list[tuple[Target, Box]] = field(default_factory=list)

    @property
    def height(self) -> int:
        return self.reflectivity.shape[0]

    @property
    def width(self) -> int:
        return self.reflectivity.shape[1]

    def fits(self, box: Box, on_water: bool, margin: int = 3) -> bool:
        if box.x1 < 1 or box.y1 < 1 or box.x2 > self.width - 1 or box.y2 > self.height - 1:
            return False
        for _, other in self.placed:
            if (
                box.x1 < other.x2 + margin
                and other.x1 < box.x2 + margin
                and box.y1 < other.y2 + margin
                and other.y1 < box.y2 + margin
            ):
                return False
        y1, y2 = max(0, box.y1 - margin), min(self.height, box.y2 + margin)
        x1, x2 = max(0, box.x1 - margin), min(self.width, box.x2 + margin)
        water = self.water[y1:y2, x1:x2]
        if on_water:
            return bool(water.all())
        return not water.any() and not self.blocked[y1:y2, x1:x2].any()

    def place_at(self, target: Target, left: int, top: int, on_water: bool, margin: int = 3) -> bool:
        h, w = target.mask.shape
        box = Box(left, top, left + w, top + h)
        if not self.fits(box, on_water, margin):
            return False
        self.placed.append((target, box))
        return True

    def place_randomly(self, target: Target, rng: np.random.Generator, on_water: bool, attempts: int = 300) -> bool:
        h, w = target.mask.shape
        if h + 2 >= self.height or w + 2 >= self.width:
            return False
        for _ in range(attempts):
            top, left = int(rng.integers(1, self.height - h - 1)), int(rng.integers(1, self.width - w - 1))
            if self.place_at(target, left, top, on_water):
                return True
        return False


def _crop(mask: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    return mask[window], values[window]


def _local_frame(radius: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Along-heading (u) and across (v) coordinates of the pixel centres of a square patch."""
    n = 2 * math.ceil(radius) + 3
    offsets = np.arange(n) + 0.5 - n / 2
    x, y = offsets[None, :], offsets[:, None]
    c, s = math.cos(angle), math.sin(angle)
    return x * c + y * s, y * c - x * s


def ship(rng: np.random.Generator, length: float) -> Target:
    width = max(4.0, length / float(rng.uniform(3.0, 5.5)))
    angle = float(rng.uniform(0, math.pi))
    u, v = _local_frame(length / 2 + 1, angle)
    mask = (u / (length / 2)) ** 2 + (v / (width / 2)) ** 2 <= 1
    values = np.full(mask.shape, float(rng.uniform(3, 6)))
    values[(np.abs(u) < length * 0.12) & (np.abs(v) < width * 0.3)] = 20.0  # superstructure
    values *= 1 + 2 * (rng.random(mask.shape) < 0.15)  # strong point scatterers
    mask, values = _crop(mask, values)
    return Target("ship", mask, values, heading=angle, length=length)


def aircraft(rng: np.random.Generator, length: float) -> Target:
    angle = float(rng.uniform(0, 2 * math.pi))
    u, v = _local_frame(length / 2 + 1, angle)
    fuselage = (np.abs(u) <= length / 2) & (np.abs(v) <= length / 14)
    sweep = 0.35 * np.abs(v)  # swept-back wings and tailplane
    wings = (np.abs(u - 0.1 * length + sweep) <= length / 18) & (np.abs(v) <= 0.46 * length)
    tail = (np.abs(u + 0.4 * length + sweep) <= length / 28) & (np.abs(v) <= 0.17 * length)
    mask = fuselage | wings | tail
    values = np.full(mask.shape, 1.5) * (1 + 7 * (rng.random(mask.shape) < 0.3))
    mask, values = _crop(mask, values)
    return Target("aircraft", mask, values)


def car(rng: np.random.Generator) -> Target:
    length, width = float(rng.uniform(8, 12)), float(rng.uniform(4, 6))
    angle = float(rng.choice([0.0, math.pi / 2])) + float(rng.uniform(-0.12, 0.12))
    u, v = _local_frame(length / 2 + 1, angle)
    mask = (np.abs(u) <= length / 2) & (np.abs(v) <= width / 2)
    values = np.full(mask.shape, float(rng.uniform(4, 8))) * (1 + 3 * (rng.random(mask.shape) < 0.2))
    mask, values = _crop(mask, values)
    return Target("car", mask, values)


def tank(rng: np.random.Generator, diameter: float) -> Target:
    u, v = _local_frame(diameter / 2 + 1, 0.0)
    r = np.hypot(u, v)
    mask = r <= diameter / 2
    values = np.where(r > diameter / 2 - 2, 9.0, 1.8)  # bright rim, smoother roof
    values[(u < -diameter / 6) & (r < diameter / 3)] = 12.0  # roof-edge double bounce
    mask, values = _crop(mask, values)
    return Target("tank", mask, values)


def bridge(length: int, thickness: int) -> Target:
    mask = np.ones((thickness, length), dtype=bool)
    values = np.full(mask.shape, 4.0)
    values[[0, -1], :] = 10.0  # railings / edges
    return Target("bridge", mask, values)


def harbor(rng: np.random.Generator, coast_x: np.ndarray, top: int, height: int) -> tuple[Target, int]:
    """Quay along a coast running top-down (land to the right), piers into the sea, sheds inland.

    Returns the target and the left x of its patch.
    """
    rows = coast_x[top : top + height]
    left = int(rows.min()) - 40
    width = int(rows.max()) - left + 34
    mask = np.zeros((height, width), dtype=bool)
    values = np.full(mask.shape, 3.0)
    for i, x in enumerate(rows.astype(int) - left):
        mask[i, x - 2 : x + 5] = True  # quay
    for y in range(int(rng.integers(3, 9)), height - 4, int(rng.integers(12, 20))):
        x = int(rows[y]) - left
        pier = int(rng.integers(18, 38))
        mask[y : y + int(rng.integers(4, 7)), x - pier : x] = True
    for _ in range(int(rng.integers(2, 5))):
        y, h = int(rng.integers(0, height - 10)), int(rng.integers(6, 12))
        x = int(rows[y : y + h].max()) - left + int(rng.integers(7, 12))
        mask[y : y + h, x : x + int(rng.integers(8, 18))] = True
        values[y : y + h, x : x + 18] = 8.0
    values *= 1 + 2 * (rng.random(mask.shape) < 0.2)
    cols = np.flatnonzero(mask.any(axis=0))
    mask, values = _crop(mask, values)
    return Target("harbor", mask, values), left + int(cols[0])


def paint_wakes(canvas: Canvas, rng: np.random.Generator) -> None:
    """Dark turbulent wake and faint Kelvin arms behind each ship, on open water only."""
    free = canvas.water.copy()
    for _, box in canvas.placed:
        free[box.y1 : box.y2, box.x1 : box.x2] = False
    for target, box in canvas.placed:
        if target.category != "ship" or rng.random() < 0.25:
            continue
        wake = target.length * float(rng.uniform(1.5, 3.0))
        angle = target.heading + (math.pi if rng.random() < 0.5 else 0.0)
        u, v = _local_frame(target.length / 2 + wake, angle)
        behind = -u - target.length / 2
        inside = (behind > 0) & (behind < wake)
        turbulent = inside & (np.abs(v) < 1.0 + behind * 0.04)
        kelvin = inside & (np.abs(np.abs(v) - behind * 0.35) < 0.7)
        n = u.shape[0]
        cy, cx = (box.y1 + box.y2) // 2, (box.x1 + box.x2) // 2
        y0, x0 = cy - n // 2, cx - n // 2
        ys, xs = slice(max(0, y0), min(canvas.height, y0 + n)), slice(max(0, x0), min(canvas.width, x0 + n))
        local = (slice(ys.start - y0, ys.stop - y0), slice(xs.start - x0, xs.stop - x0))
        region, ok = canvas.reflectivity[ys, xs], free[ys, xs]
        region[turbulent[local] & ok] *= 0.55
        region[kelvin[local] & ok] *= 1.8


def paint_targets(canvas: Canvas) -> None:
    for target, box in canvas.placed:
        region = canvas.reflectivity[box.y1 : box.y2, box.x1 : box.x2]
        region[target.mask] = target.reflectivity[target.mask]

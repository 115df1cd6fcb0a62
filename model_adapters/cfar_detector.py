"""Constant-false-alarm-rate (CFAR) target detection on one SAR image, vectorised with
scipy.ndimage (no Python loop over pixels). The literature and the parameters: docs/cfar.md.

Each pixel's intensity is compared with a threshold scaled from the clutter level estimated in a
training band around it (a square ring of width `train` outside a guard square of half-width
`guard`, which keeps the target's own energy out of the estimate):

- CA-CFAR (Finn & Johnson 1968): clutter level = the mean of the N training cells. For L-look
  gamma speckle the ratio cell / mean follows an F(2L, 2NL) law, so the threshold factor for a
  false-alarm probability Pfa is its upper Pfa quantile (L = 1: N(Pfa^(-1/N) - 1)).
- CA-CFAR on log intensity (`scale: log`): log cell - mean of the log training cells against a
  constant; the mean of N log-gamma variables is taken as normal (central limit, N >= 100 here).
- OS-CFAR (Rohling 1983): clutter level = the k-th smallest training cell (k = os_rank * N),
  robust to other targets in the band; Pfa from the k-th order statistic of N gamma variables
  (Gandhi & Kassam 1988 give the L = 1 closed form, used in the tests). Order statistics do not
  change under log, so `scale` does not apply to it.

Detections are cleaned (binary opening, then closing), grouped into 8-connected components,
filtered (too few pixels, box larger than a fraction of the image, too elongated) and returned as
boxes in original-image pixels, strongest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage, optimize, special, stats

DETECTORS = ("ca", "os")
SCALES = ("linear", "log")
LOG_OFFSET = 1.0  # added to the intensity before log: one grey level squared, so black pixels stay finite
_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class CFARParams:
    """The detector's parameters (values: conf/model/cfar.yaml, never defaulted here)."""

    detector: str  # ca | os
    scale: str  # linear | log (CA only)
    pfa: float  # false-alarm probability per pixel under the clutter model
    looks: float  # equivalent number of looks of the speckle (gamma shape)
    guard: int  # guard window half-width, pixels (of the possibly downsampled image)
    train: int  # training band width around the guard window
    os_rank: float  # OS-CFAR: k / N
    downsample: int  # block-average k x k pixels first (boxes are scaled back)
    opening: int  # binary opening radius (square of side 2r+1); 0: none
    closing: int  # binary closing radius; merges the bright scatterers of one target
    min_pixels: int  # smallest component, in original-image pixels
    max_box_fraction: float  # largest box area / image area
    max_elongation: float  # longest box side / shortest side

    def __post_init__(self) -> None:
        problems = []
        if self.detector not in DETECTORS:
            problems.append(f"detector={self.detector!r} (expected one of {', '.join(DETECTORS)})")
        if self.scale not in SCALES:
            problems.append(f"scale={self.scale!r} (expected one of {', '.join(SCALES)})")
        if not 0.0 < self.pfa < 1.0:
            problems.append(f"pfa={self.pfa} (expected 0 < pfa < 1)")
        if self.looks <= 0:
            problems.append(f"looks={self.looks} (expected > 0)")
        if self.guard < 0 or self.train < 1 or self.downsample < 1:
            problems.append("guard >= 0, train >= 1 and downsample >= 1 expected")
        if self.opening < 0 or self.closing < 0 or self.min_pixels < 1:
            problems.append("opening >= 0, closing >= 0 and min_pixels >= 1 expected")
        if not 0.0 < self.os_rank < 1.0:
            problems.append(f"os_rank={self.os_rank} (expected 0 < os_rank < 1)")
        if not 0.0 < self.max_box_fraction <= 1.0 or self.max_elongation < 1.0:
            problems.append("0 < max_box_fraction <= 1 and max_elongation >= 1 expected")
        if problems:
            raise ValueError("CFAR settings: " + "; ".join(problems))

    @property
    def training_cells(self) -> int:
        outer, inner = 2 * (self.guard + self.train) + 1, 2 * self.guard + 1
        return outer * outer - inner * inner

    @property
    def effective_looks(self) -> float:
        """Block averaging k x k independent pixels multiplies the looks by k^2."""
        return self.looks * self.downsample**2

    @property
    def os_k(self) -> int:
        return min(self.training_cells, max(1, round(self.os_rank * self.training_cells)))


@dataclass(frozen=True)
class Detection:
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in original-image pixels, x2/y2 exclusive
    score: float  # summed intensity / threshold over the component's pixels
    pixels: int  # component size in original-image pixels


# --- threshold factors ----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def ca_factor(pfa: float, n: int, looks: float) -> float:
    """alpha with P(cell > alpha * mean of n training cells) = pfa for L-look gamma clutter."""
    return float(stats.f.isf(pfa, 2 * looks, 2 * n * looks))


@lru_cache(maxsize=64)
def ca_log_offset(pfa: float, n: int, looks: float) -> float:
    """t with P(log cell - mean of n log training cells > t) = pfa (L-look gamma clutter)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()
    spread = math.sqrt(float(special.polygamma(1, looks)) / n)
    center = float(special.digamma(looks))  # E[log G], G ~ Gamma(L, 1)

    def excess(t: float) -> float:
        logs = t + center + spread * nodes  # log of the threshold on G
        return float(weights @ special.gammaincc(looks, np.exp(logs))) - pfa

    return float(optimize.brentq(excess, -20.0, 20.0, xtol=1e-12))


@lru_cache(maxsize=64)
def os_factor(pfa: float, n: int, k: int, looks: float) -> float:
    """alpha with P(cell > alpha * k-th smallest of n training cells) = pfa (L-look gamma)."""
    if looks == 1:  # exponential clutter: prod_{i<k} (n-i) / (n-i+alpha) (Rohling 1983)
        i = np.arange(k)

        def excess(alpha: float) -> float:
            return float(np.exp(np.sum(np.log(n - i) - np.log(n - i + alpha)))) - pfa

    else:  # the k-th order statistic is F^-1(U), U ~ Beta(k, n+1-k); integrate over U's quantiles
        v, w = np.polynomial.legendre.leggauss(400)
        u = stats.beta.ppf((v + 1) / 2, k, n + 1 - k)
        level = special.gammaincinv(looks, u) / looks  # order statistic of Gamma(L, 1/L)

        def excess(alpha: float) -> float:
            return float(w @ special.gammaincc(looks, looks * alpha * level)) / 2 - pfa

    return float(optimize.brentq(excess, 1e-9, 1e6, xtol=1e-12))


def threshold_factor(params: CFARParams) -> float:
    n, looks = params.training_cells, params.effective_looks
    if params.detector == "os":
        return os_factor(params.pfa, n, params.os_k, looks)
    if params.scale == "log":
        return ca_log_offset(params.pfa, n, looks)
    return ca_factor(params.pfa, n, looks)


# --- the detector ----------------------------------------------------------------------------------


def intensity_of(pixels: np.ndarray) -> np.ndarray:
    """Intensity (power) of a displayed amplitude image: amplitude squared, float64."""
    amplitude = np.asarray(pixels, dtype=np.float64)
    return amplitude * amplitude


def _block_mean(image: np.ndarray, k: int) -> np.ndarray:
    if k == 1:
        return image
    h, w = image.shape
    padded = np.pad(image, ((0, -h % k), (0, -w % k)), mode="edge")
    return padded.reshape(padded.shape[0] // k, k, padded.shape[1] // k, k).mean(axis=(1, 3))


def _window_sum(image: np.ndarray, half: int) -> np.ndarray:
    side = 2 * half + 1
    return ndimage.uniform_filter(image, size=side, mode="reflect") * (side * side)


def _ring(params: CFARParams) -> np.ndarray:
    outer = 2 * (params.guard + params.train) + 1
    ring = np.ones((outer, outer), dtype=bool)
    ring[params.train : outer - params.train, params.train : outer - params.train] = False
    return ring


def clutter_statistic(intensity: np.ndarray, params: CFARParams) -> np.ndarray:
    """Per pixel, the test statistic before the threshold factor: cell / clutter level (CA, OS)
    or log cell - mean log level (CA on log). Independent of `pfa`, so a calibration can reuse it."""
    outer = params.guard + params.train
    if params.detector == "os":
        level = ndimage.rank_filter(intensity, params.os_k - 1, footprint=_ring(params), mode="reflect")
        return intensity / np.maximum(level, np.finfo(float).tiny)
    if params.scale == "log":
        logs = np.log(intensity + LOG_OFFSET)
        return logs - (_window_sum(logs, outer) - _window_sum(logs, params.guard)) / params.training_cells
    mean = (_window_sum(intensity, outer) - _window_sum(intensity, params.guard)) / params.training_cells
    return intensity / np.maximum(mean, np.finfo(float).tiny)


def cfar_ratio(intensity: np.ndarray, params: CFARParams, statistic: np.ndarray | None = None) -> np.ndarray:
    """Per pixel: cell / threshold (> 1 is a detection), same shape as `intensity`."""
    statistic = clutter_statistic(intensity, params) if statistic is None else statistic
    factor = threshold_factor(params)
    if params.detector == "ca" and params.scale == "log":
        return np.exp(statistic - factor)
    return statistic / factor


def _square(radius: int) -> np.ndarray:
    return np.ones((2 * radius + 1, 2 * radius + 1), dtype=bool)


def clean(mask: np.ndarray, params: CFARParams) -> np.ndarray:
    """Opening removes specks narrower than the structuring square; closing joins a target's
    scatterers (padded, so that targets at the border are not eroded away)."""
    if params.opening:
        mask = ndimage.binary_opening(mask, structure=_square(params.opening))
    if params.closing:
        r = params.closing
        padded = np.pad(mask, r, mode="constant")
        mask = ndimage.binary_closing(padded, structure=_square(r))[r:-r, r:-r]
    return mask


def detect(pixels: np.ndarray, params: CFARParams) -> list[Detection]:
    """Targets in an H x W amplitude image, strongest first."""
    height, width = pixels.shape
    return detections_of(
        cfar_ratio(_block_mean(intensity_of(pixels), params.downsample), params), params, width, height
    )


def statistic_of(pixels: np.ndarray, params: CFARParams) -> np.ndarray:
    """`clutter_statistic` of an amplitude image (downsampled as `params` say)."""
    return clutter_statistic(_block_mean(intensity_of(pixels), params.downsample), params)


def detections_of(ratio: np.ndarray, params: CFARParams, width: int, height: int) -> list[Detection]:
    """Cleaned, filtered components of `ratio > 1` as boxes in original pixels (width x height)."""
    k = params.downsample
    mask = clean(ratio > 1.0, params)
    labels, count = ndimage.label(mask, structure=_EIGHT_CONNECTED)
    if count == 0:
        return []
    index = np.arange(1, count + 1)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:] * (k * k)
    scores = ndimage.sum_labels(ratio, labels, index)
    found = []
    for slices, size, score in zip(ndimage.find_objects(labels), sizes, scores):
        rows, cols = slices
        box = (cols.start * k, rows.start * k, min(width, cols.stop * k), min(height, rows.stop * k))
        if _kept(box, int(size), width, height, params):
            found.append(Detection(box, float(score), int(size)))
    found.sort(key=lambda d: (-d.score, d.box))
    return found


def _kept(box: tuple[int, int, int, int], size: int, width: int, height: int, params: CFARParams) -> bool:
    w, h = box[2] - box[0], box[3] - box[1]
    return (
        size >= params.min_pixels
        and w * h <= params.max_box_fraction * width * height
        and max(w, h) <= params.max_elongation * min(w, h)
    )

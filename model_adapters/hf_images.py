"""Pixels as the transformers-backed families receive them (pure PIL/numpy, no torch)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

IMAGE_CONVERSION = "8-bit modes: PIL convert('RGB'); 16-bit/int/float: scaled by max to 0-255, then RGB"


def to_rgb(image: Any) -> Any:
    """RGB PIL image for a processor. 16-bit and float SAR images are scaled by their maximum
    (PIL's own conversion would clip them at 255 and saturate the scene)."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        import numpy as np

        array = np.asarray(image, dtype=np.float64)
        peak = float(array.max()) if array.size else 0.0
        scaled = (array / peak * 255.0) if peak > 0 else array * 0
        image = Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype("uint8"), mode="L")
    return image if image.mode == "RGB" else image.convert("RGB")


@lru_cache(maxsize=65536)
def image_size(path: str) -> tuple[int, int]:
    """(width, height) from the file header; (0, 0) when unreadable (the runner reports it)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size
    except Exception:  # noqa: BLE001 - a bad image becomes an inference failure later
        return (0, 0)

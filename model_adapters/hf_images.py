"""Pixels as the transformers-backed families receive them (pure PIL/numpy, no torch)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

IMAGE_CONVERSION = "8-bit modes: PIL convert('RGB'); 16-bit/int/float: scaled by max to 0-255, then RGB"


def to_rgb(image: Any) -> Any:
    """RGB PIL image for a processor. 16-bit and float SAR images are scaled by their maximum
    (PIL's own conversion would clip them at 255 and saturate the scene)."""
    image = to_8bit(image)
    return image if image.mode == "RGB" else image.convert("RGB")


def to_8bit(image: Any) -> Any:
    """The image in an 8-bit mode: 16-bit and float ones scaled to grey ("L") as `to_rgb` scales
    them; others unchanged (`to_rgb` of the result is `to_rgb` of the image)."""
    if image.mode not in ("I;16", "I;16B", "I;16L", "I", "F"):
        return image
    import numpy as np
    from PIL import Image

    array = np.asarray(image, dtype=np.float64)
    peak = float(array.max()) if array.size else 0.0
    scaled = (array / peak * 255.0) if peak > 0 else array * 0
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype("uint8"), mode="L")


class PerImage:
    """`prepare(image)` computed once per image object while it is among the last `size` prepared.
    The runner hands every sample of one image file the same decoded object
    (sarbench.images.DecodedImages), so the samples of an image share its preparation. Threads
    asking for an image being prepared wait for it: one object is never prepared (e.g. PNG-encoded,
    which Pillow 11.1-11.2 cannot do from two threads at once) by two threads at a time. An entry
    holds its image, so no other object can take that id while it is kept; a `prepare` that raises
    keeps nothing (the next caller tries again)."""

    def __init__(self, prepare: Callable[[Any], Any], size: int = 8) -> None:
        self.prepare = prepare
        self.size = size
        self._entries: OrderedDict[int, _Prepared] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, image: Any) -> Any:
        with self._lock:
            entry = self._entries.get(id(image))
            if entry is None or entry.image is not image:
                entry = self._entries[id(image)] = _Prepared(image)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(id(image))
        with entry.lock:
            if not entry.done:
                entry.value = self.prepare(image)
                entry.done = True
            return entry.value


class _Prepared:
    def __init__(self, image: Any) -> None:
        self.image = image
        self.lock = threading.Lock()
        self.done = False
        self.value: Any = None


@lru_cache(maxsize=65536)
def image_size(path: str) -> tuple[int, int]:
    """(width, height) from the file header; (0, 0) when unreadable (the runner reports it)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size
    except Exception:  # noqa: BLE001 - a bad image becomes an inference failure later
        return (0, 0)

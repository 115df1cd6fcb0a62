"""The images of a viewer page: each distinct image once, as a small embedded JPEG thumbnail (or a
link to the original), with the original's size so boxes are drawn in its pixel coordinates."""

from __future__ import annotations

import base64
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from PIL import Image

from sarbench.images import special_file_kind

THUMBNAIL_PX = 256
JPEG_QUALITY = 75


def original_href(image: str, page_folder: Path) -> str:
    """A URL of the original image that works from the page's folder: a relative path when the
    image is on the same drive, else a file:// URI. Every character that could end the URL or make
    it a scheme (`:`, `#`, `?`, spaces) is percent-encoded."""
    path = Path(image).absolute()
    try:
        relative = os.path.relpath(path, page_folder.absolute())
    except ValueError:  # another drive on Windows
        return path.as_uri()
    return quote(Path(relative).as_posix())


def _eight_bit(image: Image.Image) -> Image.Image:
    """Display pixels: 16-bit and float SAR images stretched min..max into 8 bits, colour kept."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        import numpy as np

        values = np.asarray(image, dtype=np.float64)
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        scaled = np.nan_to_num((values - low) / ((high - low) or 1.0) * 255.0, nan=0.0)
        return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), "L")
    if image.mode in ("LA", "La", "1"):
        return image.convert("L")
    return image.convert("RGB")


def image_entry(image: str | None, page_folder: Path, thumbnail_px: int) -> dict:
    """{w, h: original size; src: embedded thumbnail or link; href: the original} or, for an
    image that cannot be read, {missing: why} (the boxes are then drawn on an empty frame)."""
    if image is None:
        return {"missing": "details.jsonl names no image for this sample"}
    kind = special_file_kind(image)
    if kind is not None:
        return {"missing": f"{image} is {kind}"}
    href = original_href(image, page_folder)
    try:
        with Image.open(image) as opened:
            width, height = opened.size
            if thumbnail_px <= 0:
                return {"w": width, "h": height, "src": href, "href": href}
            if opened.format == "JPEG":
                opened.draft("L" if opened.mode == "L" else "RGB", (thumbnail_px, thumbnail_px))
            pixels = _eight_bit(opened)
            pixels.thumbnail((thumbnail_px, thumbnail_px), Image.Resampling.BILINEAR)
            buffer = io.BytesIO()
            pixels.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    except FileNotFoundError:
        return {"missing": f"image not found: {image}", "href": href}
    except Exception as exc:  # noqa: BLE001 - PIL raises many types; the page says why
        return {"missing": f"cannot read image {image}: {type(exc).__name__}: {exc}", "href": href}
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"w": width, "h": height, "src": f"data:image/jpeg;base64,{data}", "href": href}


def image_table(paths: list[str | None], page_folder: Path, thumbnail_px: int, workers: int = 4) -> list[dict]:
    """One entry per distinct path, in first-seen order (decoding and resizing release the GIL)."""
    distinct = list(dict.fromkeys(paths))
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sarbench-thumb") as pool:
        return list(pool.map(lambda p: image_entry(p, page_folder, thumbnail_px), distinct))

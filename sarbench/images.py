"""Decoding images in a background thread pool so the model never waits on disk."""
from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterator, Sequence

from PIL import Image

from sarbench.data import Sample


class ImageError(Exception):
    """An image that cannot be read; the sample becomes an inference failure."""


def load_image(path: str):
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy() if image.mode in ("L", "RGB", "RGBA", "I;16", "I", "F") else image.convert("RGB")
    except FileNotFoundError:
        return ImageError(f"image not found: {path}")
    except Exception as exc:  # PIL raises many types for corrupt files
        return ImageError(f"cannot read image {path}: {type(exc).__name__}: {exc}")


def _load_batch(batch: Sequence[Sample], decode: bool) -> list:
    if not decode:
        return [None] * len(batch)
    return [load_image(s.image) for s in batch]


def prefetched_batches(
    batches: Sequence[Sequence[Sample]], decode: bool, workers: int, ahead: int
) -> Iterator[tuple[Sequence[Sample], list]]:
    """Yield (batch, images) in order; images are PIL images or ImageError, decoded ahead.

    With decode=False the images are None (adapters that need no pixels, e.g. the oracle).
    """
    if not decode or workers <= 0:
        for batch in batches:
            yield batch, _load_batch(batch, decode)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sarbench-image") as pool:
        pending: deque[tuple[Sequence[Sample], list[Future]]] = deque()
        iterator = iter(batches)

        def submit_next() -> None:
            batch = next(iterator, None)
            if batch is not None:
                pending.append((batch, [pool.submit(load_image, s.image) for s in batch]))

        for _ in range(max(1, ahead)):
            submit_next()
        while pending:
            batch, futures = pending.popleft()
            submit_next()
            yield batch, [f.result() for f in futures]

"""Decoding images in a background thread pool so the model never waits on disk."""
from __future__ import annotations

import os
import stat
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterator, Sequence

from PIL import Image

from sarbench.data import Sample


class ImageError(Exception):
    """An image that cannot be read; the sample becomes an inference failure."""


def special_file_kind(path: str | os.PathLike) -> str | None:
    """What a path is when it exists but is no regular file ("a FIFO", "a directory", ...), else None.

    Opening a FIFO blocks until a writer appears and a device can stream forever, so such paths
    are refused before PIL touches them. Symlinks are followed: a link to an image is fine.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # missing (reported by the caller as such), or a NUL in the name
        return None
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def load_image(path: str):
    kind = special_file_kind(path)
    if kind is not None:
        return ImageError(f"image {path} is {kind}, not an image file")
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

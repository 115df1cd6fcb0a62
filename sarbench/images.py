"""Decoding images in a background thread pool so the model never waits on disk."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image

from sarbench.data import Sample


class ImageError(Exception):
    """An image that cannot be read; the sample becomes an inference failure."""


@dataclass(frozen=True)
class ImageFile:
    """The bytes an image was decoded from (for the prediction line; see sarbench.identity)."""

    sha256: str
    size: int
    mtime_ns: int


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
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def load_image(path: str):
    return read_image(path)[0]


def read_image(path: str) -> tuple:
    """(image or ImageError, ImageFile of the bytes read or None). The file is read once: the
    hash is of exactly the bytes that were decoded."""
    kind = special_file_kind(path)
    if kind is not None:
        return ImageError(f"image {path} is {kind}, not an image file"), None
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            data = handle.read()
    except FileNotFoundError:
        return ImageError(f"image not found: {path}"), None
    except OSError as exc:
        return ImageError(f"cannot read image {path}: {type(exc).__name__}: {exc}"), None
    buffer = io.BytesIO(data)
    try:
        with Image.open(buffer) as image:
            image.load()
            decoded = image.copy() if image.mode in ("L", "RGB", "RGBA", "I;16", "I", "F") else image.convert("RGB")
    except Exception as exc:  # PIL raises many types for corrupt files
        problem = str(exc).replace(repr(buffer), repr(path))  # PIL names the buffer it was given
        return ImageError(f"cannot read image {path}: {type(exc).__name__}: {problem}"), None
    return decoded, ImageFile(hashlib.sha256(data).hexdigest(), info.st_size, info.st_mtime_ns)


def _load_batch(batch: Sequence[Sample], decode: bool) -> list:
    if not decode:
        return [(None, None)] * len(batch)
    return [read_image(s.image) for s in batch]


def prefetched_batches(
    batches: Sequence[Sequence[Sample]], decode: bool, workers: int, ahead: int
) -> Iterator[tuple[Sequence[Sample], list]]:
    """Yield (batch, loaded) in order, decoded ahead; loaded holds per sample a `read_image`
    pair: (PIL image or ImageError, ImageFile or None).

    With decode=False the pairs are (None, None) (adapters that need no pixels).
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
                pending.append((batch, [pool.submit(read_image, s.image) for s in batch]))

        for _ in range(max(1, ahead)):
            submit_next()
        while pending:
            batch, futures = pending.popleft()
            submit_next()
            yield batch, [f.result() for f in futures]

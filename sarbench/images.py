"""Decoding images in a background thread pool so the model never waits on disk."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
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


class DecodedImages:
    """Images decoded in one run, by the sha256 of their bytes, while they are among the last
    decoded (up to `budget` bytes of pixels): SARChat asks several questions of each image, and
    each sample's file is still read and hashed, but bytes already decoded are not decoded again.
    Every sample of those bytes gets the same image object, which adapters only read. Threads
    asking for bytes another thread is decoding wait for that decoding."""

    def __init__(self, budget: int = 256 * 2**20) -> None:
        self.budget = budget
        self.decoded = 0  # decodings done (the other samples found theirs here)
        self._images: OrderedDict[str, Image.Image] = OrderedDict()
        self._decoding: dict[str, threading.Event] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def image(self, sha256: str, decode: Callable[[], Image.Image | ImageError]) -> Image.Image | ImageError:
        """The image of these bytes: kept, being decoded by another thread, or `decode()` now.
        Errors are not kept: bytes that failed are tried again (and fail again) for each sample."""
        while True:
            with self._lock:
                image = self._images.get(sha256)
                if image is not None:
                    self._images.move_to_end(sha256)
                    return image
                other = self._decoding.get(sha256)
                if other is None:
                    done = self._decoding[sha256] = threading.Event()
                    break
            other.wait()  # then kept, or failed: this thread decodes (or waits for another that does)
        image = None
        try:
            image = decode()
            return image
        finally:
            with self._lock:
                del self._decoding[sha256]
                self.decoded += 1
                if isinstance(image, Image.Image):
                    self._keep(sha256, image)
            done.set()

    def _keep(self, sha256: str, image: Image.Image) -> None:
        self._images[sha256] = image
        self._bytes += _pixel_bytes(image)
        while self._bytes > self.budget and len(self._images) > 1:
            self._bytes -= _pixel_bytes(self._images.popitem(last=False)[1])


def _pixel_bytes(image: Image.Image) -> int:
    return image.width * image.height * 4  # at most 4 bytes a pixel in the modes read_image keeps


def load_image(path: str):
    return read_image(path)[0]


def read_image(path: str, decoded: DecodedImages | None = None) -> tuple:
    """(image or ImageError, ImageFile of the bytes read or None). The file is read once: the
    hash is of exactly the bytes that were decoded (or found decoded in `decoded`)."""
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
    file = ImageFile(hashlib.sha256(data).hexdigest(), info.st_size, info.st_mtime_ns)
    image = _decode(data, path) if decoded is None else decoded.image(file.sha256, lambda: _decode(data, path))
    return (image, None) if isinstance(image, ImageError) else (image, file)


def _decode(data: bytes, path: str) -> Image.Image | ImageError:
    buffer = io.BytesIO(data)
    try:
        with Image.open(buffer) as opened:
            opened.load()
            return opened.copy() if opened.mode in ("L", "RGB", "RGBA", "I;16", "I", "F") else opened.convert("RGB")
    except Exception as exc:  # PIL raises many types for corrupt files
        problem = str(exc).replace(repr(buffer), repr(path))  # PIL names the buffer it was given
        return ImageError(f"cannot read image {path}: {type(exc).__name__}: {problem}")


def _load_batch(batch: Sequence[Sample], decode: bool, decoded: DecodedImages) -> list:
    if not decode:
        return [(None, None)] * len(batch)
    return [read_image(s.image, decoded) for s in batch]


def prefetched_batches(
    batches: Sequence[Sequence[Sample]], decode: bool, workers: int, ahead: int
) -> Iterator[tuple[Sequence[Sample], list]]:
    """Yield (batch, loaded) in order, decoded ahead; loaded holds per sample a `read_image`
    pair: (PIL image or ImageError, ImageFile or None).

    With decode=False the pairs are (None, None) (adapters that need no pixels). Bytes already
    decoded for an earlier sample are not decoded again (`DecodedImages`).
    """
    decoded = DecodedImages()
    if not decode or workers <= 0:
        for batch in batches:
            yield batch, _load_batch(batch, decode, decoded)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sarbench-image") as pool:
        pending: deque[tuple[Sequence[Sample], list[Future]]] = deque()
        iterator = iter(batches)

        def submit_next() -> None:
            batch = next(iterator, None)
            if batch is not None:
                pending.append((batch, [pool.submit(read_image, s.image, decoded) for s in batch]))

        for _ in range(max(1, ahead)):
            submit_next()
        while pending:
            batch, futures = pending.popleft()
            submit_next()
            yield batch, [f.result() for f in futures]

"""A minimal 8-bit grayscale PNG writer (stdlib zlib only).

Writing the bytes ourselves keeps the synthetic sample independent of an imaging library's
encoder settings, which change between versions.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_gray_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of a 2-D uint8 array. Rows are stored unfiltered: on speckle no PNG filter helps."""
    if pixels.dtype != np.uint8 or pixels.ndim != 2:
        raise ValueError("expected a 2-D uint8 array")
    height, width = pixels.shape
    rows = np.zeros((height, width + 1), dtype=np.uint8)  # leading 0 = filter type None
    rows[:, 1:] = pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + _chunk(b"IEND", b"")
    )


def write_gray_png(path: Path, pixels: np.ndarray) -> None:
    path.write_bytes(encode_gray_png(pixels))

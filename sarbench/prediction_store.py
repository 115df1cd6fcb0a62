"""Append-only prediction files: one JSON line per sample, flushed (and fsynced) per batch.

A kill can leave at most a partial last line; `repair` truncates it before anything is
appended, so every complete prediction survives and a resumed run continues after it.
Lines are written with unbuffered `os.write` calls: a failed write (disk full) leaves nothing
buffered that a later close would try, and fail, to write again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sarbench.run_folder import PredictionLine, RunFolderError, json_line, read_prediction_lines


class PredictionFile:
    def __init__(self, path: Path, fsync: bool = True) -> None:
        self.path = path
        self.fsync = fsync
        self._fd: int | None = None

    def repair(self) -> int:
        """Drop a truncated trailing line (from a kill); returns the bytes removed. Opens the
        file for writing only when there is something to cut (a read-only folder can be resumed
        for scoring)."""
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return 0
            keep = _after_last_newline(handle, size)
        try:
            with open(self.path, "rb+") as handle:
                handle.truncate(keep)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise RunFolderError(f"cannot repair {self.path} (cut its partial last line): {exc}") from None
        return size - keep

    def read(self) -> list[PredictionLine]:
        """All complete records; a line that is not a prediction record is an error naming it."""
        return read_prediction_lines(self.path)

    def rewrite(self, records: Iterable[dict]) -> None:
        """Atomically replace the file (used only to drop records before generating them again)."""
        tmp = self.path.with_suffix(".jsonl.tmp")
        try:
            with open(tmp, "wb") as handle:
                for record in records:
                    handle.write(json_line(record).encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise RunFolderError(f"cannot write {self.path}: {exc}") from None

    def append(self, records: list[dict]) -> None:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        data = memoryview("".join(json_line(r) for r in records).encode("utf-8"))
        while data:
            data = data[os.write(self._fd, data) :]
        if self.fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # nothing is buffered in Python: no failed write is tried again here


def _after_last_newline(handle, size: int) -> int:
    """Offset just after the last newline (0 if none): everything after it is a partial record."""
    block = 1 << 16
    position = size
    while position > 0:
        start = max(0, position - block)
        handle.seek(start)
        cut = handle.read(position - start).rfind(b"\n")
        if cut != -1:
            return start + cut + 1
        position = start
    return 0

"""Append-only prediction files: one JSON line per sample, flushed (and fsynced) per batch.

A kill can leave at most a partial last line; `repair` truncates it before anything is
appended, so every complete prediction survives and a resumed run continues after it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from sarbench.records import DataError


class PredictionFile:
    def __init__(self, path: Path, fsync: bool = True) -> None:
        self.path = path
        self.fsync = fsync
        self._handle = None

    def repair(self) -> int:
        """Drop a truncated trailing line (from a kill); returns the bytes removed."""
        if not self.path.exists():
            return 0
        size = self.path.stat().st_size
        if size == 0:
            return 0
        with open(self.path, "rb+") as handle:
            handle.seek(max(0, size - 1))
            if handle.read(1) == b"\n":
                return 0
            # find the last newline; everything after it is a partial record
            block = 1 << 16
            position = size
            keep = 0
            while position > 0:
                start = max(0, position - block)
                handle.seek(start)
                chunk = handle.read(position - start)
                cut = chunk.rfind(b"\n")
                if cut != -1:
                    keep = start + cut + 1
                    break
                position = start
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
        return size - keep

    def read(self) -> list[dict]:
        """All complete records; a corrupt line in the middle is an error naming it."""
        if not self.path.exists():
            return []
        records = []
        with open(self.path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DataError(self.path, None, f"corrupt prediction on line {number}: {exc}; "
                                    "fix or delete the line, or re-run with runner.overwrite=true") from None
        return records

    def rewrite(self, records: Iterable[dict]) -> None:
        """Atomically replace the file (used only to drop failures before retrying them)."""
        tmp = self.path.with_suffix(".jsonl.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def append(self, records: list[dict]) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "a", encoding="utf-8")
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        self._handle.write(data)
        self._handle.flush()
        if self.fsync:
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

"""Writing a build: the 9 JSON array files, the image folder and the report, staged then moved in place.

A build writes into `<out>/.sarbench-build-staging/` and moves its files into `<out>` only when it
succeeds, so an error (an unknown category found at the end of a big file, say) never leaves a
half-written test set behind.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import IO

from sarbench.subsets import SUBSETS, split_file_stem

LINK_MODES = ("copy", "hardlink", "symlink", "none")
REPORT_NAME = "build_report.json"
IMAGES_DIR = "images"
_STAGING = ".sarbench-build-staging"


class OutputError(ValueError):
    pass


def subset_file_name(subset: str, split: str) -> str:
    return split_file_stem(subset, split) + ".json"


_string = json.encoder.encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses


def record_json(record: dict) -> str:
    """json.dumps(record, ensure_ascii=False) for an ms-swift record, three times faster."""
    messages = record.get("messages")
    if (
        list(record) != ["messages", "images"]
        or len(messages) != 2
        or any(list(m) != ["role", "content"] for m in messages)
    ):
        return json.dumps(record, ensure_ascii=False)
    user, assistant = messages
    return (
        '{"messages": [{"role": '
        + _string(user["role"])
        + ', "content": '
        + _string(user["content"])
        + '}, {"role": '
        + _string(assistant["role"])
        + ', "content": '
        + _string(assistant["content"])
        + '}], "images": ['
        + ", ".join(_string(p) for p in record["images"])
        + "]}"
    )


class JsonArrayWriter:
    """A JSON array written one record per line, so huge files stream and diff well."""

    def __init__(self, path: Path) -> None:
        self._handle: IO[str] = open(path, "w", encoding="utf-8", newline="\n")
        self._handle.write("[")
        self.count = 0

    def write(self, record: dict) -> None:
        self._handle.write(("\n" if self.count == 0 else ",\n") + record_json(record))
        self.count += 1

    def close(self) -> None:
        self._handle.write("\n]\n" if self.count else "]\n")
        self._handle.close()


class StagedOutput:
    """The output folder of one build: refuses folders that hold anything but a previous build."""

    def __init__(self, out: Path, split: str) -> None:
        self.out = out
        self.names = [subset_file_name(s, split) for s in SUBSETS]
        self._check_target()
        self.staging = out / _STAGING
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir(parents=True)
        (self.staging / IMAGES_DIR).mkdir()
        self.writers = {s: JsonArrayWriter(self.staging / n) for s, n in zip(SUBSETS, self.names)}

    def _check_target(self) -> None:
        if self.out.exists() and not self.out.is_dir():
            raise OutputError(f"--out {self.out} exists and is not a folder")
        if not self.out.exists() or (self.out / REPORT_NAME).is_file():
            return
        foreign = [p.name for p in self.out.iterdir() if p.name != _STAGING]
        if foreign:
            raise OutputError(
                f"--out {self.out} is not empty and holds no {REPORT_NAME} from an earlier build "
                f"(found {', '.join(sorted(foreign)[:5])}); choose an empty or new folder"
            )

    def place_image(self, source: Path, relative: str, mode: str) -> None:
        """Copy or link one image to `<staging>/<relative>` (relative starts with images/)."""
        if mode == "none":
            return
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "copy":
            shutil.copyfile(source, target)
        elif mode == "hardlink":
            os.link(source, target)
        elif mode == "symlink":
            if not source.is_file():  # a dangling link would only fail at inference time
                raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(source))
            target.symlink_to(source.resolve())
        else:
            raise OutputError(f"unknown link mode {mode!r}; expected one of {', '.join(LINK_MODES)}")

    def abort(self) -> None:
        for writer in self.writers.values():
            if not writer._handle.closed:
                writer._handle.close()
        shutil.rmtree(self.staging, ignore_errors=True)

    def commit(self, report: dict) -> None:
        for writer in self.writers.values():
            writer.close()
        with open(self.staging / REPORT_NAME, "w", encoding="utf-8", newline="\n") as handle:
            json.dump(report, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        for name in [*self.names, IMAGES_DIR, REPORT_NAME]:
            target = self.out / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            os.replace(self.staging / name, target)
        self.staging.rmdir()

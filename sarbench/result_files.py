"""Reading `swift infer`-style result files (and sarbench's own predictions) for scoring.

Each record holds `response` (model output; missing/null = empty string) and `labels` (the
reference; when absent, the assistant turn of `messages` is used). The subset comes from the
file name (PROTOCOL §4); files whose names name no subset are routed per record by prompt tag
and reference box count (`records.route_by_content`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sarbench.failures import record_kind
from sarbench.records import (
    UTF8_BOM,
    DataError,
    RecordIssue,
    first_content_byte,
    message_text,
    read_records,
    route_by_content,
)
from sarbench.subsets import SUBSETS, subset_from_filename


class ImageLookup:
    """Where the image paths of one result file's records lie: under --image-root, as given, or
    beside the file (the first that exists). Looked up on use, not while loading: only the
    size breakdown of box subsets and --details need the path, and on a full test set the stat
    calls for every record cost more than reading the records. One lookup per file and load;
    its cache saves the stat calls for an image named again."""

    def __init__(self, result_dir: str, image_root: Path | None, cache: dict) -> None:
        self.result_dir = result_dir
        self.image_root = image_root
        self._cache = cache

    def resolve(self, image: str) -> str:
        return self._lookup(image)[0]

    def existing(self, image: str) -> str | None:
        """The resolved path when a regular file lies there, else None."""
        resolved, found = self._lookup(image)
        return resolved if found else None

    def _lookup(self, image: str) -> tuple[str, bool]:
        key = (image, self.result_dir)
        looked_up = self._cache.get(key)
        if looked_up is None:
            candidates = [image, os.path.join(self.result_dir, image)]
            if self.image_root is not None:
                candidates.insert(0, os.path.join(self.image_root, image))
            found = next((str(Path(c)) for c in candidates if os.path.isfile(c)), None)
            looked_up = self._cache[key] = (image, False) if found is None else (found, True)
        return looked_up


class Prediction(NamedTuple):
    """One record to score. A named tuple: immutable, and cheaper to build than a frozen
    dataclass (one per record of a 226k-sample test set)."""

    id: str
    subset: str
    response: str
    reference: str
    source: str
    image: str | None = None  # image path: as the record gives it when image_lookup is set, else resolved
    question: str | None = None  # user text (for the asked-category breakdown)
    image_size: tuple[int, int] | None = None  # (width, height) when the record states it
    no_response_field: bool = False  # scored as empty (PROTOCOL §3), but worth a note
    failure: str | None = None  # the kind of a recorded inference failure (sarbench/failures.py)
    image_lookup: ImageLookup | None = None

    def image_path(self) -> str | None:
        """The image's path, resolved where the file exists (ImageLookup)."""
        if self.image is None or self.image_lookup is None:
            return self.image
        return self.image_lookup.resolve(self.image)

    def image_file(self) -> str | None:
        """`image_path` when a regular file lies there (the size breakdown reads its header), else None."""
        if self.image is None or self.image_lookup is None:
            return self.image if self.image is not None and os.path.isfile(self.image) else None
        return self.image_lookup.existing(self.image)


def result_files(inputs: list[str | Path]) -> list[Path]:
    """Files to score: given files as they are, directories expanded to their *.json[l] files."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".json", ".jsonl"))
            if not found:
                raise DataError(path, None, "directory holds no .json or .jsonl result files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DataError(path, None, "no such file or directory")
    return files


@dataclass(frozen=True)
class DuplicateFile:
    """A result file left out because an earlier input is the same file (path) or has the same bytes."""

    path: Path
    same_as: Path
    reason: str  # "same file" or "same content"

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "same_as": str(self.same_as), "reason": self.reason}

    def message(self) -> str:
        what = "is the same file as" if self.reason == "same file" else "has the same content as"
        return f"skipped {self.path}: it {what} {self.same_as} (its records would be scored twice)"


def distinct_files(files: list[Path]) -> tuple[list[Path], list[DuplicateFile]]:
    """Files minus repeats: the same file reached twice (resolved path: a name given twice, a
    symlink, a file and its folder) or another file with identical bytes whose name routes it to
    the same subset (a renamed copy: `classify.jsonl` and `SARChat_classify_test_results.jsonl`);
    the first in input order is kept. Records without ids would otherwise be scored twice.
    Identical bytes need an equal size: only files that share a subset and a size are hashed."""
    by_location: dict[Path, Path] = {}
    repeats: dict[int, DuplicateFile] = {}
    for position, path in enumerate(files):
        location = path.resolve()
        if location in by_location:
            repeats[position] = DuplicateFile(path, by_location[location], "same file")
        else:
            by_location[location] = path
    keys = {i: (subset_from_filename(p.name), _readable_size(p)) for i, p in enumerate(files) if i not in repeats}
    shared = {key for key, n in Counter(keys.values()).items() if n > 1}
    by_digest: dict[tuple[str | None, str], Path] = {}
    for position, key in keys.items():
        if key in shared:
            path = files[position]
            digest = (key[0], _content_sha256(path))
            if digest in by_digest:
                repeats[position] = DuplicateFile(path, by_digest[digest], "same content")
            else:
                by_digest[digest] = path
    kept = [path for i, path in enumerate(files) if i not in repeats]
    return kept, [repeats[i] for i in sorted(repeats)]


def _readable_size(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            return os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise DataError(path, None, f"cannot read: {exc.strerror or exc}") from None


def _content_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except OSError as exc:
        raise DataError(path, None, f"cannot read: {exc.strerror or exc}") from None
    return digest.hexdigest()


def _reference_of(record: dict, path: Path, index: int) -> str:
    labels = record.get("labels")
    if isinstance(labels, str):
        return labels
    if labels is None:
        from_messages = message_text(record, "assistant")
        if from_messages is not None:
            return from_messages
        raise DataError(path, index, "no 'labels' (reference answer) and no assistant message")
    raise DataError(path, index, f"'labels' must be a string, got {type(labels).__name__}")


def _response_of(record: dict, path: Path, index: int) -> str:
    response = record.get("response")
    if response is None:
        return ""
    if not isinstance(response, str):
        raise DataError(path, index, f"'response' must be a string, got {type(response).__name__}")
    return response


def load_predictions(
    inputs: list[str | Path],
    *,
    collect_errors: bool = False,
    image_root: Path | None = None,
    duplicates: list[DuplicateFile] | None = None,
) -> tuple[dict[str, list[Prediction]], list[RecordIssue], list[Path]]:
    """Read result files into per-subset predictions, in the order the files are given.

    Records that carry an `id` (sarbench's own predictions) keep it; others get
    `<subset>/<position in the subset>`. With `collect_errors` malformed records are returned
    as issues instead of raising. Meta files (`metrics.json`, `manifest.json`, …: a JSON
    object, not records) inside a directory are skipped. A file read twice, or a copy with the
    same bytes (`distinct_files`), is skipped and appended to `duplicates` when given.
    """
    files, repeated = distinct_files(result_files(inputs))
    if duplicates is not None:
        duplicates.extend(repeated)
    used: list[Path] = []
    reader = PredictionReader(image_root, collect_errors)
    for path in files:
        named = subset_from_filename(path.name)
        if named is None and _is_meta_file(path, explicit=Path(path) in map(Path, inputs)):
            continue
        used.append(path)
        reader.read(path, named)
    return {k: v for k, v in reader.by_subset.items() if v}, reader.issues, used


class PredictionReader:
    """The records of a set of result files as per-subset predictions (load_predictions)."""

    def __init__(self, image_root: Path | None, collect_errors: bool) -> None:
        self.by_subset: dict[str, list[Prediction]] = {s: [] for s in SUBSETS}
        self.issues: list[RecordIssue] = []
        self.image_root = image_root
        self.collect_errors = collect_errors
        self.seen: dict[str, str] = {}  # sample id -> where it was first read
        self.resolved_images: dict = {}

    def read(self, path: Path, named: str | None) -> None:
        lookup = ImageLookup(os.path.dirname(path), self.image_root, self.resolved_images)
        where = str(path)
        for index, record in read_records(path, tolerant=self.collect_errors):
            try:
                prediction = self._prediction(record, path, where, index, named, lookup)
            except DataError as exc:
                if not self.collect_errors:
                    raise
                self.issues.append(RecordIssue(exc.path, exc.index, exc.problem))
                continue
            self.by_subset[prediction.subset].append(prediction)

    def _prediction(self, record, path: Path, where: str, index: int, named: str | None, lookup) -> Prediction:
        if isinstance(record, DataError):
            raise record
        if not isinstance(record, dict):
            raise DataError(path, index, f"expected an object, got {type(record).__name__}")
        reference = _reference_of(record, path, index)
        response = _response_of(record, path, index)
        question = message_text(record, "user")
        subset = named or route_by_content(question, reference)
        sample_id = record.get("id")
        if isinstance(sample_id, str):
            if sample_id in self.seen:  # the same sample twice would be scored twice
                raise DataError(path, index, f"sample id {sample_id!r} again (first at {self.seen[sample_id]})")
            self.seen[sample_id] = f"{where}:{index}"
        else:
            sample_id = f"{subset}/{len(self.by_subset[subset])}"
        images = record.get("images")
        image = images[0] if isinstance(images, list) and images and isinstance(images[0], str) else None
        size = record.get("image_size")
        return Prediction(
            sample_id,
            subset,
            response,
            reference,
            f"{where}:{index}",
            image,
            question,
            tuple(size) if isinstance(size, list) and len(size) == 2 else None,
            "response" not in record,
            record_kind(record),
            lookup,
        )


RECORD_KEYS = ("response", "labels", "messages")


def _is_meta_file(path: Path, explicit: bool) -> bool:
    """A directory's JSON object documents (metrics.json, manifest.json) are not results; explicit
    files are. A `.json` file whose first line is a result record is JSONL saved as .json
    (PROTOCOL §4: JSONL unless it starts with `[`), so it is read, not skipped."""
    if explicit or path.suffix != ".json" or first_content_byte(path) != b"{":
        return False
    with open(path, "rb") as handle:
        first = next((line for line in handle if line.strip()), b"")
    try:
        head = json.loads(first.lstrip(UTF8_BOM))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return True  # a pretty-printed object spanning lines: a meta document
    return not (isinstance(head, dict) and any(key in head for key in RECORD_KEYS))

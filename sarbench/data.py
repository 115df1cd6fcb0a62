"""Loading SARChat test sets (PROTOCOL §1) into typed samples with stable ids.

A sample's id is `<subset>/<index>`: its position among the subset's records, files of one
subset concatenated in the order given (for the 9 official files: the index in its file, also
when malformed records before it are left out with data.collect_errors).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from metrics.parsing import parse_answer
from sarbench.records import (
    DataError,
    RecordIssue,
    first_content_byte,
    message_text,
    read_records,
    route_by_content,
    strip_image_tag,
)
from sarbench.subsets import SUBSETS, official_file_names, split_file_stem, subset_from_filename

log = logging.getLogger("sarbench")


@dataclass(frozen=True)
class Sample:
    id: str
    subset: str
    index: int
    prompt: str  # user text without the leading <image> tag
    reference: str  # the assistant turn
    image: str  # resolved path of the image
    source: str  # "<file>:<record index>" for messages
    record: dict  # the original record (messages/images), written back with predictions


@dataclass
class Dataset:
    root: Path
    samples: dict[str, list[Sample]]  # subset -> samples in id order
    files: list[Path]
    issues: list[RecordIssue]
    source: dict | None = None  # data=hub: repo, revision, resolved commit, layout (sarbench.hub)

    def __len__(self) -> int:
        return sum(len(v) for v in self.samples.values())

    def all_samples(self) -> list[Sample]:
        return [s for subset in SUBSETS for s in self.samples.get(subset, [])]


def resolve_image(root: Path, image: str, path: Path, index: int) -> str:
    """Resolve an image path against the data root; a path escaping the root is an error.

    The check is on the path as written (normalised, not following symlinks), so a built set
    whose images are symlinks into the source dataset stays valid.
    """
    resolved = _resolve_under(os.path.abspath(root), image)
    if resolved is None:
        raise DataError(path, index, f"image path {image!r} escapes the data root {os.path.abspath(root)}")
    return resolved


@lru_cache(maxsize=1 << 18)
def _resolve_under(root: str, image: str) -> str | None:
    candidate = os.path.normpath(os.path.join(root, image))
    if candidate != root and not candidate.startswith(root.rstrip(os.sep) + os.sep):
        return None
    return candidate


def validate_record(record, path: Path, index: int) -> tuple[str, str, str]:
    """(user text, reference, image) of an ms-swift record, or DataError saying what is wrong."""
    if not isinstance(record, dict):
        raise DataError(path, index, f"expected an object, got {type(record).__name__}")
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        raise DataError(path, index, "missing or empty 'messages' list")
    question = message_text(record, "user")
    if question is None:
        raise DataError(path, index, "no user message with string content")
    reference = message_text(record, "assistant")
    if reference is None:
        raise DataError(path, index, "no assistant message (the reference answer)")
    images = record.get("images")
    if not isinstance(images, list) or len(images) != 1 or not isinstance(images[0], str):
        raise DataError(path, index, "'images' must be a list holding exactly one path string")
    return question, reference, images[0]


def data_files(paths: list[Path], split: str = "test") -> list[Path]:
    """Expand directories into their official files of `split` (`SARChat_*_test.json`), in
    SUBSETS order. Other files that merely contain a SARChat stem (a copy, a result file saved
    beside the data, another split) are left out with a warning: they would silently join."""
    official = official_file_names(split)
    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(
            (p for p in path.iterdir() if p.name in official and p.is_file()),
            key=lambda p: (SUBSETS.index(official[p.name]), p.name),
        )
        if not found:
            raise DataError(
                path, None, f"no SARChat {split} files (e.g. {split_file_stem('classify', split)}.json) here"
            )
        for other in sorted(path.iterdir()):
            if other.name not in official and other.suffix in (".json", ".jsonl") and subset_from_filename(other.name):
                log.warning(
                    "ignored %s: not an official %s file name (%s.json)",
                    other,
                    split,
                    split_file_stem(subset_from_filename(other.name), split),
                )
        files.extend(found)
    return files


def load_dataset(
    paths: str | Path | list[str | Path],
    root: str | Path | None = None,
    *,
    subsets: list[str] | None = None,
    collect_errors: bool = False,
    split: str = "test",
) -> Dataset:
    """Load test files (or directories of them).

    `root` resolves image paths (default: the directory of the first path). With
    `collect_errors`, malformed records are returned in `issues` instead of raising.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    files = data_files(paths, split)
    if root is None:
        root = paths[0] if paths[0].is_dir() else paths[0].parent
    root = Path(root)
    wanted = set(subsets) if subsets is not None else set(SUBSETS)
    samples: dict[str, list[Sample]] = {s: [] for s in SUBSETS}
    positions = {s: 0 for s in SUBSETS}  # records seen per subset, malformed ones included
    issues: list[RecordIssue] = []
    for path in files:
        named_subset = subset_from_filename(path.name)
        if named_subset is not None and named_subset not in wanted:
            continue
        if first_content_byte(path) == b"":
            raise DataError(path, None, "empty file (expected a JSON array of records)")
        for index, record in read_records(path, tolerant=collect_errors):
            position = None
            if named_subset is not None:  # a skipped record keeps its id: later ids do not shift
                position, positions[named_subset] = positions[named_subset], positions[named_subset] + 1
            try:
                if isinstance(record, DataError):
                    raise record
                sample = _make_sample(record, path, index, root, named_subset, samples, position)
            except DataError as exc:
                if not collect_errors:
                    raise
                issues.append(RecordIssue(exc.path, exc.index, exc.problem))
                continue
            if sample.subset in wanted:
                samples[sample.subset].append(sample)
    return Dataset(root=root, samples={k: v for k, v in samples.items() if v}, files=files, issues=issues)


def _make_sample(
    record,
    path: Path,
    index: int,
    root: Path,
    named_subset: str | None,
    samples: dict[str, list[Sample]],
    position: int | None,
) -> Sample:
    question, reference, image = validate_record(record, path, index)
    subset = named_subset or route_by_content(question, reference)
    if parse_answer(subset, reference).failed:
        raise DataError(
            path, index, f"reference answer has nothing to score for subset {subset!r}: {reference[:120]!r}"
        )
    resolved = resolve_image(root, image, path, index)
    if position is None:  # routed by content: its position among the subset's valid records
        position = len(samples[subset])
    return Sample(
        id=f"{subset}/{position}",
        subset=subset,
        index=position,
        prompt=strip_image_tag(question),
        reference=reference,
        image=resolved,
        source=f"{path}:{index}",
        record=record,
    )


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def relative_to_root(path: str, root: Path) -> str:
    return os.path.relpath(path, root.resolve())

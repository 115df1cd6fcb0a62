"""Which reader opens an annotation format, and where its images live by convention.

Above the format modules (readers.py: JSONL and VOC, coco.py: COCO), so neither imports the other's
dispatch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sarbench.build.coco import CocoReader, coco_annotation_file
from sarbench.build.readers import FORMATS, AnnotationError, SourceImage, read_jsonl, read_voc, voc_annotation_dir


def default_image_root(fmt: str, annotations: Path, split: str) -> Path:
    """Where images live when --images is not given (SARDet-100K / SSDD / JSONL conventions)."""
    if fmt == "jsonl":
        return annotations.parent
    if fmt == "voc":
        folder = voc_annotation_dir(annotations)
        return folder.parent / "JPEGImages"
    ann_file = coco_annotation_file(annotations, split)
    root = ann_file.parent.parent if ann_file.parent.name == "Annotations" else ann_file.parent
    per_split = root / "JPEGImages" / ann_file.stem
    return per_split if per_split.is_dir() else root / "JPEGImages"


def open_reader(fmt: str, annotations: Path, split: str):
    """A reader object with `images()` and `annotation_files()` for the format."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown annotation format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not annotations.exists():
        raise AnnotationError(annotations, None, "not found")
    if fmt == "coco":
        return CocoReader(annotations, split)
    if fmt == "voc":
        return _FunctionReader(lambda: read_voc(annotations), sorted(voc_annotation_dir(annotations).glob("*.xml")))
    if annotations.is_dir():
        raise AnnotationError(annotations, None, "a JSONL annotation file was expected, got a folder")
    return _FunctionReader(lambda: read_jsonl(annotations), [annotations])


class _FunctionReader:
    def __init__(self, images, files: list[Path]) -> None:
        self._images, self._files = images, files

    def images(self) -> Iterator[SourceImage]:
        return self._images()

    def annotation_files(self) -> list[Path]:
        return self._files

    def used_category_names(self) -> None:
        return None  # unknown until the whole input has been read

"""Annotation readers: simple JSONL, Pascal VOC XML folders and COCO JSON (see `coco.py`).

Every reader streams `SourceImage`s one at a time and raises `AnnotationError` naming the file and
the record for malformed input. Image paths are relative to the reader's image root.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple


class AnnotationError(ValueError):
    """Malformed annotation input; the message names the file and the record."""

    def __init__(self, path: str | Path, where: str | None, problem: str) -> None:
        self.path, self.where, self.problem = str(path), where, problem
        super().__init__(f"{path}{', ' + where if where else ''}: {problem}")


class SourceObject(NamedTuple):
    category: str  # the source dataset's name, mapped later
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass
class SourceImage:
    image: str  # path relative to the image root, POSIX separators
    width: int
    height: int
    objects: list[SourceObject] = field(default_factory=list)
    where: str = ""  # "file, record" for messages about this image


# Image sides and ids beyond this are corrupt input (and would overflow the int64 columns).
MAX_INT = 2**63 - 1
TOO_DEEP = "invalid JSON: nested too deeply (Python's recursion limit)"


def positive_int(value: object, what: str, path: Path, where: str) -> int:
    whole = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        whole = int(value)
    if whole is None or not 0 < whole <= MAX_INT:
        raise AnnotationError(path, where, f"{what} must be a positive integer, got {short_repr(value)}")
    return whole


def short_repr(value: object) -> str:
    """repr of a value for a message, cut short (a hostile file can hold a 10 MB number)."""
    try:
        text = repr(value)
    except ValueError:  # an int over Python's 4,300-digit str limit
        return "an integer of over 4,300 digits"
    return text if len(text) <= 80 else text[:77] + "..."


def _number(value: object, what: str, path: Path, where: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value
        or value in (math.inf, -math.inf)
    ):
        raise AnnotationError(path, where, f"{what} must be a finite number, got {short_repr(value)}")
    if abs(value) > 1e15:  # a pixel coordinate: larger is corrupt, and x2 - x1 could overflow
        raise AnnotationError(path, where, f"{what} {short_repr(value)} is not a pixel coordinate")
    return value


def checked_image_path(value: object, path: Path, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AnnotationError(path, where, f"'image' must be a non-empty path, got {value!r}")
    posix = PurePosixPath(value.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts:
        raise AnnotationError(path, where, f"image path {value!r} must stay inside the image folder")
    return str(posix)


def read_jsonl(path: Path) -> Iterator[SourceImage]:
    """One image per line: {"image", "width", "height", "objects": [{"category", "bbox": [x1,y1,x2,y2]}]}."""
    with open(path, "rb") as handle:
        for line_number, raw in enumerate(handle, 1):
            where = f"line {line_number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise AnnotationError(path, where, f"not UTF-8 text (byte {exc.start + 1})") from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AnnotationError(path, where, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
            except RecursionError:
                raise AnnotationError(path, where, TOO_DEEP) from None
            if not isinstance(record, dict):
                raise AnnotationError(path, where, "a record must be a JSON object")
            for key in ("image", "width", "height"):
                if key not in record:
                    raise AnnotationError(path, where, f"missing field {key!r}")
            objects = record.get("objects", [])
            if not isinstance(objects, list):
                raise AnnotationError(path, where, "'objects' must be a list")
            image = SourceImage(
                checked_image_path(record["image"], path, where),
                positive_int(record["width"], "width", path, where),
                positive_int(record["height"], "height", path, where),
                where=f"{path}, {where}",
            )
            for i, obj in enumerate(objects):
                image.objects.append(_jsonl_object(obj, path, f"{where}, objects[{i}]"))
            yield image


def _jsonl_object(obj: object, path: Path, where: str) -> SourceObject:
    if not isinstance(obj, dict) or not isinstance(obj.get("category"), str):
        raise AnnotationError(path, where, "an object needs a string 'category' and a 'bbox'")
    bbox = obj.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise AnnotationError(path, where, f"'bbox' must be [x1, y1, x2, y2], got {short_repr(bbox)}")
    return SourceObject(obj["category"], *(_number(v, "bbox value", path, where) for v in bbox))


# --- Pascal VOC (SSDD layout: Annotations/*.xml + JPEGImages/) ---------------------------------


def voc_annotation_dir(path: Path) -> Path:
    return path / "Annotations" if (path / "Annotations").is_dir() else path


def read_voc(path: Path) -> Iterator[SourceImage]:
    """Every `*.xml` of the Annotations folder, in file-name order."""
    folder = voc_annotation_dir(path)
    if not folder.is_dir():
        raise AnnotationError(path, None, "a VOC annotation folder (Annotations/*.xml) was expected")
    files = sorted(folder.glob("*.xml"))
    if not files:
        raise AnnotationError(folder, None, "no *.xml annotation files found")
    for xml_path in files:
        yield _voc_image(xml_path)


def _voc_text(node: ElementTree.Element, tag: str, path: Path, where: str | None) -> str:
    text = node.findtext(tag)
    if text is None or not text.strip():
        raise AnnotationError(path, where, f"missing <{tag}>")
    return text.strip()


def _voc_number(node: ElementTree.Element, tag: str, path: Path, where: str | None) -> float:
    text = _voc_text(node, tag, path, where)
    try:
        value = float(text)
    except ValueError:
        raise AnnotationError(path, where, f"<{tag}> is not a number: {short_repr(text)}") from None
    if not math.isfinite(value) or abs(value) > 1e15:
        raise AnnotationError(path, where, f"<{tag}> is not a pixel value: {short_repr(text)}")
    return int(value) if value.is_integer() else value


def _voc_image(xml_path: Path) -> SourceImage:
    try:
        root = ElementTree.parse(xml_path).getroot()
    except ElementTree.ParseError as exc:
        raise AnnotationError(xml_path, None, f"invalid XML ({exc})") from None
    filename = root.findtext("filename")
    filename = filename.strip() if filename and filename.strip() else f"{xml_path.stem}.jpg"
    size = root.find("size")
    width = height = 0
    if size is not None:
        width = int(_voc_number(size, "width", xml_path, "<size>"))
        height = int(_voc_number(size, "height", xml_path, "<size>"))
    image = SourceImage(checked_image_path(filename, xml_path, "<filename>"), width, height, where=str(xml_path))
    for i, obj in enumerate(root.iter("object")):
        where = f"<object> {i}"
        name = _voc_text(obj, "name", xml_path, where)
        box = obj.find("bndbox")
        if box is None:
            raise AnnotationError(xml_path, where, "missing <bndbox> (rotated boxes are not supported)")
        coords = (_voc_number(box, tag, xml_path, where) for tag in ("xmin", "ymin", "xmax", "ymax"))
        image.objects.append(SourceObject(name, *coords))
    return image


# --- dispatch -------------------------------------------------------------------------------------

FORMATS = ("coco", "voc", "jsonl")

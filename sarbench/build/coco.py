"""Streaming COCO reader (SARDet-100K layout: Annotations/{train,val,test}.json + JPEGImages/).

A COCO file is one JSON object whose `images` and `annotations` arrays must be joined. Loading it
whole costs ~10x its size in Python objects, so it is read twice in a streaming way instead:
pass 1 keeps the categories and packs every annotation into flat numpy columns (about 50 bytes per
box), pass 2 walks `images` in file order and attaches each image's boxes. Memory grows with the
number of boxes only through those columns.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sarbench.build.readers import (
    MAX_INT,
    TOO_DEEP,
    AnnotationError,
    SourceImage,
    SourceObject,
    checked_image_path,
    positive_int,
    short_repr,
)

_CHUNK = 1 << 20
_WHITESPACE = " \t\n\r"


def coco_annotation_file(path: Path, split: str) -> Path:
    """The JSON file itself, or `<root>/Annotations/<split>.json` for a SARDet-100K root folder."""
    if path.is_dir():
        candidate = path / "Annotations" / f"{split}.json"
        if not candidate.is_file():
            raise AnnotationError(path, None, f"no Annotations/{split}.json in this folder")
        return candidate
    return path


class _JsonStream:
    """Walks one top-level JSON object, decoding values one at a time with the C decoder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, encoding="utf-8")
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._decoder = json.JSONDecoder()

    def close(self) -> None:
        self._handle.close()

    def _fill(self, at_least: int = 0) -> bool:
        if self._eof:
            return False
        try:
            chunk = self._handle.read(max(_CHUNK, at_least))
        except UnicodeDecodeError as exc:
            raise AnnotationError(self.path, None, f"not UTF-8 text ({exc.reason})") from None
        if not chunk:
            self._eof = True
            return False
        self._buffer = self._buffer[self._pos :] + chunk
        self._pos = 0
        return True

    def _peek(self) -> str:
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill():
                return ""

    def _expect(self, chars: str, context: str) -> str:
        char = self._peek()
        if not char or char not in chars:
            found = repr(char) if char else "end of file"
            raise AnnotationError(self.path, context, f"invalid JSON: expected {' or '.join(chars)}, found {found}")
        self._pos += 1
        return char

    def value(self, context: str):
        self._peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                if self._fill(at_least=len(self._buffer) - self._pos):  # doubling: a huge value costs O(n)
                    continue
                raise AnnotationError(self.path, context, f"invalid JSON ({exc.msg})") from None
            except RecursionError:
                raise AnnotationError(self.path, context, TOO_DEEP) from None
            if end == len(self._buffer) and self._fill():
                continue  # a number may go on in the next chunk
            self._pos = end
            return value

    def skip(self, context: str) -> None:
        """Consume a value; arrays element by element, so a huge one is never held whole."""
        if self._peek() == "[":
            for _ in self.array_items(context):
                pass
        else:
            self.value(context)

    def object_keys(self) -> Iterator[str]:
        """Keys of the top-level object; the caller must consume each key's value."""
        self._expect("{", "top level")
        if self._peek() == "}":
            return
        while True:
            key = self.value("top-level key")
            if not isinstance(key, str):
                raise AnnotationError(self.path, "top level", "invalid JSON: object keys must be strings")
            self._expect(":", f"key {key!r}")
            yield key
            if self._expect(",}", f"after {key!r}") == "}":
                return

    def array_items(self, name: str) -> Iterator[tuple[int, object]]:
        if self._peek() != "[":
            raise AnnotationError(self.path, name, "must be a JSON array")
        self._pos += 1
        if self._peek() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            yield index, self.value(f"{name}[{index}]")
            if self._expect(",]", f"after {name}[{index}]") == "]":
                return
            index += 1


class CocoReader:
    def __init__(self, path: Path, split: str) -> None:
        self.path = coco_annotation_file(path, split)
        self._categories: dict[int, str] = {}
        self._index: _AnnotationIndex | None = None

    def annotation_files(self) -> list[Path]:
        return [self.path]

    def used_category_names(self) -> set[str]:
        index = self._load_annotations()
        return {self._categories[int(c)] for c in np.unique(index.category_ids)}

    def _load_annotations(self) -> _AnnotationIndex:
        if self._index is not None:
            return self._index
        columns = _AnnotationColumns()
        stream = _JsonStream(self.path)
        try:
            for key in stream.object_keys():
                if key == "annotations":
                    for i, ann in stream.array_items("annotations"):
                        columns.add(ann, self.path, i)
                elif key == "categories":
                    for i, cat in stream.array_items("categories"):
                        self._add_category(cat, i)
                else:
                    stream.skip(key)
        finally:
            stream.close()
        unknown_ids = set(np.unique(np.asarray(columns.category_ids, dtype=np.int64)).tolist()) - set(self._categories)
        if unknown_ids:
            where = f"annotations[{columns.first_index_of_category(min(unknown_ids))}]"
            raise AnnotationError(self.path, where, f"category_id {min(unknown_ids)} is not in 'categories'")
        self._index = _AnnotationIndex(columns)
        return self._index

    def _add_category(self, cat: object, i: int) -> None:
        if not isinstance(cat, dict) or not isinstance(cat.get("name"), str) or not _is_id(cat.get("id")):
            raise AnnotationError(self.path, f"categories[{i}]", "a category needs an integer 'id' and a string 'name'")
        if self._categories.get(cat["id"], cat["name"]) != cat["name"]:  # which name would its boxes get?
            raise AnnotationError(
                self.path, f"categories[{i}]", f"category id {cat['id']} is already {self._categories[cat['id']]!r}"
            )
        self._categories[cat["id"]] = cat["name"]

    def images(self) -> Iterator[SourceImage]:
        index = self._load_annotations()
        seen = np.zeros(len(index.image_ids), dtype=bool)
        first_seen: dict[int, int] = {}  # image id -> index in 'images'
        stream = _JsonStream(self.path)
        try:
            for key in stream.object_keys():
                if key != "images":
                    stream.skip(key)
                    continue
                for i, record in stream.array_items("images"):
                    where = f"images[{i}]"
                    if not isinstance(record, dict) or not _is_id(record.get("id")):
                        raise AnnotationError(self.path, where, "an image needs an integer 'id'")
                    if record["id"] in first_seen:  # both images would get the same boxes
                        raise AnnotationError(
                            self.path,
                            where,
                            f"image id {record['id']} is already used by images[{first_seen[record['id']]}]",
                        )
                    first_seen[record["id"]] = i
                    for key_name in ("file_name", "width", "height"):
                        if key_name not in record:
                            raise AnnotationError(self.path, where, f"missing field {key_name!r}")
                    image = SourceImage(
                        checked_image_path(record["file_name"], self.path, where),
                        positive_int(record["width"], "width", self.path, where),
                        positive_int(record["height"], "height", self.path, where),
                        where=f"{self.path}, {where}",
                    )
                    start, stop = index.span(record["id"])
                    seen[start:stop] = True
                    names = [self._categories[c] for c in index.category_ids[start:stop].tolist()]
                    for name, (x, y, w, h) in zip(names, index.boxes[start:stop].tolist()):
                        image.objects.append(SourceObject(name, x, y, x + w, y + h))
                    yield image
        finally:
            stream.close()
        if not seen.all():
            orphan = int(index.order[np.argmin(seen)])
            raise AnnotationError(self.path, f"annotations[{orphan}]", "image_id is not in 'images'")


class _AnnotationColumns:
    def __init__(self) -> None:
        self.image_ids = array("q")
        self.category_ids = array("q")
        self.boxes = array("d")

    def add(self, ann: object, path: Path, i: int) -> None:
        where = f"annotations[{i}]"
        if not isinstance(ann, dict):
            raise AnnotationError(path, where, "an annotation must be a JSON object")
        image_id, category_id, bbox = ann.get("image_id"), ann.get("category_id"), ann.get("bbox")
        if not _is_id(image_id) or not _is_id(category_id):
            raise AnnotationError(
                path, where, f"an annotation needs integer 'image_id' and 'category_id' (at most {MAX_INT})"
            )
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= _MAX_COORDINATE for v in bbox
            )
        ):  # NaN fails the comparison too
            raise AnnotationError(
                path, where, f"'bbox' must be [x, y, width, height] of finite pixel values, got {short_repr(bbox)}"
            )
        self.image_ids.append(image_id)
        self.category_ids.append(category_id)
        self.boxes.extend(bbox)

    def first_index_of_category(self, category_id: int) -> int:
        return self.category_ids.index(category_id)


_MAX_COORDINATE = 1e15  # beyond: corrupt, and x + width could overflow


def _is_id(value: object) -> bool:
    """An integer that fits the int64 id columns (bool is not an id)."""
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_INT <= value <= MAX_INT


class _AnnotationIndex:
    """Annotations sorted by image id (stable, so file order is kept within an image)."""

    def __init__(self, columns: _AnnotationColumns) -> None:
        image_ids = np.frombuffer(columns.image_ids, dtype=np.int64) if columns.image_ids else np.zeros(0, np.int64)
        self.order = np.argsort(image_ids, kind="stable")
        self.image_ids = image_ids[self.order]
        category_ids = (
            np.frombuffer(columns.category_ids, dtype=np.int64) if columns.category_ids else np.zeros(0, np.int64)
        )
        self.category_ids = category_ids[self.order]
        boxes = np.frombuffer(columns.boxes, dtype=np.float64).reshape(-1, 4) if columns.boxes else np.zeros((0, 4))
        self.boxes = boxes[self.order]

    def span(self, image_id: int) -> tuple[int, int]:
        start = int(np.searchsorted(self.image_ids, image_id, side="left"))
        stop = int(np.searchsorted(self.image_ids, image_id, side="right"))
        return start, stop

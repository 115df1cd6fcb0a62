"""`datasets` tables of a hub release (parquet, or arrow as `save_to_disk` writes it) written as
the official ms-swift JSONL files, so they load exactly as a local folder does.

Each table holds ms-swift's `messages` and `images` columns; images are `Image` features (bytes,
written out under the path they were stored with, e.g. `images/scene_000.png`) or path strings
(relative to the release's root or to the table's folder; linked, not copied). A table's subset
comes from its path (`count/test-00000.parquet`, `SARChat_classify_count_test.parquet`); rows of
a table whose path names none are routed by content, as records of such local files are.
Rows keep their order: a sample's id is its position in its subset, tables of one subset taken
in path order.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from sarbench.records import DataError, message_text, route_by_content
from sarbench.run_settings import RunError
from sarbench.subsets import SUBSETS, split_file_stem, subset_from_filename

TableSource = tuple[Path, "str | None"]  # (parquet file or arrow folder, subset named by its path)


def table_sources(snapshot: Path, split: str) -> list[TableSource]:
    """The split's tables under `snapshot` with the subset their path names, in path order."""
    found: list[Path] = []
    for directory, subdirectories, names in os.walk(snapshot, followlinks=True):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        folder = Path(directory)
        if split not in folder.relative_to(snapshot).as_posix() and not any(split in n for n in names):
            continue
        if "state.json" in names and any(n.endswith(".arrow") for n in names):
            found.append(folder)
            subdirectories[:] = []
            continue
        found += [folder / n for n in sorted(names) if n.endswith(".parquet") and split in f"{folder}/{n}"]
    return [(path, _subset_of(path.relative_to(snapshot))) for path in sorted(found)]


def _subset_of(relative: Path) -> str | None:
    for part in reversed(relative.parts):
        subset = subset_from_filename(part.split(".", 1)[0] if part.endswith((".parquet", ".arrow")) else part)
        if subset is not None:
            return subset
    return None


def materialize_tables(
    sources: list[TableSource], snapshot: Path, target: Path, split: str, fetch_images: Callable | None = None
) -> Path:
    """Write the tables as `<target>/SARChat_*_<split>.jsonl` plus images; returns the image root."""
    by_subset: dict[str, list[dict]] = {s: [] for s in SUBSETS}
    written: dict[str, bytes] = {}  # image path -> bytes written there
    linked: set[str] = set()
    for path, named in sources:
        for row, raw in enumerate(_rows(path, target)):
            record, embedded = _record(raw, path, row)
            subset = named or _route(record, path, row)
            if embedded is not None:
                stored = record["images"][0]
                record["images"] = [_write_image(target, embedded, stored, subset, len(by_subset[subset]), written)]
            else:
                linked.add(record["images"][0])
            by_subset[subset].append(record)
    if linked:
        _link_images(linked, sources, snapshot, target, fetch_images)
    for subset, records in by_subset.items():
        if records:
            with open(target / f"{split_file_stem(subset, split)}.jsonl", "w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    shutil.rmtree(target / ".datasets-cache", ignore_errors=True)
    return target


def _rows(path: Path, target: Path):
    """A table's rows as plain values (images undecoded: bytes and path), read by `datasets`."""
    try:
        import datasets
    except ImportError:
        raise RunError("a parquet/arrow release needs the datasets library: pip install 'sarbench[hub]'") from None
    datasets.disable_progress_bars()
    try:
        if path.is_dir():
            table = datasets.load_from_disk(str(path))
        else:
            table = datasets.Dataset.from_parquet(str(path), cache_dir=str(target / ".datasets-cache"))
    except Exception as exc:  # noqa: BLE001 - a table `datasets` cannot read is named with its reason
        raise DataError(path, None, f"cannot read as a datasets table: {type(exc).__name__}: {exc}") from None
    if isinstance(table, datasets.DatasetDict):
        raise DataError(path, None, f"holds several splits ({', '.join(table)}); expected one table")
    missing = [c for c in ("messages", "images") if c not in table.column_names]
    if missing:
        raise DataError(path, None, f"no {' or '.join(repr(c) for c in missing)} column (has {table.column_names})")
    for batch in table.select_columns(["messages", "images"]).with_format("arrow").iter(batch_size=256):
        yield from batch.to_pylist()


def _record(raw: dict, path: Path, row: int) -> tuple[dict, bytes | None]:
    """The ms-swift record of a row and its image bytes (None when the image is a path)."""
    images = raw.get("images")
    if not isinstance(images, list) or len(images) != 1:
        raise DataError(path, row, f"'images' must hold exactly one image, got {images!r:.80}")
    image = images[0]
    record = {"messages": raw.get("messages"), "images": [image]}
    if isinstance(image, str):
        return record, None
    if isinstance(image, dict) and image.get("bytes"):
        record["images"] = [image.get("path") or ""]
        return record, image["bytes"]
    if isinstance(image, dict) and isinstance(image.get("path"), str):
        record["images"] = [image["path"]]
        return record, None
    raise DataError(path, row, f"image is neither bytes nor a path: {image!r:.80}")


def _route(record: dict, path: Path, row: int) -> str:
    reference = message_text(record, "assistant")
    if reference is None:
        raise DataError(path, row, "no assistant message (the reference answer) to route the row by")
    return route_by_content(message_text(record, "user"), reference)


def _write_image(target: Path, data: bytes, stored: str, subset: str, index: int, written: dict[str, bytes]) -> str:
    """Write an embedded image under the path it was stored with (under `images/` when it is a
    bare name or absolute); a path already holding other bytes gets the subset and index in its name."""
    name = _clean(stored) or f"{subset}_{index}{_suffix(data)}"
    if "/" not in name:
        name = f"images/{name}"
    if written.get(name, data) != data:
        parent, base = posixpath.split(name)
        name = f"{parent}/{subset}_{index}_{base}"
    if name not in written:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
        written[name] = data
    return name


def _clean(stored: str) -> str:
    """A stored image path usable under the prepared folder ("" when it names nothing)."""
    path = posixpath.normpath(stored.replace("\\", "/")) if stored else ""
    if path.startswith("/") or path.split("/")[0] == ".." or ":" in path:
        path = posixpath.basename(path).replace(":", "_")  # the uploader's own disk: only the name says anything
    return "" if path in ("", ".", "..") else path


def _suffix(data: bytes) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return "." + (image.format or "bin").lower()
    except (UnidentifiedImageError, OSError):
        return ".bin"  # unreadable: written as it is, then an inference failure like any corrupt image


def _link_images(
    images: set[str], sources: list[TableSource], snapshot: Path, target: Path, fetch_images: Callable | None
) -> None:
    """Image paths of the tables: relative to the release's root or to the tables' folder."""
    if fetch_images is not None:
        fetch_images(images)
    first = sorted(images)[0]
    bases = [snapshot] + sorted({(p if p.is_dir() else p.parent) for p, _ in sources})
    base = next((b for b in bases if (b / first).is_file()), None)
    if base is None:
        raise RunError(
            f"the tables name images by path (e.g. {first}) that are neither under {snapshot} nor beside the tables"
        )
    for top in sorted({PurePosixPath(p).parts[0] for p in images}):
        if not (target / top).exists():
            (target / top).symlink_to(base / top)

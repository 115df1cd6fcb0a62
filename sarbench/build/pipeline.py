"""One build: read annotations, map categories, apply the paper's filters, generate, write, report."""

from __future__ import annotations

import hashlib
import platform
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

import sarbench
from sarbench.build import geometry as geo
from sarbench.build import templates
from sarbench.build.categories import SARCHAT_CATEGORIES, CategoryMapper
from sarbench.build.formats import default_image_root, open_reader
from sarbench.build.generators import PreparedImage, generate
from sarbench.build.output import IMAGES_DIR, LINK_MODES, StagedOutput
from sarbench.build.readers import AnnotationError, SourceImage
from sarbench.subsets import SUBSETS

BUILDER_VERSION = "1"
UNKNOWN_POLICIES = ("error", "drop")
SPLIT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class BuildError(ValueError):
    pass


@dataclass
class BuildOptions:
    annotations: Path
    format: str
    out: Path
    images: Path | None = None
    seed: int = 0
    split: str = "test"
    category_map: Path | None = None
    unknown_categories: str = "error"
    link: str = "copy"


@dataclass
class _Tally:
    images_read: int = 0
    images_used: int = 0
    objects_read: int = 0
    objects_kept: Counter = field(default_factory=Counter)
    image_drops: Counter = field(default_factory=Counter)
    object_drops: Counter = field(default_factory=Counter)
    describe_skipped_objects: int = 0
    unknown: Counter = field(default_factory=Counter)
    unknown_first_seen: dict = field(default_factory=dict)
    records: Counter = field(default_factory=Counter)
    records_by_category: dict = field(default_factory=lambda: defaultdict(Counter))


def output_image_path(relative: str) -> str:
    """`images/<path under the image root>`, without doubling a leading `images/`."""
    parts = PurePosixPath(relative).parts
    if parts[0] == IMAGES_DIR and len(parts) > 1:
        return relative
    return f"{IMAGES_DIR}/{relative}"


def _refuse_special_file(path: Path, where: str) -> None:
    """A FIFO/device/folder named as an image would block or fail deep inside PIL or the copy."""
    from sarbench.images import special_file_kind

    kind = special_file_kind(path)
    if kind is not None:
        raise AnnotationError(where, None, f"image {path} is {kind}, not an image file")


def _read_size(path: Path, where: str) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except OSError as exc:
        raise AnnotationError(where, None, f"no image size in the annotation and cannot read {path}: {exc}") from None


def _header_size(path: Path) -> tuple[int, int] | None:
    """The image's size from its header, or None when it cannot be read here (e.g. --link none
    with images elsewhere)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except OSError:
        return None


def build(options: BuildOptions) -> dict:
    """Build the 9 subset files, the image folder and build_report.json; returns the report."""
    if options.unknown_categories not in UNKNOWN_POLICIES:
        raise BuildError(f"--unknown-categories must be one of {', '.join(UNKNOWN_POLICIES)}")
    if options.link not in LINK_MODES:
        raise BuildError(f"--link must be one of {', '.join(LINK_MODES)}")
    if not SPLIT_NAME.fullmatch(options.split):
        raise BuildError(
            f"--split {options.split!r}: use letters, digits, '.', '_' or '-' (it becomes part of "
            "file names), starting with a letter or digit"
        )
    mapper = CategoryMapper.from_file(options.category_map)
    reader = open_reader(options.format, options.annotations, options.split)
    image_root = options.images or default_image_root(options.format, options.annotations, options.split)
    if options.link != "none" and not image_root.is_dir():
        raise BuildError(f"image folder {image_root} not found (give --images, or --link none to skip images)")
    if options.unknown_categories == "error":
        names = reader.used_category_names()
        unknown = sorted(n for n in names or () if not mapper.resolve(n)[0])
        if unknown:
            raise BuildError(_unknown_message(reader.annotation_files()[0], {n: None for n in unknown}))

    tally = _Tally()
    output = StagedOutput(options.out, options.split)
    try:
        seen_paths: set[str] = set()
        for source in reader.images():
            prepared = _prepare(source, mapper, tally, image_root)
            if prepared is None:
                continue
            if prepared.path in seen_paths:
                raise AnnotationError(source.where, None, f"image {source.image!r} is listed twice")
            seen_paths.add(prepared.path)
            if tally.unknown and options.unknown_categories == "error":
                continue  # keep reading only to list every unknown name
            try:
                output.place_image(image_root / source.image, prepared.path, options.link)
            except OSError as exc:
                raise BuildError(
                    f"{source.where}: cannot {options.link} image {image_root / source.image}: {exc.strerror or exc}"
                ) from None
            tally.images_used += 1
            for item in generate(prepared, options.seed):
                output.writers[item.subset].write(item.record)
                tally.records[item.subset] += 1
                tally.records_by_category[item.subset].update(item.categories)
        if tally.unknown and options.unknown_categories == "error":
            raise BuildError(_unknown_message(None, tally.unknown_first_seen, tally.unknown))
        report = _report(options, reader, mapper, tally)
        output.commit(report)
    except BaseException:
        output.abort()
        raise
    return report


def _prepare(source: SourceImage, mapper: CategoryMapper, tally: _Tally, image_root: Path) -> PreparedImage | None:
    tally.images_read += 1
    tally.objects_read += len(source.objects)
    width, height = source.width, source.height
    _refuse_special_file(image_root / source.image, source.where)
    if not width or not height:
        width, height = _read_size(image_root / source.image, source.where)
    else:  # a wrong declared size would put every grid cell and size word off
        actual = _header_size(image_root / source.image)
        if actual is not None and actual != (width, height):
            raise AnnotationError(
                source.where,
                None,
                f"declares the image {width}x{height}, but {image_root / source.image} is {actual[0]}x{actual[1]}",
            )
    if geo.image_too_small(width, height):
        tally.image_drops["image_smaller_than_224"] += 1
        tally.object_drops["in_dropped_image"] += len(source.objects)
        return None
    kept = []
    for obj in source.objects:
        known, category = mapper.resolve(obj.category)
        if not known:
            tally.unknown[obj.category] += 1
            tally.unknown_first_seen.setdefault(obj.category, source.where)
            tally.object_drops["unknown_category"] += 1
            continue
        if category is None:
            tally.object_drops["ignored_category"] += 1
            continue
        box = geo.to_pixel_box(obj.x1, obj.y1, obj.x2, obj.y2)
        if geo.degenerate(box):
            tally.object_drops["degenerate_box"] += 1
        elif geo.out_of_bounds(box, width, height):
            tally.object_drops["box_out_of_bounds"] += 1
        elif geo.too_elongated(box):
            tally.object_drops["aspect_ratio_over_10"] += 1
        else:
            kept.append((category, box))
    if not kept:
        tally.image_drops["no_objects_left" if source.objects else "no_objects"] += 1
        return None
    tally.objects_kept.update(c for c, _ in kept)
    tally.describe_skipped_objects += sum(1 for _, b in kept if not geo.describable(b, width, height))
    return PreparedImage(source.image, output_image_path(source.image), width, height, kept)


def _unknown_message(where: Path | None, first_seen: dict, counts: Counter | None = None) -> str:
    lines = ["unknown categories (map them with --category-map FILE or drop them with --unknown-categories drop):"]
    for name in sorted(first_seen):
        detail = f"{counts[name]} objects, first in {first_seen[name]}" if counts else f"in {where}"
        lines.append(f"  {name!r}: {detail}")
    return "\n".join(lines)


def sha256_of_files(files: list[Path], root: Path | None = None) -> str:
    digest = hashlib.sha256()
    for path in files:
        if len(files) > 1:
            name = path.relative_to(root).as_posix() if root else path.name
            digest.update(name.encode() + b"\x00")
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def templates_sha256() -> str:
    digest = hashlib.sha256()
    for name, pool in sorted(templates.all_pools().items()):
        digest.update(name.encode() + b"\x00" + "\x00".join(pool).encode() + b"\x01")
    return digest.hexdigest()


def _report(options: BuildOptions, reader, mapper: CategoryMapper, tally: _Tally) -> dict:
    files = reader.annotation_files()
    return {
        "protocol": sarbench.PROTOCOL,
        "builder_version": BUILDER_VERSION,
        "source": {
            "format": options.format,
            "annotations": files[0].name if len(files) == 1 else f"{len(files)} files in {files[0].parent.name}/",
            "annotations_sha256": sha256_of_files(files, files[0].parent),
            "split": options.split,
            "image_link_mode": options.link,
        },
        "seed": options.seed,
        "templates_sha256": templates_sha256(),
        "category_map_overrides": mapper.overrides,
        "unknown_categories": {"policy": options.unknown_categories, "dropped": dict(sorted(tally.unknown.items()))},
        "images": {
            "read": tally.images_read,
            "used": tally.images_used,
            "dropped": dict(sorted(tally.image_drops.items())),
        },
        "objects": {
            "read": tally.objects_read,
            "kept": sum(tally.objects_kept.values()),
            "kept_by_category": {c: tally.objects_kept[c] for c in SARCHAT_CATEGORIES},
            "dropped": dict(sorted(tally.object_drops.items())),
            "left_out_of_descriptions_under_1_percent": tally.describe_skipped_objects,
        },
        "records": {s: tally.records[s] for s in SUBSETS},
        "records_total": sum(tally.records.values()),
        "records_by_category": {
            s: {c: tally.records_by_category[s][c] for c in SARCHAT_CATEGORIES if tally.records_by_category[s][c]}
            for s in SUBSETS
        },
        "versions": {
            "sarbench": sarbench.__version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": sys.platform,
        },
    }

"""`python -m sarbench.build`: build a SARChat-format test set from detection annotations."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sarbench.build.categories import CategoryMapError
from sarbench.build.output import LINK_MODES, OutputError
from sarbench.build.pipeline import UNKNOWN_POLICIES, BuildError, BuildOptions, build
from sarbench.build.readers import FORMATS, AnnotationError


def parse_args(argv: list[str] | None = None) -> BuildOptions:
    parser = argparse.ArgumentParser(
        prog="python -m sarbench.build",
        description="Turn SAR detection annotations into the 9 SARChat test files (PROTOCOL §2).",
    )
    parser.add_argument(
        "--annotations",
        type=Path,
        required=True,
        help="COCO JSON file (or SARDet-100K root), VOC Annotations folder (or its parent), or JSONL file",
    )
    parser.add_argument("--format", choices=FORMATS, required=True)
    parser.add_argument(
        "--images", type=Path, help="image root (default: JPEGImages/ next to Annotations/, or the JSONL's folder)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (new, empty, or an earlier build)")
    parser.add_argument("--seed", type=int, default=0, help="template-choice seed (default 0)")
    parser.add_argument("--split", default="test", help="split name in the output file names (default test)")
    parser.add_argument("--category-map", type=Path, help="JSON object {source name: SARChat category or null}")
    parser.add_argument(
        "--unknown-categories",
        choices=UNKNOWN_POLICIES,
        default="error",
        help="unmapped category names: fail listing them (default) or drop their objects",
    )
    parser.add_argument(
        "--link",
        choices=LINK_MODES,
        default="copy",
        help="how images reach <out>/images: copy (default), hardlink, symlink, or none",
    )
    args = parser.parse_args(argv)
    return BuildOptions(
        annotations=args.annotations,
        format=args.format,
        out=args.out,
        images=args.images,
        seed=args.seed,
        split=args.split,
        category_map=args.category_map,
        unknown_categories=args.unknown_categories,
        link=args.link,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    started = time.perf_counter()
    try:
        report = build(options)
    except (AnnotationError, BuildError, CategoryMapError, OutputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"records": report["records"], "images": report["images"], "objects": report["objects"]["dropped"]},
            indent=1,
        )
    )
    print(
        f"{report['records_total']} records from {report['images']['used']} images in {seconds:.1f} s -> {options.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

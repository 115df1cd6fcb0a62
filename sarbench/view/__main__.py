"""`sarbench view RUN [RUN2] [-o page.html]`: write the per-sample viewer page of one or two runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sarbench.run_folder import RunFolderError, details_location, write_text
from sarbench.subsets import SUBSETS
from sarbench.view.page import page_data, render_page
from sarbench.view.samples import ViewError, load_run
from sarbench.view.thumbnails import THUMBNAIL_PX


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sarbench view",
        description=(
            "Write a static HTML page (opens from disk, no server) showing every sample of a run: the image "
            "with reference and predicted boxes, prompt, raw and parsed answer, TP/FP/FN, parse failures; "
            "filters, sorting, a permalink per sample. With two runs: side by side, and where they disagree."
        ),
    )
    parser.add_argument(
        "runs", nargs="+", type=Path, metavar="RUN", help="run folder(s) with details.jsonl (one or two)"
    )
    parser.add_argument(
        "-o", "--out", type=Path, help="the HTML file (default: RUN/view.html, or RUN/view-compare.html for two runs)"
    )
    parser.add_argument(
        "--thumbnail-px",
        type=int,
        default=THUMBNAIL_PX,
        help=f"longest side of the JPEG thumbnails embedded in the page (default {THUMBNAIL_PX}); 0 embeds "
        "none and shows the original images by path (a small page for very large runs, valid on this machine)",
    )
    parser.add_argument(
        "--subsets",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        help="only these subsets, comma-separated (e.g. count,refer_multi): a smaller page for a large run",
    )
    parser.add_argument("--title", help="page title (default: the run names)")
    return parser


def default_out(runs: list[Path]) -> Path:
    _, folder = details_location(runs[0])
    return folder / ("view.html" if len(runs) == 1 else "view-compare.html")


def write_view(
    runs: list[Path],
    out: Path,
    thumbnail_px: int = THUMBNAIL_PX,
    title: str | None = None,
    subsets: list[str] | None = None,
) -> dict:
    """Build and write the page (of only `subsets`, when given); returns the data embedded in it."""
    if not 1 <= len(runs) <= 2:
        raise ViewError(f"the viewer shows one run or two side by side, got {len(runs)}")
    if thumbnail_px < 0:
        raise ViewError(f"--thumbnail-px must be 0 or more, got {thumbnail_px}")
    records = [load_run(run) for run in runs]
    if subsets:
        unknown = sorted(set(subsets) - set(SUBSETS))
        if unknown:
            raise ViewError(f"unknown subset(s) {', '.join(unknown)}; the subsets are: {', '.join(SUBSETS)}")
        records = [run.only(set(subsets)) for run in records]
        if not any(run.records for run in records):
            raise ViewError(f"no sample of {', '.join(subsets)} in {' or '.join(map(str, runs))}")
    if len(records) == 2 and not {r["id"] for r in records[0].records} & {r["id"] for r in records[1].records}:
        raise ViewError(f"{runs[0]} and {runs[1]} share no sample ids: nothing to show side by side")
    data = page_data(records, out.parent, thumbnail_px, title)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, render_page(data))
    except (OSError, RunFolderError) as exc:
        raise ViewError(f"cannot write {out}: {exc}") from None
    return data


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = args.out or default_out(args.runs)
    data = write_view(args.runs, out, args.thumbnail_px, args.title, args.subsets)
    samples = sum(len(run["samples"]) for run in data["runs"])
    size_mb = out.stat().st_size / 1e6
    print(f"wrote {out} ({samples} samples, {len(data['images'])} images, {size_mb:.1f} MB); open it in a browser")
    return 0


if __name__ == "__main__":
    sys.exit(main())

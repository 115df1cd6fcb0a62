"""The bundled sample: synthetic SAR scenes built into a SARChat-format test set.

    python -m sarbench.build.sample [--out DIR]

The sample is committed at `sarbench/sample_data/` (see README.md in this folder for the size and
timing figures behind that choice); `sample_data_dir()` regenerates it only when it is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sarbench.build.output import IMAGES_DIR, subset_file_name
from sarbench.build.pipeline import BuildOptions, build
from sarbench.build.synthetic import write_scenes
from sarbench.subsets import SUBSETS

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_SCENES = 40
SAMPLE_SEED = 0

_README = """# Bundled synthetic sample (generated; do not edit by hand)

{scenes} synthetic SAR scenes from `sarbench.build.synthetic` (seed {seed}) built into the 9
SARChat test files by `sarbench.build` (seed {seed}). Regenerate with `python -m sarbench.build.sample`.

- `SARChat_*_test.json`: the 9 subsets (JSON arrays of ms-swift records)
- `images/`: the scenes (8-bit grayscale PNG)
- `annotations.jsonl`: the scenes' exact boxes in the builder's simple JSONL format
- `build_report.json`: counts per subset and category, drops, seed, source SHA-256, versions

The images are synthetic (speckled clutter, sea/land, bright extended targets); they contain no
real SAR data.
"""


def sample_complete(folder: Path) -> bool:
    return all((folder / subset_file_name(s, "test")).is_file() for s in SUBSETS) and (folder / IMAGES_DIR).is_dir()


def regenerate(out: Path = SAMPLE_DIR, scenes: int = SAMPLE_SCENES, seed: int = SAMPLE_SEED) -> dict:
    """Write the scenes to a temporary folder, build them into `out`, keep the annotations."""
    with tempfile.TemporaryDirectory(prefix="sarbench-sample-") as tmp:
        annotations = write_scenes(Path(tmp), scenes, seed)
        report = build(BuildOptions(annotations=annotations, format="jsonl", out=out, seed=seed))
        shutil.copyfile(annotations, out / "annotations.jsonl")
    (out / "README.md").write_text(_README.format(scenes=scenes, seed=seed), encoding="utf-8")
    return report


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sarbench" / "sample_data"


def ensure_sample() -> Path:
    """The bundled sample folder, regenerated (in place, else in the user cache) when incomplete."""
    for folder in (SAMPLE_DIR, _cache_dir()):
        if sample_complete(folder):
            return folder
    for folder in (SAMPLE_DIR, _cache_dir()):
        try:
            regenerate(folder)
        except PermissionError:
            continue
        return folder
    raise PermissionError(f"cannot write the sample to {SAMPLE_DIR} or {_cache_dir()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sarbench.build.sample", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR, help=f"target folder (default {SAMPLE_DIR})")
    parser.add_argument("--scenes", type=int, default=SAMPLE_SCENES)
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = regenerate(args.out, args.scenes, args.seed)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(
        f"{report['records_total']} records, {report['images']['used']} images, "
        f"{size / 1e6:.2f} MB in {args.out} ({time.perf_counter() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

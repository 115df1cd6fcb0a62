"""Benchmark of the builder on large synthetic COCO files (no images: --link none).

    python bench/bench_build.py [--images 10000 100000] [--seed 0]

For each size it writes a SARDet-100K-like COCO file (six categories, 1-5 boxes per image,
annotations in shuffled order) into a temporary folder, runs `python -m sarbench.build` on it in a
child process, and prints records/s and the child's peak RSS. For comparison it also reports the
peak RSS of a plain `json.load` of the same file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CATEGORIES = ["ship", "aircraft", "car", "tank", "bridge", "harbor"]
SIZES = [(512, 512), (800, 800), (640, 480), (1024, 1024), (416, 323)]


def write_coco(path: Path, n_images: int, seed: int) -> int:
    """Stream a COCO file to disk (never held in memory); returns the number of boxes."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 6, size=n_images)
    sizes = rng.integers(0, len(SIZES), size=n_images)
    with open(path, "w") as handle:
        handle.write('{"info": {"description": "synthetic benchmark"}, "images": [')
        for i in range(n_images):
            width, height = SIZES[sizes[i]]
            handle.write(
                ("," if i else "")
                + json.dumps({"id": i + 1, "file_name": f"{i:07d}.png", "width": width, "height": height})
            )
        handle.write('], "annotations": [')
        image_ids = np.repeat(np.arange(1, n_images + 1), counts)
        order = rng.permutation(len(image_ids))
        widths = np.array([SIZES[s][0] for s in sizes])[image_ids - 1]
        heights = np.array([SIZES[s][1] for s in sizes])[image_ids - 1]
        w = rng.uniform(0.02, 0.3, size=len(image_ids)) * widths
        h = rng.uniform(0.02, 0.3, size=len(image_ids)) * heights
        x = rng.uniform(0, 1, size=len(image_ids)) * (widths - w)
        y = rng.uniform(0, 1, size=len(image_ids)) * (heights - h)
        categories = rng.integers(1, 7, size=len(image_ids))
        for n, k in enumerate(order):
            record = {
                "id": n + 1,
                "image_id": int(image_ids[k]),
                "category_id": int(categories[k]),
                "bbox": [round(float(x[k]), 1), round(float(y[k]), 1), round(float(w[k]), 1), round(float(h[k]), 1)],
                "area": 0,
                "iscrowd": 0,
            }
            handle.write(("," if n else "") + json.dumps(record))
        handle.write(
            '], "categories": ' + json.dumps([{"id": i + 1, "name": c} for i, c in enumerate(CATEGORIES)]) + "}"
        )
    return int(counts.sum())


def run_child(args: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in MiB, stdout) of a child Python process."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "dt = time.perf_counter() - t\n"
        "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n"
        "sys.stderr.write(p.stdout + p.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, sys.executable, *args], capture_output=True, text=True, cwd=REPO)
    seconds, rss_kib, returncode = done.stdout.split()
    if returncode != "0":
        raise SystemExit(f"child failed:\n{done.stderr}")
    return float(seconds), int(rss_kib) // 1024, done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for n_images in args.images:
        with tempfile.TemporaryDirectory(prefix="sarbench-bench-") as tmp:
            tmp = Path(tmp)
            annotations = tmp / "test.json"
            boxes = write_coco(annotations, n_images, args.seed)
            size_mb = annotations.stat().st_size / 1e6
            seconds, rss, output = run_child(
                [
                    "-m",
                    "sarbench.build",
                    "--annotations",
                    str(annotations),
                    "--format",
                    "coco",
                    "--out",
                    str(tmp / "out"),
                    "--link",
                    "none",
                ]
            )
            report = json.loads((tmp / "out" / "build_report.json").read_text())
            records = report["records_total"]
            _, load_rss, _ = run_child(["-c", f"import json; json.load(open({str(annotations)!r}))"])
            _, idle_rss, _ = run_child(["-c", "import sarbench.build.pipeline"])
        print(
            f"{n_images:>7} images, {boxes} boxes, COCO {size_mb:.1f} MB: {records} records in {seconds:.1f} s "
            f"= {records / seconds:,.0f} records/s ({n_images / seconds:,.0f} images/s); peak RSS {rss} MiB "
            f"(imports alone {idle_rss} MiB; json.load of the file alone {load_rss} MiB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

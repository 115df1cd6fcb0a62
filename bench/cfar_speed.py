"""Seconds for model=cfar on the bundled sample, on one core.

    python bench/cfar_speed.py [--repeat 3]

Pins the process to one CPU (and one BLAS/OpenMP thread), decodes the 40 sample images once, then
times the detector (conf/model/cfar.yaml) over all of them, best of --repeat, and OS-CFAR with a
small window on a few; then the whole `python -m sarbench model=cfar task=all` run (a fresh out folder, so
every sample is answered and scored) in a subprocess on the same core.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402
from PIL import Image  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model_adapters.cfar import amplitude_pixels  # noqa: E402
from model_adapters.cfar_detector import CFARParams, detect  # noqa: E402
from sarbench.build import sample_data_dir  # noqa: E402


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--os-images", type=int, default=4, help="images OS-CFAR is timed on")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    config = yaml.safe_load((REPO / "conf" / "model" / "cfar.yaml").read_text())
    params = CFARParams(**{k: v for k, v in config.items() if k in CFARParams.__dataclass_fields__})
    images = []
    for path in sorted((sample_data_dir() / "images").glob("*.png")):
        with Image.open(path) as image:
            images.append(amplitude_pixels(image))
    pixels = sum(p.size for p in images)
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {os.cpu_count()} CPUs seen, 1 used; Python {platform.python_version()}")
    print(f"{len(images)} sample images, {pixels / 1e6:.2f} Mpixel")
    seconds = best_of(args.repeat, lambda: [detect(p, params) for p in images])
    per_image = seconds / len(images) * 1e3
    print(f"CA-CFAR (conf/model/cfar.yaml): {seconds:.3f} s for all images ({per_image:.1f} ms/image)")
    # A rank filter costs O(N) per pixel: OS-CFAR at the committed window (N = 4160) takes
    # seconds per image, so it is timed on a few images with a small window.
    small = replace(params, detector="os", guard=8, train=4)
    few = images[: args.os_images]
    seconds = best_of(1, lambda: [detect(p, small) for p in few])
    mpixel = sum(p.size for p in few) / 1e6
    print(
        f"OS-CFAR guard 8 train 4 (N = {small.training_cells}), {len(few)} images: {seconds:.2f} s "
        f"({seconds / mpixel:.1f} s/Mpixel)"
    )
    with tempfile.TemporaryDirectory() as out:
        command = [
            sys.executable,
            "-m",
            "sarbench",
            "model=cfar",
            "task=all",
            f"out={out}/run",
            "runner.progress=false",
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=REPO, capture_output=True)
        seconds = time.perf_counter() - start
        print(f"python -m sarbench model=cfar task=all (320 samples, process start to scores): {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

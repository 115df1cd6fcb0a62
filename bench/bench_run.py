"""Benchmark: the run pipeline with `model=oracle` (load, prompt, batch, write, score) in samples/s.

Builds a synthetic SARChat-format test set in the paper's task proportions (N samples, a few
hundred 256-px PNGs shared between records), then times `run_from_config` end to end, once
without decoding images (`model.load_images=false`) and once decoding every image in the
background pool. Target: >= 2,000 samples/s, so the harness never limits a GPU.

    python bench/bench_run.py [--samples 20000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_score import SIZES, make_pair  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402

from sarbench.__main__ import CONF_DIR  # noqa: E402
from sarbench.evaluate import run_from_config  # noqa: E402
from sarbench.subsets import FILE_STEMS  # noqa: E402

QUESTIONS = {
    "classify": "Based on these category options (aircraft, bridge, car, harbor, ship, tank), what's visible in this scene?",  # noqa: E501
    "describe": "What do you observe in this satellite imagery?",
    "count": "[count] Count the ship in this satellite image.",
    "grounding_single": "[grounding] What objects can you identify in this SAR image and where are they located?",
    "grounding_multi": "[grounding] What objects can you identify in this SAR image and where are they located?",
    "identify_single": "[identify] What can you identify within these coordinates: {<1><2><30><40>}?",
    "identify_multi": "[identify] What can you identify within these coordinates: {<1><2><30><40>}?",
    "refer_single": "[refer] Locate 1 ship.",
    "refer_multi": "[refer] Identify 4 ship.",
}


def build(root: Path, samples: int, images: int = 200) -> None:
    rng = random.Random(0)
    noise = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    for i in range(images):
        pixels = (noise.gamma(1.0, 40.0, (256, 256))).clip(0, 255).astype("uint8")
        Image.fromarray(pixels, "L").save(root / "images" / f"{i}.png")
    total = sum(SIZES.values())
    for subset, stem in FILE_STEMS.items():
        n = max(1, round(SIZES[subset] * samples / total))
        records = []
        for _ in range(n):
            _, reference = make_pair(rng, subset)
            records.append(
                {
                    "messages": [
                        {"role": "user", "content": "<image>\n" + QUESTIONS[subset]},
                        {"role": "assistant", "content": reference},
                    ],
                    "images": [f"images/{rng.randrange(images)}.png"],
                }
            )
        (root / f"{stem}.json").write_text(json.dumps(records))


def timed_run(data: Path, out: Path, *overrides: str) -> tuple[float, int]:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        cfg = compose(
            config_name="config",
            overrides=[
                "data=built",
                f"data.root={data}",
                f"out={out}",
                "scoring.meteor=false",
                "runner.progress=false",
                "runner.batch_size=64",
                *overrides,
            ],
        )
    start = time.perf_counter()
    result = run_from_config(cfg)
    seconds = time.perf_counter() - start
    return seconds, sum(result["n"].values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        build(data, args.samples)
        for label, overrides in (
            ("no image decoding", ["model.load_images=false"]),
            ("decoding every image (4 threads)", ["model.load_images=true"]),
        ):
            import contextlib
            import io

            with contextlib.redirect_stdout(io.StringIO()):
                seconds, n = timed_run(data, Path(tmp) / label.split()[0], *overrides)
            print(f"oracle pipeline, {label}: {n} samples in {seconds:.2f} s = {n / seconds:,.0f} samples/s")


if __name__ == "__main__":
    main()

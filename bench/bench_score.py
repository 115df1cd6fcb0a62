"""Benchmark: score a synthetic paper-scale test set (226,636 samples) end to end from files.

Writes swift-infer style JSONL result files in the paper's task proportions with realistic
references and imperfect predictions (jittered/missing/extra boxes, wrong words), then runs
`python -m sarbench.score` in-process and prints samples/s. Also compares loading 1.8M
records with plain json vs `datasets`.

    python bench/bench_score.py [--scale 1.0] [--meteor] [--loader]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from metrics.benchmark import SUBSET_TABLE, Subset, subset, task

# Paper test sizes per task (PROTOCOL §1.1); the single shares are estimates (unpublished).
SINGLE_SIZES = {"grounding": 4_643, "identify": 17_557, "refer": 5_852}


def _subset_size(entry: Subset) -> int:
    paper = task(entry.task).paper_test_size
    if entry.arity is None:
        return paper
    single = SINGLE_SIZES[entry.task]
    return single if entry.arity == "single" else paper - single


SIZES = {s.name: _subset_size(s) for s in SUBSET_TABLE}
CATEGORIES = ["ship", "aircraft", "car", "tank", "bridge", "harbor"]
CELLS = [f"{r} {c}" for r in ("top", "middle", "bottom") for c in ("left", "center", "right")]
SIZE_WORDS = ["very small", "small", "medium-sized", "large", "very large"]
SHAPES = ["wide", "approximately square", "tall"]


def random_box(rng: random.Random, w=512, h=512):
    x1, y1 = rng.randint(0, w - 40), rng.randint(0, h - 40)
    return [x1, y1, x1 + rng.randint(8, 39), y1 + rng.randint(8, 39)]


def jitter(rng, box):
    return [v + rng.randint(-6, 6) for v in box]


def fmt(box):
    return "{<%d><%d><%d><%d>}" % tuple(box)


def noisy_boxes(rng, boxes):
    out = [jitter(rng, b) for b in boxes if rng.random() > 0.15]
    if rng.random() < 0.2:
        out.append(random_box(rng))
    return out


def make_pair(rng: random.Random, subset_name: str) -> tuple[str, str]:
    cat = rng.choice(CATEGORIES)
    entry = subset(subset_name)
    boxes = [random_box(rng) for _ in range(1 if entry.arity == "single" else rng.randint(2, 6))]
    kind = entry.task
    if kind == "classify":
        ref = f"It is {cat}."
        return (ref if rng.random() < 0.9 else f"It is {rng.choice(CATEGORIES)}."), ref
    if kind == "describe":
        sentences = [
            f"A {rng.choice(SIZE_WORDS)} {cat} is visible in the {rng.choice(CELLS)} portion of the image"
            for _ in range(rng.randint(1, 4))
        ]
        ref = "In this satellite image, we can observe the following: " + " ".join(sentences) + "."
        pred = (
            "In this satellite image, we can observe the following: "
            + " ".join(sentences[: rng.randint(1, len(sentences))])
            + "."
        )
        return pred, ref
    if kind == "count":
        ref = f"There are {len(boxes)} instances. " + "".join(fmt(b) for b in boxes)
        pred_boxes = noisy_boxes(rng, boxes)
        return f"There are {len(pred_boxes)} instances. " + "".join(fmt(b) for b in pred_boxes), ref
    if kind == "grounding":

        def text(bs):
            parts = ", ".join(f"one in the {rng.choice(CELLS)} portion {fmt(b)}" for b in bs)
            rel = f" The {cat} is far from the {rng.choice(CATEGORIES)}." if rng.random() < 0.3 else ""
            return (
                f"In this SAR image, I can identify several objects and their locations: There are "
                f"{len(bs)} {cat}s: {parts}.{rel}"
            )

        return text(noisy_boxes(rng, boxes)), text(boxes)
    if kind == "identify":
        ref = (
            f"This is a {rng.choice(SIZE_WORDS)} {cat} located in the {rng.choice(CELLS)} portion "
            f"of the image. It appears to be {rng.choice(SHAPES)} in shape."
        )
        pred = ref if rng.random() < 0.95 else ref.replace(cat, rng.choice(CATEGORIES))
        return pred, ref
    ref = "".join(f"{fmt(b)} ({rng.choice(CELLS)})" for b in boxes)
    return "".join(f"{fmt(b)} ({rng.choice(CELLS)})" for b in noisy_boxes(rng, boxes)), ref


def write_results(directory: Path, scale: float, seed: int = 0) -> int:
    rng = random.Random(seed)
    total = 0
    for name, size in SIZES.items():
        n = max(1, round(size * scale))
        with open(directory / f"{name}.jsonl", "w") as handle:
            for i in range(n):
                pred, ref = make_pair(rng, name)
                handle.write(json.dumps({"response": pred, "labels": ref, "images": [f"img/{i}.png"]}) + "\n")
        total += n
    return total


def bench_score(scale: float, meteor: bool) -> None:
    from sarbench.score import main

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        n = write_results(directory, scale)
        args = [str(directory), "--out", str(directory / "metrics.json"), "--quiet"]
        if not meteor:
            args.append("--no-meteor")
        start = time.perf_counter()
        assert main(args) == 0
        seconds = time.perf_counter() - start
        metrics = json.loads((directory / "metrics.json").read_text())["metrics"]
    print(
        f"score {n} samples (meteor={'on' if meteor else 'off'}): {seconds:.2f} s, "
        f"{n / seconds:,.0f} samples/s; avg_paper={metrics['avg_paper']:.2f}"
    )


def bench_loader(n: int = 1_836_912) -> None:
    record = {
        "messages": [
            {"role": "user", "content": "<image>\n[refer] Locate 1 aircraft."},
            {"role": "assistant", "content": "{<393><426><470><494>} (bottom right)"},
        ],
        "images": ["images/0001.png"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.json"
        path.write_text(json.dumps([record] * n))
        start = time.perf_counter()
        with open(path, "rb") as handle:
            records = json.load(handle)
        json_s = time.perf_counter() - start
        print(f"json.load {len(records):,} records: {json_s:.2f} s")
        del records
        try:
            import datasets
        except ImportError:
            print("datasets not installed; skipped")
            return
        datasets.disable_progress_bars()
        start = time.perf_counter()
        ds = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(Path(tmp) / "cache"))
        rows = ds.to_list()
        ds_s = time.perf_counter() - start
        print(f"datasets.load_dataset + to_list {len(rows):,} records: {ds_s:.2f} s ({ds_s / json_s:.1f}x json)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--meteor", action="store_true")
    parser.add_argument("--loader", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    bench_score(args.scale, args.meteor)
    if args.loader:
        bench_loader()

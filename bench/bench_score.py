"""Benchmark: score a synthetic paper-scale test set (226,636 samples) end to end from files.

Writes swift-infer style JSONL result files in the paper's task proportions with realistic
references and imperfect predictions (jittered/missing/extra boxes, wrong words), then runs
`python -m sarbench.score DIR --no-meteor` end to end in a child process (start-up included)
with each --workers count, printing wall and CPU time (user + sys of all its processes) and
whether metrics.json is the same for every count. --meteor also times Java METEOR alone on the
descriptions (it runs in a thread beside the rest when scoring). --loader compares loading 1.8M
records with plain json vs `datasets`.

    python bench/bench_score.py [--scale 1.0] [--workers 1 2] [--data DIR] [--meteor] [--loader]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
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


REPO = Path(__file__).resolve().parent.parent
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


def run_score(directory: Path, out: Path, *args: str) -> tuple[float, float]:
    """(wall, CPU) of `python -m sarbench.score DIR --quiet --out OUT *args` in a child process
    (interpreter start and imports included); CPU is user + sys of it and its worker processes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, "-m", "sarbench.score", str(directory), "--quiet", "--out", str(out), *args]
    subprocess.run(command, check=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def meteor_seconds(directory: Path) -> tuple[float, int]:
    """Java METEOR alone on the describe file's pairs, tokenised as the scorer does: (wall, pairs)."""
    from metrics.captions import meteor_score, meteor_unavailable_reason, tokenize_pairs

    reason = meteor_unavailable_reason()
    if reason is not None:
        raise SystemExit(f"METEOR cannot run: {reason}")
    rows = [json.loads(line) for line in (directory / "describe.jsonl").read_text().splitlines()]
    hyps, refs = tokenize_pairs([r["response"] for r in rows], [r["labels"] for r in rows])
    start = time.perf_counter()
    meteor_score(hyps, refs)
    return time.perf_counter() - start, len(rows)


def bench_score(directory: Path, workers: list[int], meteor: bool) -> None:
    n = sum(1 for path in directory.glob("*.jsonl") for _ in open(path))
    print(f"machine: {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}")
    outputs = []
    for count in workers:
        out = directory / "out" / f"metrics-{count}.json"
        wall, cpu = run_score(directory, out, "--no-meteor", "--workers", str(count))
        outputs.append(out.read_bytes())
        avg_paper = json.loads(outputs[-1])["metrics"]["avg_paper"]
        print(
            f"score {n} samples end to end, no METEOR, --workers {count}: {wall:.2f} s wall, {cpu:.2f} s CPU "
            f"(user+sys, all processes), {n / wall:,.0f} samples/s; avg_paper={avg_paper:.4f}; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
    print(f"metrics.json identical for every worker count: {len(set(outputs)) == 1}")
    if meteor:
        seconds, pairs = meteor_seconds(directory)
        print(f"METEOR alone (Java, {pairs} descriptions): {seconds:.2f} s wall (runs beside the rest when scoring)")


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
    parser.add_argument("--meteor", action="store_true", help="also time Java METEOR alone")
    parser.add_argument("--loader", action="store_true")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--data", type=Path, help="result files to reuse (written there when missing)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        if not (data / "describe.jsonl").exists():
            write_results(data, args.scale)
        bench_score(data, args.workers, args.meteor)
    if args.loader:
        bench_loader()

"""Benchmark: samples/s of one run split into 1, 2 and 4 shards started at once (sarbench/shards.py).

Each shard is its own `python -m sarbench` process (as scripts/shard_local.sh starts them); the
wall time runs from the first start to the last exit, so process start-up, model loading and the
last shard's scoring of the union are included. Scaling efficiency = (samples/s with N shards) /
(N x samples/s with one). Two models: the oracle (the harness alone) and the tiny random-weight
Qwen2-VL on CPU (real generation; `model_adapters/tiny`).

    python bench/bench_shards.py [--oracle-samples 4000] [--tiny-limit 6] [--shards 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import build  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def sharded_run(n: int, out: Path, overrides: list[str]) -> float:
    """Seconds from starting n shard processes to the last one's exit."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    start = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "sarbench", *overrides, f"out={out}", f"runner.num_shards={n}", f"runner.shard={k}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(n)
    ]
    for process in processes:
        _, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"shard failed: {err[-2000:]}")
    seconds = time.perf_counter() - start
    if not (out / "metrics.json").is_file():
        raise SystemExit(f"{out}: no metrics.json after all shards")
    return seconds


def measure(name: str, counts: list[int], root: Path, overrides: list[str]) -> list[dict]:
    rows = []
    for n in counts:
        out = root / f"{name}-{n}"
        seconds = sharded_run(n, out, overrides)
        samples = sum(json.loads((out / "metrics.json").read_text())["n"].values())
        rows.append({"model": name, "shards": n, "samples": samples, "seconds": round(seconds, 2)})
        rows[-1]["samples_per_s"] = round(samples / seconds, 2)
        base = rows[0]["samples_per_s"] * n
        rows[-1]["efficiency"] = round(rows[-1]["samples_per_s"] / base, 2)
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--oracle-samples", type=int, default=4000)
    parser.add_argument("--tiny-limit", type=int, default=6, help="runner.limit for the tiny model (per subset)")
    parser.add_argument("--shards", default="1,2,4")
    args = parser.parse_args()
    counts = [int(n) for n in args.shards.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root / "data", args.oracle_samples)
        common = ["data=built", f"data.root={root / 'data'}", "scoring.meteor=false", "runner.progress=false"]
        measure("oracle", counts, root, ["model=oracle", *common])
        tiny = [
            "model=tiny-qwen2vl",
            f"model.tiny.cache_dir={root / 'tiny'}",
            f"runner.limit={args.tiny_limit}",
            "task.max_new_tokens=16",
            "runner.batch_size=4",
        ]
        sharded_run(1, root / "warm-up", [*tiny, *common])  # builds the tiny checkpoint once
        measure("tiny-qwen2vl", counts, root, [*tiny, *common])
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()

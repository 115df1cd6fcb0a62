"""Benchmark: backend=hf throughput on the tiny Qwen2-VL on CPU, batch 1 vs batch 8.

Fixed-length greedy generation (min_new_tokens = max_new_tokens) on SARChat-like questions and
512-px images, samples ordered by the adapter's batch_order_key as the runner does; checks that
both batch sizes give identical responses, prints the figures and (with --record) appends them
to bench/RESULTS.md.

    python bench/bench_hf_batch.py [--samples 64] [--tokens 32] [--threads 1] [--record]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUESTIONS = [
    "[count] Count the ship in this satellite image.",
    "[refer] Identify 4 ship.",
    "What do you observe in this satellite imagery?",
    "[grounding] What objects can you identify in this SAR image and where are they located?",
    "[identify] What can you identify within these coordinates: {<294><358><329><427>}?",
]


def requests(n: int, tokens: int):
    import numpy as np
    from PIL import Image

    from model_adapters import GenerationRequest

    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        pixels = rng.integers(0, 255, size=(512, 512), dtype=np.uint8)
        out.append(
            GenerationRequest(
                f"bench/{i}", "count", QUESTIONS[i % len(QUESTIONS)], "", Image.fromarray(pixels, mode="L"), tokens
            )
        )
    return sorted(out, key=lambda r: len(r.prompt))  # the runner's batch_order_key at equal image size


def run(adapter, reqs, batch: int) -> tuple[list[str], float]:
    start = time.perf_counter()
    responses = []
    for i in range(0, len(reqs), batch):
        responses += adapter.generate(reqs[i : i + batch])
    return responses, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()

    import torch
    import transformers
    from omegaconf import OmegaConf

    from model_adapters import build_model

    torch.set_num_threads(args.threads)
    cache = Path(tempfile.mkdtemp(prefix="sarbench-bench-tiny-"))
    base = OmegaConf.to_container(
        OmegaConf.load(Path(__file__).resolve().parents[1] / "conf" / "model_base" / "checkpoint.yaml")
    )
    adapter = build_model(
        {
            **base,
            "name": "tiny-qwen2vl",
            "family": "qwen2_vl",
            "dtype": "float32",
            "device": "cpu",
            "tiny": {"builder": "qwen2_vl", "cache_dir": str(cache)},
            "min_new_tokens": args.tokens,
        },
        "hf",
    )
    reqs = requests(args.samples, args.tokens)
    run(adapter, reqs[:8], 8)  # warm-up
    one, t1 = run(adapter, reqs, 1)
    eight, t8 = run(adapter, reqs, 8)
    assert one == eight, "batch 8 responses differ from batch 1"
    s1, s8 = len(reqs) / t1, len(reqs) / t8
    lines = [
        f"| tiny Qwen2-VL (fp32, {args.threads} torch thread{'s' * (args.threads != 1)}) | {len(reqs)} | {args.tokens} | "  # noqa: E501
        f"{s1:.1f} | {s8:.1f} | {s8 / s1:.1f}x | identical |"
    ]
    print(
        f"batch 1: {t1:.2f} s, {s1:.1f} samples/s; batch 8: {t8:.2f} s, {s8:.1f} samples/s; "
        f"speed-up {s8 / s1:.1f}x; responses identical: {one == eight}"
    )
    if args.record:
        results = Path(__file__).with_name("RESULTS.md")
        text = results.read_text() if results.exists() else ""
        header = "\n## HF backend (P4)\n"
        if header not in text:
            text += (
                f"{header}\n`python bench/bench_hf_batch.py --record` — tiny random-weight Qwen2-VL "
                "(2 layers, 32 hidden; 512-px images -> 16 image tokens) built offline, greedy "
                "fixed-length generation (min_new_tokens = max_new_tokens), samples in the runner's "
                f"batch order. Machine: {os.cpu_count()}-core {platform.machine()} CPU (shared dev box), "
                f"Python {platform.python_version()}, torch {torch.__version__}, transformers "
                f"{transformers.__version__}.\n\n| model | samples | new tokens | batch 1 samples/s | "
                "batch 8 samples/s | speed-up | responses |\n|---|---:|---:|---:|---:|---:|---|\n"
            )
        results.write_text(insert_rows(text, header, lines))


def insert_rows(text: str, header: str, rows: list[str]) -> str:
    """Add rows at the end of the section's table (the section may be followed by others)."""
    start = text.index(header)
    end = text.find("\n## ", start + len(header))
    end = len(text) if end < 0 else end
    section = text[start:end].split("\n")
    last = max(i for i, line in enumerate(section) if line.startswith("|"))
    section[last + 1 : last + 1] = rows
    return text[:start] + "\n".join(section) + text[end:]


if __name__ == "__main__":
    main()

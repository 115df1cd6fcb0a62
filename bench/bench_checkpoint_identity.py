"""Time `sarbench.identity.checkpoint_identity` on a fake 15 GB checkpoint (sparse files).

    python bench/bench_checkpoint_identity.py [--folder DIR]

The layout mimics a 7B VLM saved in shards: 4 x 3.75 GB safetensors, the weight index, config,
generation config, tokenizer (7 MB tokenizer.json, so above the hashed-file size), processor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sarbench.identity import checkpoint_identity

SHARD = 3_750_000_000
SMALL = {
    "config.json": 4_000,
    "generation_config.json": 300,
    "model.safetensors.index.json": 60_000,
    "tokenizer_config.json": 5_000,
    "tokenizer.json": 7_000_000,
    "vocab.json": 900_000,
    "merges.txt": 500_000,
    "preprocessor_config.json": 600,
    "chat_template.jinja": 1_000,
}


def make_layout(folder: Path) -> int:
    total = 0
    for i in range(1, 5):
        path = folder / f"model-{i:05d}-of-00004.safetensors"
        path.touch()
        os.truncate(path, SHARD)  # sparse: no blocks written
        total += SHARD
    for name, size in SMALL.items():
        (folder / name).write_bytes(b"x" * size)
        total += size
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or Path(scratch)
        total = make_layout(folder)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            identity = checkpoint_identity(str(folder))
            times.append(time.perf_counter() - start)
        hashed = sum("sha256" in entry for entry in identity["files"].values())
        print(
            f"{len(identity['files'])} files, {total / 1e9:.1f} GB, {hashed} hashed: "
            f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms (5 runs)"
        )


if __name__ == "__main__":
    main()

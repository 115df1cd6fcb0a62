"""Time `sarbench.compare` on a full-size pair of runs (226,636 samples on ~30k images, B=1000).

    .venv/bin/python bench/bench_compare.py [--images 30000] [--bootstrap 1000] [--keep DIR]

Writes two synthetic run folders (details.jsonl with realistic line sizes + manifest.json),
then prints seconds for loading, for the bootstrap alone, and for the whole comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrics.benchmark import SUBSET_TABLE, TASK_TABLE, subset  # noqa: E402
from sarbench.compare import compare_runs  # noqa: E402
from sarbench.reports.bootstrap import cluster_sums, paired_bootstrap  # noqa: E402
from sarbench.reports.details import align, cluster_index, load_samples  # noqa: E402


def _even_split(total: int, parts: int) -> list[int]:
    """`total` in `parts` near-equal sizes, the larger ones last (11,703 -> 5,851 + 5,852)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i >= parts - extra else 0) for i in range(parts)]


# Paper test sizes (PROTOCOL §1.1); single/multi splits are unpublished, so halves.
SIZES = {
    name: size for t in TASK_TABLE for name, size in zip(t.subsets, _even_split(t.paper_test_size, len(t.subsets)))
}
METRICS = {s.name: list(s.metrics) for s in SUBSET_TABLE}
RESPONSE = "There are 4 instances. {<294><358><329><427>}{<61><448><122><503>}{<27><199><78><261>}"


def write_run(folder: Path, skill: float, n_images: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    lines = []
    for name, size in SIZES.items():
        images = rng.integers(0, n_images, size)
        for index in range(size):
            counts = {}
            for metric in METRICS[name]:
                if metric == subset(name).relation_metric and index % 3:
                    continue
                reference = int(rng.integers(1, 5))
                tp = int(rng.binomial(reference, skill))
                counts[metric] = {"tp": tp, "fp": int(rng.integers(0, 2)), "fn": reference - tp}
            row = {
                "id": f"{name}/{index}",
                "subset": name,
                "parse_fail": bool(rng.random() < 0.02),
                "counts": counts,
                "prediction": {"boxes": [[294.0, 358.0, 329.0, 427.0]] * 3, "count": 4},
                "reference": {"boxes": [[294.0, 358.0, 329.0, 427.0]] * 4, "count": 4},
                "response": RESPONSE,
                "labels": f"reference {name} {index}",
                "image": f"/data/sarchat/images/test/{images[index]:06d}.png",
            }
            if subset(name).states_count:
                error = int(rng.poisson(1 - skill))
                row["count_error"], row["count_exact"] = error, error == 0
            lines.append(json.dumps(row))
    (folder / "details.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "manifest.json").write_text(json.dumps({"data_sha256": {"test.json": "0" * 64}}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=30_000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="write the runs here instead of a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = args.keep or Path(temp)
        a, b = root / "run_a", root / "run_b"
        if not (a / "details.jsonl").exists():
            start = time.perf_counter()
            write_run(a, 0.70, args.images, 1)
            write_run(b, 0.71, args.images, 2)
            print(f"wrote 2 x {sum(SIZES.values())} samples in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        samples_a, samples_b = load_samples(a), load_samples(b)
        load = time.perf_counter() - start
        start = time.perf_counter()
        aligned = align(samples_a, samples_b)
        clusters, n_clusters = cluster_index(samples_a)
        sums = cluster_sums(samples_a, aligned, clusters, n_clusters)
        prepare = time.perf_counter() - start
        start = time.perf_counter()
        paired_bootstrap(sums, args.bootstrap, 0)
        bootstrap = time.perf_counter() - start
        start = time.perf_counter()
        compare_runs([a, b], replicates=args.bootstrap)
        total = time.perf_counter() - start
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, "
        f"python {platform.python_version()}"
    )
    print(f"samples {len(samples_a.ids)}, clusters {n_clusters}, B={args.bootstrap}")
    print(
        f"load 2 details.jsonl: {load:.2f} s; align + per-image sums: {prepare:.2f} s; "
        f"bootstrap: {bootstrap:.2f} s; whole compare (load, checks, bootstrap, McNemar, "
        f"disagreements): {total:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

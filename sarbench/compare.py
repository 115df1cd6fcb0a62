"""`python -m sarbench.compare RUN_A RUN_B [RUN_C ...] [--bootstrap 1000] [--seed 0]
[--alpha 0.05] [--top 20] [--common] [--format md|json] [--out FILE]`.

Is run B better than run A, beyond sampling noise? For every score: B − A with a paired
bootstrap CI over images (all samples of one image are resampled together, the same draw for
both runs); McNemar's exact test on per-sample hits; the samples where the runs disagree most.
With more than two runs, each is compared against the first. Runs must be on the same data;
with --common, runs over different subsets or limits are compared on the samples both scored.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from metrics.aggregate import CAPTION_METRICS, TABLE3_COLUMNS
from sarbench.failures import failure_text
from sarbench.plot import write_forest
from sarbench.reports.bootstrap import cluster_sums, paired_bootstrap
from sarbench.reports.columns import column
from sarbench.reports.compare_render import to_json, to_markdown
from sarbench.reports.details import (
    CompareError,
    RunSamples,
    align,
    cluster_index,
    common_samples,
    data_differences,
    fill_responses_from_predictions,
    load_samples,
    read_manifest,
)
from sarbench.reports.paired import differing_samples, disagreements, mcnemar_tests
from sarbench.reports.runs import run_name
from sarbench.run_folder import NewerSchemaError, RunFolderError, read_metrics
from sarbench.run_settings import RunError
from sarbench.shards import refuse_partial
from sarbench.subsets import TASKS

BETTER, WORSE, SAME = "better", "worse", "no significant difference"
_ORDER = (
    ["avg", "avg_paper"]
    + [f"task.{t}" for t in TASKS]
    + list(TABLE3_COLUMNS)
    + ["count.mae", "count.rmse", "count.within1"]
)


def verdict(low: float, high: float, lower_is_better: bool) -> str:
    """B vs A: significant when the CI of B − A excludes 0; the sign decides better/worse."""
    if math.isnan(low) or math.isnan(high):
        return "n/a"
    if low > 0:
        return WORSE if lower_is_better else BETTER
    if high < 0:
        return BETTER if lower_is_better else WORSE
    return SAME


def _metrics_json(folder: Path) -> dict:
    """The run's metrics.json, or {} when absent or unreadable (it only cross-checks details)."""
    try:
        return read_metrics(folder / "metrics.json")
    except RunFolderError as exc:
        if isinstance(exc, NewerSchemaError):
            raise CompareError(str(exc)) from None
        return {}


def check_same_data(path_a: Path, path_b: Path, common: bool = False) -> str:
    manifest_a, manifest_b = read_manifest(path_a), read_manifest(path_b)
    if manifest_a is None or manifest_b is None:
        missing = path_a if manifest_a is None else path_b
        return f"no manifest.json in {missing}: checked sample ids and reference answers only"
    conflicts, only = data_differences(manifest_a, manifest_b)
    alone = "; ".join(f"{len(names)} only in {side} ({', '.join(names)})" for side, names in only.items() if names)
    if common and not conflicts:
        if alone:
            return (
                f"same data_sha256 for the data files both runs read (files {alone}), same sample "
                "ids and reference answers on the samples compared"
            )
    elif conflicts:
        listed = "; ".join(conflicts + ([f"files {alone}"] if alone else []))
        raise CompareError(f"{path_a} and {path_b} were run on different data (manifest.json data_sha256): {listed}")
    elif alone:
        raise CompareError(
            f"{path_a} and {path_b} ran different task sets (data files {alone}); the data files both "
            "read are the same; --common compares the samples both scored"
        )
    return "same data_sha256 in both manifests, same sample ids and reference answers"


def _score_rows(boot, alpha: float) -> list[dict]:
    names = [m for m in _ORDER if m in boot.point] + sorted(set(boot.point) - set(_ORDER))
    rows = []
    for metric in names:
        a, b = boot.point[metric]
        if math.isnan(a) and math.isnan(b):
            continue
        reps_a, reps_b = boot.replicates[metric]
        delta = reps_b - reps_a
        defined = delta[~np.isnan(delta)]
        if defined.size:
            low, high = np.percentile(defined, [50 * alpha, 100 - 50 * alpha])
        else:
            low = high = math.nan
        lower_is_better = column(metric).lower_is_better
        rows.append(
            {
                "metric": metric,
                "a": a,
                "b": b,
                "delta": b - a,
                "ci_low": float(low),
                "ci_high": float(high),
                "lower_is_better": lower_is_better,
                "verdict": verdict(float(low), float(high), lower_is_better),
                "replicates_defined": int(defined.size),
            }
        )
    return rows


def _caption_rows(metrics_a: dict, metrics_b: dict) -> list[dict]:
    rows = []
    for name in CAPTION_METRICS:
        a, b = metrics_a.get(f"describe.{name}"), metrics_b.get(f"describe.{name}")
        if a is None and b is None:
            continue
        delta = None if a is None or b is None else b - a
        rows.append(
            {"metric": f"describe.{name}", "a": a, "b": b, "delta": delta, "verdict": "n/a (corpus-level: no CI)"}
        )
    return rows


def _consistency_warnings(boot, metrics: dict, label: str) -> list[str]:
    side = 0 if label == "A" else 1
    stale = sorted(
        m
        for m, values in boot.point.items()
        if isinstance(metrics.get(m), (int, float))
        and not math.isnan(values[side])
        and abs(metrics[m] - values[side]) > 1e-6
    )
    if not stale:
        return []
    return [
        f"run {label}: details.jsonl and metrics.json disagree on {', '.join(stale[:5])}"
        " (re-scored since?); the comparison uses details.jsonl"
    ]


def _failure_lines(result_a: dict, result_b: dict) -> list[tuple[str, str]]:
    """Runs whose scores include inference failures (empty answers, not the model's)."""
    return [(label, text) for label, result in (("A", result_a), ("B", result_b)) if (text := failure_text(result))]


def compare_pair(
    path_a: Path,
    path_b: Path,
    a: RunSamples,
    *,
    replicates: int,
    seed: int,
    alpha: float,
    top: int,
    common: bool = False,
) -> dict:
    data_check = check_same_data(path_a, path_b, common)
    b = load_samples(path_b)
    only_a = only_b = 0
    if common:
        a, b, only_a, only_b = common_samples(a, b)
    b = align(a, b)
    clusters, n_clusters = cluster_index(a)
    boot = paired_bootstrap(cluster_sums(a, b, clusters, n_clusters), replicates, seed)
    result_a, result_b = _metrics_json(a.folder), _metrics_json(b.folder)
    tests = mcnemar_tests(a, b)
    worst = disagreements(a, b, top)
    fill_responses_from_predictions(a.folder, worst, "a_response")
    fill_responses_from_predictions(b.folder, worst, "b_response")
    with_image = sum(1 for image in a.images if image)
    return {
        "a": {"name": run_name(result_a, a.folder, []), "folder": str(a.folder)},
        "b": {"name": run_name(result_b, b.folder, []), "folder": str(b.folder)},
        "samples": len(a.ids),
        "differing": differing_samples(a, b),
        "top": top,
        "clusters": n_clusters,
        "cluster_key": "image" if with_image == len(a.ids) else f"image ({with_image} samples), else sample id",
        "bootstrap": replicates,
        "seed": seed,
        "alpha": alpha,
        "data_check": data_check,
        "verdict_by": "bootstrap CI",
        "scores": _score_rows(boot, alpha),
        "left_out": {"only_a": only_a, "only_b": only_b},
        "captions": (
            _caption_rows(result_a.get("metrics", {}), result_b.get("metrics", {})) if not (only_a or only_b) else []
        ),
        "mcnemar": [
            {**vars(t), "verdict": (SAME if t.p_value >= alpha else BETTER if t.b_only > t.a_only else WORSE)}
            for t in tests
        ],
        "disagreements": worst,
        "warnings": (
            []
            if only_a or only_b
            else _consistency_warnings(boot, result_a.get("metrics", {}), "A")
            + _consistency_warnings(boot, result_b.get("metrics", {}), "B")
        )
        + [f"run {label}: {text}" for label, text in _failure_lines(result_a, result_b)],
    }


def compare_runs(
    paths: list[Path],
    *,
    replicates: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    top: int = 20,
    common: bool = False,
) -> list[dict]:
    baseline = load_samples(paths[0])
    return [
        compare_pair(paths[0], other, baseline, replicates=replicates, seed=seed, alpha=alpha, top=top, common=common)
        for other in paths[1:]
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sarbench.compare",
        description="Paired comparison of runs on the same data: B − A per score with bootstrap "
        "CIs over images, McNemar tests, and the samples that differ most.",
    )
    parser.add_argument(
        "runs",
        nargs="+",
        type=Path,
        metavar="RUN",
        help="run folders (with details.jsonl); each is compared with the first",
    )
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="B", help="replicates")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=0.05, help="1 − CI level; test level")
    parser.add_argument("--top", type=int, default=20, help="disagreeing samples to list")
    parser.add_argument(
        "--common",
        action="store_true",
        help="compare on the samples both runs scored (runs over different tasks "
        "or runner.limit); caption metrics, corpus-level, are then left out",
    )
    parser.add_argument(
        "--format", choices=("md", "json"), default=None, help="default: json if --out ends in .json, else md"
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="FILE",
        help="forest plot of the deltas with their CIs (.png, .pdf or .svg); default with --out: "
        "<out>_forest.png and .pdf beside it (one per compared run: _forest_2, ... after the first)",
    )
    return parser


def forest_paths(args: argparse.Namespace, count: int) -> list[list[Path]]:
    """Where each comparison's forest plot goes: --plot, else beside --out, else nowhere."""
    if args.plot is not None:
        base, suffixes = args.plot.with_suffix(""), [args.plot.suffix or ".png"]
    elif args.out is not None:
        base, suffixes = args.out.with_name(args.out.stem + "_forest"), [".png", ".pdf"]
    else:
        return [[] for _ in range(count)]
    names = [base if k == 0 else base.with_name(f"{base.name}_{k + 1}") for k in range(count)]
    return [[name.with_name(name.name + suffix) for suffix in suffixes] for name in names]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if len(args.runs) < 2:
        parser.error("give at least two runs (RUN_A RUN_B)")
    if args.bootstrap < 1 or not 0 < args.alpha < 1:
        parser.error("--bootstrap must be ≥ 1 and --alpha in (0, 1)")
    for run in args.runs:
        try:
            refuse_partial(run)  # a sharded run is compared once all its shards are done
        except RunError as exc:
            raise SystemExit(f"error: {exc}") from None
    comparisons = compare_runs(
        args.runs, replicates=args.bootstrap, seed=args.seed, alpha=args.alpha, top=args.top, common=args.common
    )
    fmt = args.format or ("json" if args.out and args.out.suffix == ".json" else "md")
    text = to_json(comparisons) if fmt == "json" else to_markdown(comparisons)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    for comparison, paths in zip(comparisons, forest_paths(args, len(comparisons))):
        for path in paths:
            print(f"forest plot: {write_forest(comparison, path)}", file=sys.stderr)
        for warning in comparison["warnings"]:
            print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Paired cluster bootstrap of every score that is a function of per-sample sums.

Every score of PROTOCOL §4 except the corpus-level caption metrics is a ratio of sums over
samples (pooled TP / (TP+FP+FN), exact counts / N, Σ|error| / N, ...), so resampling images
only needs each image's sums: a replicate is (multiplicity of each image) @ (per-image sums).
Both runs get the same multiplicities (paired); the scores are then recomputed exactly as the
scorer pools them, including task scores and avg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics.aggregate import task_score_arrays
from metrics.benchmark import COUNT_ERROR_METRICS, EXACT_COUNT_METRIC, SUBSET_TABLE
from sarbench.reports.details import RunSamples

RUNS = ("A", "B")
_CELLS_PER_CHUNK = 4_000_000  # replicates x images per multiplicity matrix (~32 MB)


class ClusterSums:
    """Per-cluster sums of named per-sample columns, stacked into one (clusters x K) matrix."""

    def __init__(self, clusters: np.ndarray, n_clusters: int) -> None:
        self.clusters, self.n_clusters = clusters, n_clusters
        self.names: dict[str, int] = {}
        self.columns: list[np.ndarray] = []

    def add(self, name: str, per_sample) -> None:
        weights = np.asarray(per_sample, dtype=np.float64)
        self.names[name] = len(self.columns)
        self.columns.append(np.bincount(self.clusters, weights=weights, minlength=self.n_clusters))

    def matrix(self) -> np.ndarray:
        return np.column_stack(self.columns)


def cluster_sums(a: RunSamples, b: RunSamples, clusters: np.ndarray, n_clusters: int) -> ClusterSums:
    sums = ClusterSums(clusters, n_clusters)
    for metric in sorted(a.carries):
        sums.add(f"n|{metric}", a.carries[metric])
        for run, samples in zip(RUNS, (a, b)):
            counts = samples.counts[metric]
            sums.add(f"tp|{run}|{metric}", counts[:, 0])
            sums.add(f"den|{run}|{metric}", counts.sum(axis=1))
    for subset in SUBSET_TABLE:
        in_subset = a.subsets == subset.name
        if not in_subset.any():
            continue
        sums.add(f"n|{subset.name}", in_subset)
        for run, samples in zip(RUNS, (a, b)):
            sums.add(f"pf|{run}|{subset.name}", samples.parse_fail & in_subset)
            if subset.states_count:
                error = np.where(in_subset, samples.count_error, 0.0)
                sums.add(f"exact|{run}|{subset.name}", samples.count_exact & in_subset)
                sums.add(f"err|{run}|{subset.name}", error)
                sums.add(f"err2|{run}|{subset.name}", error * error)
                sums.add(f"within1|{run}|{subset.name}", in_subset & (error <= 1))
    return sums


def _count_scores(sums: dict[str, np.ndarray], run: str, counted: list[str]) -> dict[str, np.ndarray]:
    """count.only and the count errors over the subsets whose answers state a number."""

    def total(kind: str) -> np.ndarray:
        return sum(sums[f"{kind}|{run}|{name}"] for name in counted)

    n = sum(sums[f"n|{name}"] for name in counted)
    safe = np.where(n > 0, n, 1.0)
    mae, rmse, within1 = COUNT_ERROR_METRICS
    return {
        EXACT_COUNT_METRIC: _ratio(total("exact"), n, n),
        mae: np.where(n > 0, total("err") / safe, np.nan),
        rmse: np.sqrt(np.where(n > 0, total("err2") / safe, np.nan)),
        within1: _ratio(total("within1"), n, n),
    }


def _ratio(numerator, denominator, n, empty_value=100.0):
    """100·num/den; `empty_value` where den is 0, NaN where no sample carries the score."""
    safe = np.where(denominator > 0, denominator, 1.0)
    value = np.where(denominator > 0, 100.0 * numerator / safe, empty_value)
    return np.where(n > 0, value, np.nan)


def scores(sums: dict[str, np.ndarray], run: str) -> dict[str, np.ndarray]:
    """Every derivable score of one run from (replicates,) arrays of summed columns."""
    out: dict[str, np.ndarray] = {}
    for name in sums:
        if name.startswith(f"tp|{run}|"):
            metric = name.split("|", 2)[2]
            out[metric] = _ratio(sums[name], sums[f"den|{run}|{metric}"], sums[f"n|{metric}"])
    sizes = {s.name: sums[f"n|{s.name}"] for s in SUBSET_TABLE if f"n|{s.name}" in sums}
    counted = [s.name for s in SUBSET_TABLE if s.states_count and s.name in sizes]
    if counted:
        out.update(_count_scores(sums, run, counted))
    for name, n in sizes.items():
        out[f"{name}.parse_fail"] = _ratio(sums[f"pf|{run}|{name}"], n, n)
    out.update(task_score_arrays(out, sizes))
    return out


@dataclass
class Bootstrap:
    point: dict[str, tuple[float, float]]  # score -> (A, B) on the data as scored
    replicates: dict[str, tuple[np.ndarray, np.ndarray]]  # score -> (A, B) per replicate
    n_clusters: int


def multiplicities(rng: np.random.Generator, replicates: int, n_clusters: int):
    """(replicates x clusters) draw counts of a with-replacement resample, in chunks."""
    chunk = max(1, _CELLS_PER_CHUNK // n_clusters)
    for start in range(0, replicates, chunk):
        rows = min(chunk, replicates - start)
        picks = rng.integers(0, n_clusters, size=(rows, n_clusters))
        picks += (np.arange(rows, dtype=np.int64) * n_clusters)[:, None]
        yield np.bincount(picks.ravel(), minlength=rows * n_clusters).reshape(rows, n_clusters)


def paired_bootstrap(sums: ClusterSums, replicates: int, seed: int) -> Bootstrap:
    per_cluster = sums.matrix()
    rng = np.random.default_rng(seed)
    totals = np.empty((replicates, per_cluster.shape[1]))
    row = 0
    for weights in multiplicities(rng, replicates, sums.n_clusters):
        totals[row : row + len(weights)] = weights.astype(np.float64) @ per_cluster
        row += len(weights)
    full = per_cluster.sum(axis=0, keepdims=True)

    def named(matrix):
        return {name: matrix[:, k] for name, k in sums.names.items()}

    point_a, point_b = scores(named(full), "A"), scores(named(full), "B")
    reps_a, reps_b = scores(named(totals), "A"), scores(named(totals), "B")
    return Bootstrap(
        {m: (float(point_a[m][0]), float(point_b[m][0])) for m in point_a},
        {m: (reps_a[m], reps_b[m]) for m in reps_a},
        sums.n_clusters,
    )


def run_intervals(
    samples: RunSamples, clusters: np.ndarray, n_clusters: int, replicates: int, seed: int, alpha: float
) -> dict[str, tuple[float, float]]:
    """One run's percentile CI of every score (the paired bootstrap with the run as both sides)."""
    boot = paired_bootstrap(cluster_sums(samples, samples, clusters, n_clusters), replicates, seed)
    out = {}
    for metric, (reps, _) in boot.replicates.items():
        defined = reps[~np.isnan(reps)]
        if defined.size:
            low, high = np.percentile(defined, [50 * alpha, 100 - 50 * alpha])
            out[metric] = (float(low), float(high))
    return out

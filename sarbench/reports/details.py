"""A run folder's per-sample details.jsonl as numpy columns, and the same-data checks of two runs."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sarbench.run_folder import NewerSchemaError, RunFolderError, details_location, read_detail_lines, read_metrics
from sarbench.run_folder import read_manifest as read_manifest_document


class CompareError(SystemExit):
    """Two runs that cannot be compared; the message names what differs."""

    def __init__(self, message: str) -> None:
        super().__init__(f"error: {message}")


@dataclass
class RunSamples:
    folder: Path
    ids: list[str]
    subsets: np.ndarray  # str per sample
    images: list[str | None]
    labels: list[str | None]
    responses: list[str | None]
    parse_fail: np.ndarray  # bool
    count_error: np.ndarray  # float, NaN outside the count subset
    count_exact: np.ndarray  # bool, False outside the count subset
    counts: dict[str, np.ndarray]  # metric id -> (n, 3) int TP/FP/FN, zeros where absent
    carries: dict[str, np.ndarray]  # metric id -> bool mask of samples that carry it

    def reorder(self, order: np.ndarray) -> RunSamples:
        pick = order.tolist()
        return RunSamples(
            self.folder,
            [self.ids[i] for i in pick],
            self.subsets[order],
            [self.images[i] for i in pick],
            [self.labels[i] for i in pick],
            [self.responses[i] for i in pick],
            self.parse_fail[order],
            self.count_error[order],
            self.count_exact[order],
            {m: c[order] for m, c in self.counts.items()},
            {m: c[order] for m, c in self.carries.items()},
        )

    def carried_only(self) -> RunSamples:
        """Without the metrics no sample carries (after a cut to fewer subsets)."""
        kept = [m for m, mask in self.carries.items() if mask.any()]
        return replace(self, counts={m: self.counts[m] for m in kept}, carries={m: self.carries[m] for m in kept})


def details_path(run: Path) -> Path:
    path, _ = details_location(run)
    if not path.is_file():
        raise CompareError(
            f"{path} not found: compare needs the per-sample details a run writes "
            "(or `python -m sarbench.score ... --details FILE`)"
        )
    return path


def _check_folder_version(folder: Path) -> None:
    """details.jsonl has no version of its own: its folder's metrics.json carries it."""
    if (folder / "metrics.json").is_file():
        try:
            read_metrics(folder / "metrics.json")
        except RunFolderError as exc:
            if isinstance(exc, NewerSchemaError):
                raise CompareError(str(exc)) from None


def _detail_rows(path: Path) -> list:
    try:
        return read_detail_lines(path)
    except RunFolderError as exc:
        raise CompareError(str(exc)) from None


def load_samples(run: Path) -> RunSamples:
    path = details_path(run)
    _check_folder_version(path.parent)
    ids, subsets, images, labels, responses, parse_fail, errors, exact = ([] for _ in range(8))
    metric_rows: dict[str, list[int]] = {}
    metric_counts: dict[str, list[tuple[int, int, int]]] = {}
    for index, row in enumerate(_detail_rows(path)):
        ids.append(row["id"])
        subsets.append(row["subset"])
        images.append(row.get("image"))
        labels.append(row.get("labels"))
        responses.append(row.get("response"))
        parse_fail.append(bool(row.get("parse_fail")))
        error = row.get("count_error")
        errors.append(np.nan if error is None else float(error))
        exact.append(bool(row.get("count_exact")))
        for metric, c in row["counts"].items():
            metric_rows.setdefault(metric, []).append(index)
            metric_counts.setdefault(metric, []).append((c["tp"], c["fp"], c["fn"]))
    n = len(ids)
    if n == 0:
        raise CompareError(f"{path} holds no samples")
    if len(set(ids)) != n:
        raise CompareError(f"{path} lists a sample id twice")
    counts, carries = {}, {}
    for metric, rows in metric_rows.items():
        counts[metric] = np.zeros((n, 3), dtype=np.int64)
        counts[metric][rows] = np.asarray(metric_counts[metric], dtype=np.int64)
        carries[metric] = np.zeros(n, dtype=bool)
        carries[metric][rows] = True
    return RunSamples(
        path.parent,
        ids,
        np.asarray(subsets),
        images,
        labels,
        responses,
        np.asarray(parse_fail),
        np.asarray(errors, dtype=float),
        np.asarray(exact),
        counts,
        carries,
    )


def read_manifest(run: Path) -> dict | None:
    """The run's manifest; None when absent. An unreadable one is an error naming it (compare
    would otherwise skip the same-data check without saying why)."""
    path = details_location(run)[1] / "manifest.json"
    try:
        return read_manifest_document(path)
    except RunFolderError as exc:
        raise CompareError(str(exc)) from None


def data_differences(manifest_a: dict, manifest_b: dict) -> tuple[list[str], dict[str, list[str]]]:
    """How two runs' data_sha256 (file name -> checksum) differ: the files both read with other
    checksums (described), and the files only one read ({"A": [...], "B": [...]})."""
    files_a, files_b = manifest_a.get("data_sha256") or {}, manifest_b.get("data_sha256") or {}
    conflicts = [
        f"{name}: sha256 {files_a[name][:12]}… (A) vs {files_b[name][:12]}… (B)"
        for name in sorted(set(files_a) & set(files_b))
        if files_a[name] != files_b[name]
    ]
    return conflicts, {"A": sorted(set(files_a) - set(files_b)), "B": sorted(set(files_b) - set(files_a))}


def common_samples(a: RunSamples, b: RunSamples) -> tuple[RunSamples, RunSamples, int, int]:
    """Both runs cut to the samples both scored (A's order), and how many each had alone."""
    in_b = set(b.ids)
    in_a = set(a.ids)
    keep_a = np.fromiter((i for i, s in enumerate(a.ids) if s in in_b), dtype=np.int64)
    keep_b = np.fromiter((i for i, s in enumerate(b.ids) if s in in_a), dtype=np.int64)
    if keep_a.size == 0:
        raise CompareError(f"{a.folder} and {b.folder} share no sample ids: nothing to compare")
    return (
        a.reorder(keep_a).carried_only(),
        b.reorder(keep_b).carried_only(),
        len(a.ids) - keep_a.size,
        len(b.ids) - keep_b.size,
    )


def align(a: RunSamples, b: RunSamples) -> RunSamples:
    """B reordered to A's sample order; refuses runs over different samples or references."""
    position = {sample_id: i for i, sample_id in enumerate(b.ids)}
    only_a = [i for i in a.ids if i not in position]
    only_b = sorted(set(b.ids) - set(a.ids))
    if only_a or only_b:
        subsets_a, subsets_b = set(a.subsets.tolist()), set(b.subsets.tolist())
        if subsets_a != subsets_b:
            raise CompareError(
                f"{a.folder} and {b.folder} ran different task sets: subsets only in A "
                f"{sorted(subsets_a - subsets_b) or 'none'}, only in B {sorted(subsets_b - subsets_a) or 'none'}; "
                "--common compares the samples both scored"
            )
        raise CompareError(
            f"{a.folder} and {b.folder} scored different samples: {len(only_a)} only in A"
            + (f" (first {only_a[0]})" if only_a else "")
            + f", {len(only_b)} only in B"
            + (f" (first {only_b[0]})" if only_b else "")
            + "; --common compares the samples both scored"
        )
    aligned = b.reorder(np.fromiter((position[i] for i in a.ids), dtype=np.int64, count=len(a.ids)))
    if set(a.carries) != set(b.carries):
        raise CompareError(
            f"{a.folder} and {b.folder} carry different metrics "
            f"({sorted(set(a.carries) ^ set(b.carries))}): scored by different "
            "sarbench versions? Re-score both with the same one"
        )
    changed = [i for i, x, y in zip(a.ids, a.labels, aligned.labels) if x != y]
    if changed:
        raise CompareError(
            f"{a.folder} and {b.folder} have different reference answers for "
            f"{len(changed)} samples (first {changed[0]}): not the same data"
        )
    return aligned


def cluster_index(samples: RunSamples) -> tuple[np.ndarray, int]:
    """Cluster of each sample: its image, or the sample itself where no image is recorded."""
    number: dict[str, int] = {}
    clusters = [
        number.setdefault(image if image else f"\0{sample_id}", len(number))
        for image, sample_id in zip(samples.images, samples.ids)
    ]
    return np.asarray(clusters, dtype=np.int64), len(number)


def fill_responses_from_predictions(folder: Path, rows: list[dict], key: str) -> None:
    """Where details.jsonl lacks a response, take it from predictions/<subset>.jsonl."""
    wanted = {row["id"]: row for row in rows if row.get(key) is None}
    for subset in {row["subset"] for row in wanted.values()}:
        path = folder / "predictions" / f"{subset}.jsonl"
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError):
                    continue  # only the text shown beside a disagreement; the scores come from details.jsonl
                if isinstance(record, dict) and record.get("id") in wanted:
                    wanted[record["id"]][key] = record.get("response")

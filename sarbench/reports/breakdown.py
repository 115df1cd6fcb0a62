"""Per-category / per-size tables from metrics.json `breakdowns` (rows = runs, groups = buckets).

Every column says how many samples it rests on (`n=`, from `breakdowns.samples`; a range when the
runs differ), and a cell resting on fewer than `min_n` samples gets no best/second mark.
"""

from __future__ import annotations

import sys

from sarbench.reports.columns import TABLE3, Column, column
from sarbench.reports.ranking import not_ranked_note, standings
from sarbench.reports.results_table import Table
from sarbench.reports.runs import Run

BUCKETS = {
    "category": ("ship", "aircraft", "car", "tank", "bridge", "harbor"),
    "size": ("very small", "small", "medium", "large", "very large"),
}
MIN_N = 20  # default: fewer samples than this and a cell is not marked best / second


def _buckets_of(run: Run, kind: str) -> dict[str, dict]:
    breakdowns = run.result.get("breakdowns")
    buckets = breakdowns.get(kind) if isinstance(breakdowns, dict) else None
    if not isinstance(buckets, dict):
        return {}
    return {name: values for name, values in buckets.items() if isinstance(values, dict)}


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _cell_samples(run: Run, kind: str, bucket: str, metric: str) -> int | None:
    """Samples behind one cell; for metrics.json files written before cells were counted, the
    bucket's `n` (its samples; for sizes its reference boxes); None when neither is there."""
    breakdowns = run.result.get("breakdowns")
    samples = breakdowns.get("samples") if isinstance(breakdowns, dict) else None
    try:
        return _count(samples[kind][bucket][metric])
    except (KeyError, TypeError):
        return _count(_buckets_of(run, kind).get(bucket, {}).get("n"))


def _metric_order(metrics: set[str], spec: str) -> list[str]:
    ordered = [m for m in TABLE3 if m in metrics] + sorted(metrics - set(TABLE3))
    if spec == "table3":
        return [m for m in ordered if m in TABLE3]
    if spec == "all":
        return ordered
    wanted = [m.strip() for m in spec.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in metrics]
    if unknown:
        raise SystemExit(
            f"error: the breakdowns hold no metric {', '.join(unknown)}; valid --columns ids with "
            f"--breakdown: {', '.join(ordered)} (or table3, all)"
        )
    return wanted


def _n_label(counts: list[int | None]) -> str:
    known = sorted({n for n in counts if n is not None})
    if not known:
        return ""
    return f"n={known[0]}" if len(known) == 1 else f"n={known[0]}-{known[-1]}"


def breakdown_table(runs: list[Run], kind: str, spec: str = "all", min_n: int = MIN_N) -> Table:
    by_run = {run.name: _buckets_of(run, kind) for run in runs}
    if not any(by_run.values()):
        raise SystemExit(
            f"error: none of the {len(runs)} run(s) has a '{kind}' breakdown in metrics.json "
            "(key breakdowns.{kind}); re-score them with this sarbench version, e.g. "
            "`python -m sarbench.score RUN/predictions --out RUN/metrics.json`"
        )
    lacking = [name for name, buckets in by_run.items() if not buckets]
    if lacking:
        print(f"note: no '{kind}' breakdown in {', '.join(lacking)} (shown as –)", file=sys.stderr)
    present = {b for buckets in by_run.values() for b in buckets}
    bucket_names = [b for b in BUCKETS[kind] if b in present] + sorted(present - set(BUCKETS[kind]))
    metrics = {m for buckets in by_run.values() for values in buckets.values() for m in values} - {"n"}
    chosen = _metric_order(metrics, spec)
    if not chosen:
        raise SystemExit(
            f"error: the '{kind}' breakdowns hold none of the metrics asked for "
            f"({spec}); they hold {', '.join(sorted(metrics))}"
        )
    columns: list[Column] = []
    cell_n: list[list[int | None]] = [[] for _ in runs]
    for bucket in bucket_names:
        for metric in chosen:
            counts = [_cell_samples(run, kind, bucket, metric) for run in runs]
            for row, count in zip(cell_n, counts):
                row.append(count)
            base = column(metric)
            columns.append(
                Column(
                    f"{bucket}/{metric}",
                    bucket,
                    base.short,
                    f"{bucket} {base.short}",
                    base.lower_is_better,
                    base.unit,
                    _n_label(counts),
                )
            )
    rows = []
    for run in runs:
        buckets = by_run[run.name]
        rows.append((run.name, [buckets.get(c.key.split("/")[0], {}).get(c.key.split("/", 1)[1]) for c in columns]))
    placed = standings([(run.result, run.folder) for run in runs])
    return Table(
        columns,
        rows,
        title=f"Breakdown by {kind}",
        rank_groups=[s.group for s in placed],
        cell_n=cell_n,
        min_n=min_n,
        notes=[f"n: samples behind a column (with a reference object of that {kind})."]
        + ([note] if (note := not_ranked_note(placed)) else []),
    )

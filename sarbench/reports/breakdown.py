"""Per-category / per-size tables from metrics.json `breakdowns` (rows = runs, groups = buckets)."""

from __future__ import annotations

import sys

from sarbench.reports.columns import TABLE3, Column, column
from sarbench.reports.results_table import Table
from sarbench.reports.runs import Run

BUCKETS = {
    "category": ("ship", "aircraft", "car", "tank", "bridge", "harbor"),
    "size": ("very small", "small", "medium", "large", "very large"),
}


def _buckets_of(run: Run, kind: str) -> dict[str, dict]:
    breakdowns = run.result.get("breakdowns")
    buckets = breakdowns.get(kind) if isinstance(breakdowns, dict) else None
    if not isinstance(buckets, dict):
        return {}
    return {name: values for name, values in buckets.items() if isinstance(values, dict)}


def _metric_order(metrics: set[str], spec: str) -> list[str]:
    ordered = [m for m in TABLE3 if m in metrics] + sorted(metrics - set(TABLE3))
    if spec == "table3":
        return [m for m in ordered if m in TABLE3]
    if spec == "all":
        return ordered
    wanted = [m.strip() for m in spec.split(",") if m.strip()]
    return [m for m in wanted if m in metrics]


def breakdown_table(runs: list[Run], kind: str, spec: str = "all") -> Table:
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
    for bucket in bucket_names:
        sizes = {buckets[bucket].get("n") for buckets in by_run.values() if bucket in buckets}
        group = f"{bucket} (n={sizes.pop()})" if len(sizes) == 1 and None not in sizes else bucket
        for metric in chosen:
            base = column(metric)
            columns.append(
                Column(f"{bucket}/{metric}", group, base.short, f"{bucket} {base.short}", base.lower_is_better)
            )
    rows = []
    for run in runs:
        buckets = by_run[run.name]
        rows.append((run.name, [buckets.get(c.key.split("/")[0], {}).get(c.key.split("/", 1)[1]) for c in columns]))
    return Table(columns, rows, title=f"Breakdown by {kind}")

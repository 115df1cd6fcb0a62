"""Plain-text rendering of one metrics.json for the terminal."""

from __future__ import annotations

from metrics.aggregate import CAPTION_METRICS, TABLE3_COLUMNS
from sarbench.failures import failure_text
from sarbench.subsets import SUBSETS, TASKS

_EXTRA = ["count.mae", "count.rmse", "count.within1"] + [f"describe.{m}" for m in CAPTION_METRICS]


def metric_rows(result: dict) -> list[tuple[str, str]]:
    metrics = result["metrics"]
    ordered = ["avg", "avg_paper"] + [f"task.{t}" for t in TASKS] + list(TABLE3_COLUMNS) + _EXTRA
    ordered += [m for m in sorted(metrics) if m.endswith(".sample_mean")]
    ordered += [f"{s}.parse_fail" for s in SUBSETS]
    rows = []
    for metric in ordered:
        if metric not in metrics:
            continue
        value = metrics[metric]
        rows.append((metric, "absent" if value is None else f"{value:.2f}"))
    return rows


def format_metrics(result: dict, title: str = "") -> str:
    rows = metric_rows(result)
    width = max((len(m) for m, _ in rows), default=10)
    n = result.get("n", {})
    lines = []
    if title:
        lines.append(title)
    lines.append(f"protocol {result['protocol']}; samples: " + ", ".join(f"{s} {n[s]}" for s in SUBSETS if s in n))
    lines.append(f"{'metric':<{width}}  value")
    lines.append(f"{'-' * width}  ------")
    lines.extend(f"{m:<{width}}  {v:>6}" for m, v in rows)
    for subset, why in (result.get("not_attempted") or {}).items():
        lines.append(f"{subset}: not attempted ({why})")
    malformed = result.get("malformed") or []
    if malformed:
        lines.append(
            f"{len(malformed)} malformed record(s) left out; first: "
            f"{malformed[0]['path']} record {malformed[0]['index']}: {malformed[0]['problem']}"
        )
    failures = failure_text(result)
    if failures:
        lines.append(failures)
    return "\n".join(lines)

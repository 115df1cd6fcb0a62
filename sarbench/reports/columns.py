"""Which metric ids a table shows, under which (group, label) headers, and their direction."""

from __future__ import annotations

from dataclasses import dataclass, replace

from metrics.benchmark import CAPTION_METRICS, COUNT_ERROR_METRICS, SUBSET_TABLE, SUBSETS, TABLE3_COLUMNS, TASKS


@dataclass(frozen=True)
class Column:
    key: str  # metric id (or a breakdown key "<bucket>/<metric id>")
    group: str  # spanning header; "" for a stand-alone column
    label: str  # header under the group
    short: str  # one-line header (Markdown, plot ticks)
    lower_is_better: bool = False
    unit: str = "%"
    samples: str = ""  # "n=40": the samples the column rests on, where a table shows them

    def header(self, grouped: bool) -> list[str]:
        """The header's lines: the label under a group header (else the one-line form), then n."""
        return [self.label if grouped else self.short] + ([self.samples] if self.samples else [])


_CAPTION_LABELS = {
    "bleu1": "BLEU-1",
    "bleu2": "BLEU-2",
    "bleu3": "BLEU-3",
    "bleu4": "BLEU-4",
    "cider": "CIDEr",
    "rouge_l": "ROUGE-L",
    "meteor": "METEOR",
}


def _known_columns() -> dict[str, Column]:
    # labels as the paper's Table 3 writes them; `short` is the one-line form
    table = [
        ("avg", "", "Avg score", "Avg"),
        ("count.only", "Instance Count", "Only count", "Count only"),
        ("count.iou25", "Instance Count", "IoU=.25", "Count IoU=.25"),
        ("count.iou50", "Instance Count", "IoU=.5", "Count IoU=.5"),
        ("grounding.abstract", "", "Abstract position", "Abstract pos."),
        ("grounding.multi", "Spatial Ground", "Multi", "SG Multi"),
        ("grounding.single", "Spatial Ground", "Single", "SG Single"),
        ("identify.multi", "Cross-Modal ID", "Multi", "CMI Multi"),
        ("identify.single", "Cross-Modal ID", "Single", "CMI Single"),
        ("refer.multi.iou25", "Multi-target Ref", "IoU=.25", "MRef IoU=.25"),
        ("refer.multi.iou50", "Multi-target Ref", "IoU=.5", "MRef IoU=.5"),
        ("refer.single.iou25", "Single-target Ref", "IoU=.25", "SRef IoU=.25"),
        ("refer.single.iou50", "Single-target Ref", "IoU=.5", "SRef IoU=.5"),
        ("describe.acc", "", "Descript", "Descript"),
        ("classify.acc", "", "Class.", "Class."),
        ("avg_paper", "", "Avg (paper wts)", "Avg (paper wts)"),
        ("count.mae", "Count error", "MAE", "Count MAE"),
        ("count.rmse", "Count error", "RMSE", "Count RMSE"),
        ("count.within1", "Count error", "within 1", "Count within1"),
    ]
    columns = {
        key: Column(key, group, label, short, key in ("count.mae", "count.rmse")) for key, group, label, short in table
    }
    for key in ("count.mae", "count.rmse"):
        columns[key] = replace(columns[key], unit="objects")
    for task in TASKS:
        columns[f"task.{task}"] = Column(f"task.{task}", "Task scores", task, f"task {task}")
    for name, label in _CAPTION_LABELS.items():
        columns[f"describe.{name}"] = Column(f"describe.{name}", "Captions", label, label, unit="score ×100")
    for subset in SUBSET_TABLE:
        key = f"{subset.name}.parse_fail"
        columns[key] = Column(key, "Parse failures", subset.label, f"PF {subset.label}", lower_is_better=True)
    return columns


KNOWN_COLUMNS = _known_columns()
TABLE3 = ("avg",) + TABLE3_COLUMNS
EXTRA = (
    COUNT_ERROR_METRICS + tuple(f"describe.{m}" for m in CAPTION_METRICS) + tuple(f"{s}.parse_fail" for s in SUBSETS)
)


def column(metric: str) -> Column:
    """The header of any metric id; unknown ids (e.g. `.sample_mean`) stand alone."""
    if metric in KNOWN_COLUMNS:
        return KNOWN_COLUMNS[metric]
    base = metric.removesuffix(".sample_mean")
    if base != metric and base in KNOWN_COLUMNS:
        known = KNOWN_COLUMNS[base]
        return replace(known, key=metric, label=f"{known.label} (mean)", short=f"{known.short} (mean)")
    return Column(metric, "", metric, metric, metric.endswith(".parse_fail"))


def select_columns(spec: str, present: set[str]) -> list[Column]:
    """`table3` (always all 15), `all` (table3 + the extras any run has) or `id,id,...`."""
    if spec == "table3":
        return [column(m) for m in TABLE3]
    if spec == "all":
        return [column(m) for m in TABLE3] + [column(m) for m in EXTRA if m in present]
    wanted = [m.strip() for m in spec.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in present and column(m).label == m]
    if unknown:
        raise SystemExit(
            f"error: unknown metric id(s) {', '.join(unknown)} (no run has them); "
            f"known ids include {', '.join(TABLE3 + EXTRA)}"
        )
    return [column(m) for m in wanted]

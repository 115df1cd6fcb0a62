"""`python -m sarbench.plot RESULTS_DIR... --out DIR [--format png,pdf]`.

Draws, for every metrics.json below RESULTS_DIR, a radar chart of the six task scores (like the
paper's Figure 1) and grouped bars per Table-3 column. Writes task_radar.<fmt> and
table3_bars.<fmt> into DIR.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from metrics.benchmark import SUBSET_TABLE, TASK_TABLE, TASKS  # noqa: E402
from sarbench.leaderboard import sort_by_avg  # noqa: E402
from sarbench.reports.bootstrap import run_intervals  # noqa: E402
from sarbench.reports.breakdown import MIN_N  # noqa: E402
from sarbench.reports.columns import TABLE3, column  # noqa: E402
from sarbench.reports.details import cluster_index, load_samples  # noqa: E402
from sarbench.reports.paper import paper_rows  # noqa: E402
from sarbench.reports.runs import Run, failure_notes, load_runs  # noqa: E402

TASK_LABELS = {t.name: t.label for t in TASK_TABLE}
COLUMN_WIDTH_IN, PAGE_WIDTH_IN = 3.5, 7.16  # IEEE/ACM single column and full text width
# Type 42 (TrueType) fonts: IEEE PDF eXpress and many publishers reject Type 3; sizes in points
# are what the reader sees when a figure is placed at its width (no scaling)
STYLE = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
}
MIN_FONT_PT = 7
CI_ALPHA = 0.05


def literal_label(name: str) -> str:
    """A run name shown as written: matplotlib reads text between two `$` as mathtext (a name
    like `m$a_b$` would be typeset, `x$^$` would fail to render); an escaped `\\$` is a plain `$`,
    and without math mode `_`, `^` and `\\` are plain characters."""
    return name.replace("$", "\\$")


def _value(run: Run, metric: str) -> float:
    value = run.metrics.get(metric)
    return np.nan if value is None else float(value)


def _colors(n: int):
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def radar(runs: list[Run]) -> plt.Figure:
    angles = np.linspace(0, 2 * np.pi, len(TASKS), endpoint=False)
    closed = np.append(angles, angles[0])
    figure, axes = plt.subplots(
        figsize=(COLUMN_WIDTH_IN, COLUMN_WIDTH_IN + 0.2 * len(runs)), subplot_kw={"projection": "polar"}
    )
    absent = dict.fromkeys(TASKS, 0)
    for run, color in zip(runs, _colors(len(runs))):
        values = np.array([_value(run, f"task.{t}") for t in TASKS])
        for task, value in zip(TASKS, values):
            absent[task] += bool(np.isnan(value))
        ring = np.append(values, values[0])
        axes.plot(closed, ring, color=color, linewidth=1.8, label=literal_label(run.name))  # NaN leaves a gap
        axes.plot(angles, values, "o", color=color, markersize=4)
        if not np.isnan(values).any():
            axes.fill(closed, ring, color=color, alpha=0.08)
    axes.set_theta_offset(np.pi / 2)  # first task on top, clockwise like the paper's figure
    axes.set_theta_direction(-1)
    axes.set_xticks(angles)
    axes.set_xticklabels([])
    for angle, task in zip(angles, TASKS):  # placed by hand so no label crosses the circle
        label = TASK_LABELS[task]
        if absent[task]:
            label += "\n(absent)" if absent[task] == len(runs) else f"\n(absent in {absent[task]})"
        side, up = np.sin(angle), np.cos(angle)
        axes.text(
            angle,
            112,
            label,
            fontsize=MIN_FONT_PT,
            ha="center" if abs(side) < 0.1 else ("left" if side > 0 else "right"),
            va="center" if abs(up) < 0.9 else ("bottom" if up > 0 else "top"),
        )
    axes.set_ylim(0, 100)
    axes.set_yticks([20, 40, 60, 80, 100])
    axes.set_yticklabels(["20", "40", "60", "80", "100"], fontsize=MIN_FONT_PT, color="0.4")
    axes.set_rlabel_position(30)  # between the first two spokes
    axes.set_title("Task scores", pad=28)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False, ncol=1)
    figure.tight_layout()
    return figure


def bars(
    runs: list[Run], intervals: dict[str, dict] | None = None, carried: dict | None = None, min_n: int = MIN_N
) -> plt.Figure:
    """Grouped bars per Table-3 column; error bars: the run's bootstrap CI where its details.jsonl
    gave one; a column whose samples are fewer than `min_n` for some run says n under its name."""
    intervals = intervals or {}
    columns = [column(m) for m in TABLE3]
    width = 0.8 / len(runs)
    positions = np.arange(len(columns))
    figure, axes = plt.subplots(figsize=(PAGE_WIDTH_IN, 2.9 + 0.12 * len(runs)))
    for i, (run, color) in enumerate(zip(runs, _colors(len(runs)))):
        values = np.array([_value(run, c.key) for c in columns])
        x = positions - 0.4 + width * (i + 0.5)
        cis = intervals.get(run.name, {})
        low = [v - cis[c.key][0] if c.key in cis else 0.0 for v, c in zip(values, columns)]
        high = [cis[c.key][1] - v if c.key in cis else 0.0 for v, c in zip(values, columns)]
        shown = np.nan_to_num(values)
        axes.bar(x, shown, width, color=color, label=literal_label(run.name))
        if cis:
            errors = np.array([low, high]).clip(min=0)
            axes.errorbar(x, shown, yerr=errors, fmt="none", ecolor="0.15", elinewidth=0.6, capsize=1.2)
        for xi, value in zip(x, values):
            if np.isnan(value):
                axes.text(xi, 1, "n/a", ha="center", va="bottom", fontsize=MIN_FONT_PT, rotation=90, color=color)
    ticks = []
    for c in columns:
        counts = [n for run in runs if (n := column_samples(run, c.key, carried or {})) is not None]
        ticks.append(f"{c.short}\nn={min(counts)}" if counts and min(counts) < min_n else c.short)
    axes.set_xticks(positions)
    axes.set_xticklabels(ticks, rotation=40, ha="right")
    axes.set_ylim(0, 105)
    axes.set_ylabel("score (%)")
    with_ci = [run.name for run in runs if intervals.get(run.name)]
    title = "Table-3 columns"
    if with_ci:
        title += f" (error bars: {100 * (1 - CI_ALPHA):g}% bootstrap CI over images)"
    axes.set_title(title)
    axes.grid(axis="y", color="0.9")
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.42), frameon=False, ncol=min(3, len(runs)))
    figure.tight_layout()
    return figure


def column_samples(run: Run, metric: str, carried: dict[str, dict[str, int]]) -> int | None:
    """Samples a Table-3 column of a run rests on: those carrying it in its details.jsonl
    (`carried`), else the subsets that score it (metrics.json `n`); grounding.abstract counts
    only samples with reference relations, which only the details know."""
    if metric in carried.get(run.name, {}):
        return carried[run.name][metric]
    counts = run.result.get("n") or {}
    if metric == "grounding.abstract":
        return None
    subsets = [s.name for s in SUBSET_TABLE if metric in s.columns]
    known = [counts[s] for s in subsets if isinstance(counts.get(s), int)]
    return sum(known) if known else None


def bootstrap_intervals(runs: list[Run], replicates: int, seed: int = 0) -> tuple[dict, dict]:
    """Per run name: {metric: (low, high)} from its details.jsonl, and {metric: samples carrying
    it}; runs without details get neither (runs scored without --details), with a note."""
    out, carried = {}, {}
    for run in runs:
        if run.folder is None:
            continue
        try:
            samples = load_samples(run.folder)
        except SystemExit as exc:
            print(f"note: no error bars for {run.name}: {exc}", file=sys.stderr)
            continue
        clusters, n_clusters = cluster_index(samples)
        out[run.name] = run_intervals(samples, clusters, n_clusters, replicates, seed, CI_ALPHA)
        carried[run.name] = {metric: int(mask.sum()) for metric, mask in samples.carries.items()}
    return out, carried


def paper_runs(names: list[str] | None) -> list[Run]:
    """The paper's published rows as runs (task scores: the mean of each task's columns)."""
    rows = []
    for name, values in paper_rows():
        model = name.removesuffix(" (paper)")
        if names and model not in names:
            continue
        metrics = dict(values)
        for task in TASK_TABLE:
            metrics[f"task.{task.name}"] = float(np.mean([values[c] for c in task.columns]))
        rows.append(Run(name, None, {"metrics": metrics}))
    if names and len(rows) < len(names):
        known = ", ".join(n.removesuffix(" (paper)") for n, _ in paper_rows())
        raise SystemExit(f"error: --paper names a model the paper does not list; it lists {known}")
    return rows


def write_plots(
    runs: list[Run], out: Path, formats: list[str], intervals: dict | None = None, carried: dict | None = None
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    notes = failure_notes(runs)
    with plt.rc_context(STYLE):
        for name, figure in (("task_radar", radar(runs)), ("table3_bars", bars(runs, intervals, carried))):
            if notes:  # the legend's daggers explained under the figure
                figure.text(0.01, 0.0, "\n".join(notes), fontsize=MIN_FONT_PT, ha="left", va="top", wrap=True)
            for fmt in formats:
                path = out / f"{name}.{fmt}"
                figure.savefig(path, dpi=200, bbox_inches="tight")
                written.append(path)
            plt.close(figure)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sarbench.plot", description="Radar of task scores and Table-3 bars per run."
    )
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS_DIR")
    parser.add_argument("--out", type=Path, required=True, help="directory for the figures")
    parser.add_argument("--format", default="png,pdf", help="comma list of png, pdf, svg")
    parser.add_argument(
        "--bootstrap", type=int, default=1000, metavar="B", help="replicates for the error bars (0: none)"
    )
    parser.add_argument("--with-paper", action="store_true", help="add the paper's published rows")
    parser.add_argument("--paper", help="only these paper models, comma-separated (implies --with-paper)")
    args = parser.parse_args(argv)
    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in ("png", "pdf", "svg")]
    if unknown or not formats:
        parser.error(f"unsupported format(s): {', '.join(unknown) or '(none)'}")
    runs = sort_by_avg(load_runs(args.results))
    intervals, carried = bootstrap_intervals(runs, args.bootstrap) if args.bootstrap > 0 else ({}, {})
    if args.with_paper or args.paper:
        runs += paper_runs([n.strip() for n in args.paper.split(",")] if args.paper else None)
    with plt.rc_context(STYLE):
        for path in write_plots(runs, args.out, formats, intervals, carried):
            print(path)
    return 0


VERDICT_COLORS = {"better": "tab:green", "worse": "tab:red"}


def forest(comparison: dict) -> plt.Figure:
    """Δ = B − A per score with its bootstrap CI (one row each, zero line), coloured by verdict."""
    rows = [r for r in comparison["scores"] if not (np.isnan(r["ci_low"]) or np.isnan(r["ci_high"]))]
    labels = [r["metric"] + (" ↓" if r["lower_is_better"] else "") for r in rows]
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.8 + 0.16 * len(rows)))
        y = np.arange(len(rows))[::-1]
        for position, row in zip(y, rows):
            color = VERDICT_COLORS.get(row["verdict"], "0.45")
            axes.plot([row["ci_low"], row["ci_high"]], [position, position], color=color, linewidth=1.2)
            axes.plot(row["delta"], position, "o", color=color, markersize=3)
        axes.axvline(0, color="0.3", linewidth=0.8, linestyle="--")
        axes.set_yticks(y)
        axes.set_yticklabels([literal_label(label) for label in labels])
        level = f"{100 * (1 - comparison['alpha']):g}%"
        axes.set_xlabel(f"Δ = B − A (points), {level} bootstrap CI")
        name_a, name_b = literal_label(comparison["a"]["name"]), literal_label(comparison["b"]["name"])
        axes.set_title(f"B: {name_b}\nA: {name_a}", loc="left")
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="x", color="0.92")
        axes.set_axisbelow(True)
        figure.tight_layout()
    return figure


def write_forest(comparison: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = forest(comparison)
    with plt.rc_context(STYLE):
        figure.savefig(path, dpi=200, bbox_inches="tight")
    plt.close(figure)
    return path


if __name__ == "__main__":
    sys.exit(main())

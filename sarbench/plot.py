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

from metrics.benchmark import TASK_TABLE, TASKS  # noqa: E402
from sarbench.leaderboard import sort_by_avg  # noqa: E402
from sarbench.reports.columns import TABLE3, column  # noqa: E402
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
    figure, axes = plt.subplots(figsize=(10, 6.5), subplot_kw={"projection": "polar"})
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
            108,
            label,
            fontsize=10,
            ha="center" if abs(side) < 0.1 else ("left" if side > 0 else "right"),
            va="center" if abs(up) < 0.9 else ("bottom" if up > 0 else "top"),
        )
    axes.set_ylim(0, 100)
    axes.set_yticks([20, 40, 60, 80, 100])
    axes.set_yticklabels(["20", "40", "60", "80", "100"], fontsize=8, color="0.4")
    axes.set_rlabel_position(30)  # between the first two spokes
    axes.set_title("Task scores", pad=42)
    axes.legend(loc="center left", bbox_to_anchor=(1.12, 0.5), fontsize=9, frameon=False)
    figure.tight_layout()
    return figure


def bars(runs: list[Run]) -> plt.Figure:
    columns = [column(m) for m in TABLE3]
    width = 0.8 / len(runs)
    positions = np.arange(len(columns))
    figure, axes = plt.subplots(figsize=(min(24, 9 + 0.7 * len(runs)), 4.8))
    for i, (run, color) in enumerate(zip(runs, _colors(len(runs)))):
        values = [_value(run, c.key) for c in columns]
        axes.bar(
            positions - 0.4 + width * (i + 0.5),
            np.nan_to_num(values),
            width,
            color=color,
            label=literal_label(run.name),
        )
        for x, value in zip(positions, values):
            if np.isnan(value):
                axes.text(
                    x - 0.4 + width * (i + 0.5),
                    1,
                    "n/a",
                    ha="center",
                    va="bottom",
                    fontsize=6,
                    rotation=90,
                    color=color,
                )
    axes.set_xticks(positions)
    axes.set_xticklabels([c.short for c in columns], rotation=35, ha="right", fontsize=9)
    axes.set_ylim(0, 105)
    axes.set_ylabel("score (%)")
    axes.set_title("Table-3 columns")
    axes.grid(axis="y", color="0.9")
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    figure.tight_layout()
    return figure


def write_plots(runs: list[Run], out: Path, formats: list[str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (("task_radar", radar), ("table3_bars", bars)):
        figure = draw(runs)
        notes = failure_notes(runs)
        if notes:  # the legend's daggers explained under the figure
            figure.text(0.01, 0.0, "\n".join(notes), fontsize=7, ha="left", va="top", wrap=True)
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            figure.savefig(path, dpi=150, bbox_inches="tight")
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
    args = parser.parse_args(argv)
    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in ("png", "pdf", "svg")]
    if unknown or not formats:
        parser.error(f"unsupported format(s): {', '.join(unknown) or '(none)'}")
    for path in write_plots(sort_by_avg(load_runs(args.results)), args.out, formats):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())


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

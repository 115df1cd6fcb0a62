"""`python -m sarbench.leaderboard RESULTS_DIR... [--format md|csv|latex|html] [--columns ...]
[--with-paper] [--breakdown category|size] [--out FILE]`.

Collects every `metrics.json` below the given directories into the paper's Table 3 (Avg + 14
columns, grouped headers), optionally with extra metrics, the paper's published rows, or a
per-category / per-size breakdown. Runs are sorted by Avg; absent values print as a dash. A run
with inference failures is marked with a dagger and a footnote; one whose failures exceed
`--max-failure-rate` (percent of its samples) is listed below the ranked runs, unmarked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sarbench.failures import failure_counts
from sarbench.reports.breakdown import breakdown_table
from sarbench.reports.columns import select_columns
from sarbench.reports.latex import latex_escape, to_latex
from sarbench.reports.paper import paper_rows
from sarbench.reports.render_text import to_csv, to_html, to_markdown
from sarbench.reports.results_table import Table
from sarbench.reports.runs import FAILED_MARK, Run, load_runs

__all__ = ["main", "leaderboard_table", "latex_escape", "RENDERERS"]

RENDERERS = {"md": to_markdown, "csv": to_csv, "latex": to_latex, "html": to_html}
_SUFFIX_FORMATS = {".md": "md", ".csv": "csv", ".tex": "latex", ".html": "html", ".htm": "html"}
MAX_FAILURE_RATE = 5.0  # percent of a run's samples; above it a run is listed but not ranked


def sort_by_avg(runs: list[Run]) -> list[Run]:
    def key(run: Run):
        avg = run.metrics.get("avg")
        return (avg is None, -(avg or 0.0), run.name)

    return sorted(runs, key=key)


def failure_notes(runs: list[Run], max_failure_rate: float) -> list[str]:
    """Footnotes for runs with inference failures (their empty answers are scored)."""
    failed = [run for run in runs if run.failure_percent > 0]
    if not failed:
        return []
    listed = "; ".join(f"{run.name.removesuffix(' ' + FAILED_MARK)}: {_failed_share(run)}" for run in failed)
    notes = [f"{FAILED_MARK} inference failures, scored as empty answers: {listed}"]
    if any(run.failure_percent > max_failure_rate for run in failed):
        notes.append(
            f"Runs with more than {max_failure_rate:g} % failed samples are listed after the ranked runs "
            "and not ranked (--max-failure-rate)"
        )
    return notes


def _failed_share(run: Run) -> str:
    failed, samples = failure_counts(run.result)
    return f"{failed} of {samples} samples ({run.failure_percent:.2f} %)"


def leaderboard_table(
    runs: list[Run], columns: str = "table3", with_paper: bool = False, max_failure_rate: float = MAX_FAILURE_RATE
) -> Table:
    present = {m for run in runs for m, v in run.metrics.items() if v is not None}
    chosen = select_columns(columns, present)
    ranked = [run for run in runs if run.failure_percent <= max_failure_rate]
    unranked = [run for run in runs if run.failure_percent > max_failure_rate]
    rows = [(run.name, [run.metrics.get(c.key) for c in chosen]) for run in sort_by_avg(ranked) + sort_by_avg(unranked)]
    starts = [len(ranked)] if ranked and unranked else []
    if with_paper:
        starts.append(len(rows))
        rows += [(name, [values.get(c.key) for c in chosen]) for name, values in paper_rows()]
    return Table(
        chosen,
        rows,
        starts,
        unranked=set(range(len(ranked), len(runs))),
        notes=failure_notes(runs, max_failure_rate),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sarbench.leaderboard",
        description="Table-3 leaderboard of every metrics.json below RESULTS_DIR.",
    )
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS_DIR")
    parser.add_argument(
        "--format", choices=sorted(RENDERERS), help="output format (default: from --out's suffix, else md)"
    )
    parser.add_argument(
        "--columns",
        default="table3",
        help="table3 (Avg + 14 columns), all (adds count errors, caption metrics, "
        "parse-fail rates) or a comma list of metric ids",
    )
    parser.add_argument(
        "--with-paper", action="store_true", help="append the paper's published Table 3 rows, marked '(paper)'"
    )
    parser.add_argument(
        "--breakdown",
        choices=("category", "size"),
        help="per-category or per-size table of the box and classification metrics",
    )
    parser.add_argument(
        "--max-failure-rate",
        type=_percent,
        default=MAX_FAILURE_RATE,
        metavar="PCT",
        help="runs with more than PCT %% of samples failed at inference are listed but not ranked "
        f"(default {MAX_FAILURE_RATE:g})",
    )
    parser.add_argument("--out", type=Path, help="write here instead of stdout")
    return parser


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a percentage from 0 to 100, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    fmt = args.format or (_SUFFIX_FORMATS.get(args.out.suffix.lower(), "md") if args.out else "md")
    runs = load_runs(args.results)
    if args.breakdown:
        if args.with_paper:
            print("note: --with-paper is ignored with --breakdown (the paper has no breakdowns)", file=sys.stderr)
        table = breakdown_table(sort_by_avg(runs), args.breakdown, args.columns)
        table.notes = failure_notes(runs, args.max_failure_rate)
    else:
        table = leaderboard_table(runs, args.columns, args.with_paper, args.max_failure_rate)
    text = RENDERERS[fmt](table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

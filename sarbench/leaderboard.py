"""`python -m sarbench.leaderboard RESULTS_DIR... [--format md|csv|latex|html] [--columns ...]
[--with-paper] [--breakdown category|size] [--out FILE]`.

Collects every `metrics.json` below the given directories into the paper's Table 3 (Avg + 14
columns, grouped headers), optionally with extra metrics, the paper's published rows, or a
per-category / per-size breakdown. Runs are sorted by Avg; absent values print as a dash. A run
with inference failures is marked with a dagger and a footnote; one whose failures exceed
`--max-failure-rate` (percent of its samples) is listed but not ranked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sarbench import PROTOCOL
from sarbench.reports.breakdown import MIN_N, breakdown_table
from sarbench.reports.columns import select_columns
from sarbench.reports.latex import ARTICLE_WIDTH_PT, latex_escape, to_latex
from sarbench.reports.paper import paper_rows
from sarbench.reports.ranking import PAPER_GROUP, not_ranked_note, standings
from sarbench.reports.render_text import to_csv, to_html, to_markdown
from sarbench.reports.results_table import Table
from sarbench.reports.runs import Run, failure_notes, load_runs

__all__ = ["main", "leaderboard_table", "latex_escape", "RENDERERS"]

RENDERERS = {"md": to_markdown, "csv": to_csv, "latex": to_latex, "html": to_html}
_SUFFIX_FORMATS = {".md": "md", ".csv": "csv", ".tex": "latex", ".html": "html", ".htm": "html"}
MAX_FAILURE_RATE = 5.0  # percent of a run's samples; above it a run is listed but not ranked


def sort_by_avg(runs: list[Run]) -> list[Run]:
    def key(run: Run):
        avg = run.metrics.get("avg")
        return (avg is None, -(avg or 0.0), run.name)

    return sorted(runs, key=key)


def leaderboard_table(
    runs: list[Run],
    columns: str = "table3",
    with_paper: bool = False,
    rank_with_paper: bool = False,
    max_failure_rate: float = MAX_FAILURE_RATE,
) -> Table:
    """Runs sorted by Avg: the comparable ones (ranking.standings) first, then those listed but not
    ranked, then the paper's rows (ranked among themselves, or with the runs when asked)."""
    present = {m for run in runs for m, v in run.metrics.items() if v is not None}
    chosen = select_columns(columns, present)
    ordered = sort_by_avg(runs)
    placed = sorted(
        zip(ordered, standings([(run.result, run.folder) for run in ordered], max_failure_rate)),
        key=lambda p: p[1].group is None,
    )
    rows = [(run.name, [run.metrics.get(c.key) for c in chosen]) for run, _ in placed]
    groups = [standing.group for _, standing in placed]
    starts = [groups.index(None)] if None in groups and groups.index(None) > 0 else []
    notes = [note] if (note := not_ranked_note([s for _, s in placed])) else []
    notes += failure_notes(runs)
    if with_paper:
        starts.append(len(rows))
        ranked = next((g for g in groups if g is not None), None)
        paper_group = ranked if rank_with_paper and ranked is not None else PAPER_GROUP
        published = paper_rows()
        rows += [(name, [values.get(c.key) for c in chosen]) for name, values in published]
        groups += [paper_group] * len(published)
        notes.append(
            "(paper): published Table 3 of the paper (full SARChat-2M test set), "
            + (
                "ranked together with the runs (--rank-with-paper)."
                if paper_group != PAPER_GROUP
                else "ranked among themselves."
            )
        )
    return Table(chosen, rows, starts, f"SARChat-Bench leaderboard ({PROTOCOL})", groups, notes=notes)


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
        "--rank-with-paper",
        action="store_true",
        help="rank the paper's rows together with the runs (by default they are ranked among themselves: "
        "the paper scored the full test set)",
    )
    parser.add_argument(
        "--breakdown",
        choices=("category", "size"),
        help="per-category or per-size table of the box and classification metrics",
    )
    parser.add_argument(
        "--latex-width",
        type=float,
        default=ARTICLE_WIDTH_PT,
        metavar="PT",
        help=f"text width the LaTeX table must fit (default {ARTICLE_WIDTH_PT:g}: article; IEEEtran: 516 with "
        "--latex-env 'table*', 252 in one column); wider tables are set smaller, then split",
    )
    parser.add_argument("--latex-env", choices=("table", "table*"), default="table", help="LaTeX float environment")
    parser.add_argument(
        "--min-n",
        type=int,
        default=MIN_N,
        metavar="N",
        help=f"breakdown cells resting on fewer samples get no best/second mark (default {MIN_N})",
    )
    parser.add_argument(
        "--max-failure-rate",
        type=_percent,
        default=MAX_FAILURE_RATE,
        metavar="PCT",
        help="runs with more than PCT %% of their samples failed at inference are listed but not ranked "
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
        table = breakdown_table(sort_by_avg(runs), args.breakdown, args.columns, args.min_n)
        table.notes += failure_notes(runs)
    else:
        table = leaderboard_table(
            runs, args.columns, args.with_paper or args.rank_with_paper, args.rank_with_paper, args.max_failure_rate
        )
    table.source = f"{len(runs)} metrics.json file(s) below {', '.join(map(str, args.results))}" + (
        "; paper rows: arXiv 2502.08168, Table 3" if args.with_paper or args.rank_with_paper else ""
    )
    if fmt == "latex":
        text = to_latex(table, args.latex_width, args.latex_env)
    else:
        text = RENDERERS[fmt](table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

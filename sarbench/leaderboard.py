"""`python -m sarbench.leaderboard RESULTS_DIR... [--format md|csv|latex] [--out FILE]`.

Collects every `metrics.json` below the given directories into one table of the paper's
Table-3 columns (Avg first; absent columns shown as "-").
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from metrics.aggregate import TABLE3_COLUMNS

COLUMNS = ("avg",) + TABLE3_COLUMNS
HEADERS = {
    "avg": "Avg", "count.only": "Cnt only", "count.iou25": "Cnt .25", "count.iou50": "Cnt .5",
    "grounding.abstract": "Abs pos", "grounding.multi": "SG Multi", "grounding.single": "SG Single",
    "identify.multi": "CMI Multi", "identify.single": "CMI Single",
    "refer.multi.iou25": "MRef .25", "refer.multi.iou50": "MRef .5",
    "refer.single.iou25": "SRef .25", "refer.single.iou50": "SRef .5",
    "describe.acc": "Descript", "classify.acc": "Class",
}
LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def find_runs(directories: list[Path]) -> list[Path]:
    runs: list[Path] = []
    for directory in directories:
        if directory.is_file() and directory.name == "metrics.json":
            runs.append(directory)
            continue
        if not directory.is_dir():
            raise SystemExit(f"error: {directory} is not a directory")
        runs.extend(sorted(directory.rglob("metrics.json")))
    return runs


def run_name(metrics_path: Path, result: dict, base: Path | None) -> str:
    run = result.get("run") or {}
    if run.get("model"):
        return f"{run['model']} ({run.get('data')})" if run.get("data") else run["model"]
    parent = metrics_path.parent
    return str(parent.relative_to(base)) if base is not None and base in parent.parents else parent.name


def collect(directories: list[Path]) -> pd.DataFrame:
    rows = []
    for path in find_runs(directories):
        result = json.loads(path.read_text())
        if result.get("protocol") != "sarchat-v1" or "metrics" not in result:
            continue
        base = next((d for d in directories if d.is_dir() and d in path.parents), None)
        row = {"model": run_name(path, result, base)}
        row.update({c: result["metrics"].get(c) for c in COLUMNS})
        rows.append(row)
    if not rows:
        raise SystemExit(f"error: no metrics.json below {', '.join(map(str, directories))}")
    frame = pd.DataFrame(rows).set_index("model")
    return frame.sort_values("avg", ascending=False, na_position="last")


def _cell(value) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:.2f}"


def to_markdown(frame: pd.DataFrame) -> str:
    header = ["Model"] + [HEADERS[c] for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * len(frame.columns)) + "|"]
    for name, row in frame.iterrows():
        cells = [str(name).replace("|", "\\|")] + [_cell(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_csv(frame: pd.DataFrame) -> str:
    return frame.rename(columns=HEADERS).to_csv(float_format="%.4f")


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def to_latex(frame: pd.DataFrame) -> str:
    spec = "l" + "r" * len(frame.columns)
    lines = [r"\begin{tabular}{" + spec + "}", r"\toprule",
             " & ".join(["Model"] + [latex_escape(HEADERS[c]) for c in frame.columns]) + r" \\",
             r"\midrule"]
    for name, row in frame.iterrows():
        lines.append(" & ".join([latex_escape(name)] + [_cell(v) for v in row]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


RENDERERS = {"md": to_markdown, "csv": to_csv, "latex": to_latex}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sarbench.leaderboard",
                                     description="Table-3 leaderboard of every metrics.json below RESULTS_DIR.")
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS_DIR")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="md")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    text = RENDERERS[args.format](collect(args.results))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

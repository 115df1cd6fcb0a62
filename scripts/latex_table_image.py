"""Render the leaderboard's LaTeX table as the reader of a paper sees it: a PNG of the table
compiled with pdflatex in a plain `article` at its text width (README's docs/img/leaderboard_latex.png).

    python scripts/latex_table_image.py RESULTS_DIR... --out docs/img/leaderboard_latex.png [-- LEADERBOARD ARGS]

Needs pdflatex (texlive-latex-base/recommended) and pdftoppm (poppler-utils). Fails if pdflatex
reports an overfull box: the picture is also the proof that the table fits.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from sarbench.leaderboard import main as leaderboard
from sarbench.reports.latex import ARTICLE_WIDTH_PT

MARGIN_PT = 12


def document(table: str, width_pt: float) -> str:
    page = width_pt + 2 * MARGIN_PT
    return (
        "\\documentclass{article}\n\\usepackage{booktabs}\n"
        f"\\usepackage[paperwidth={page}pt,paperheight=900pt,margin={MARGIN_PT}pt]{{geometry}}\n"
        "\\pagestyle{empty}\n\\begin{document}\n" + table + "\\end{document}\n"
    )


def trim(path: Path, pad: int = 16) -> None:
    """Crop the page to the table (and its caption) plus a white border."""
    image = Image.open(path).convert("L")
    ink = np.argwhere(np.asarray(image) < 250)
    (top, left), (bottom, right) = ink.min(axis=0), ink.max(axis=0)
    box = (max(0, left - pad), max(0, top - pad), min(image.width, right + pad), min(image.height, bottom + pad))
    Image.open(path).crop(box).save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dpi", type=int, default=200)
    args, extra = parser.parse_known_args(argv)
    for tool in ("pdflatex", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"error: {tool} not found (apt-get install texlive-latex-recommended poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        table = work / "table.tex"
        leaderboard([*map(str, args.results), "--format", "latex", "--out", str(table), *extra])
        (work / "page.tex").write_text(document(table.read_text(), ARTICLE_WIDTH_PT))
        done = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "page.tex"],
            cwd=work,
            capture_output=True,
            text=True,
        )
        log = (work / "page.log").read_text(errors="replace")
        if done.returncode != 0 or "Overfull" in log:
            raise SystemExit(f"error: pdflatex failed or reported an overfull box:\n{log[-2000:]}")
        subprocess.run(
            ["pdftoppm", "-png", "-r", str(args.dpi), "-singlefile", "page.pdf", "page"], cwd=work, check=True
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "page.png", args.out)
    trim(args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

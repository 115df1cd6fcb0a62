"""A booktabs `table` float of a Table that fits the text width at 8 or 9 pt.

Grouped headers (\\multicolumn + \\cmidrule), a header wider than its column on two lines; best
value per column in bold, second underlined; the legend and footnotes in the caption; every
string pure-ASCII LaTeX (latex_text.latex_escape). A table wider than `width_pt` at \\small is
set in \\footnotesize (8 pt), and split into stacked tabulars (the model column repeated in
each; a column group never split) where it is still too wide. Widths are estimated from Computer
Modern's character widths with a margin; the tests compile the output with pdflatex at the widths
of `article` and `IEEEtran` and check that no box is overfull. Needs only \\usepackage{booktabs}.
"""

from __future__ import annotations

from dataclasses import dataclass

from sarbench.reports.latex_text import latex_escape
from sarbench.reports.results_table import BEST, SECOND, Table

__all__ = ["to_latex", "latex_escape", "ARTICLE_WIDTH_PT"]

ABSENT = "--"  # an en dash in TeX
ARTICLE_WIDTH_PT = 345.0  # \textwidth of a plain 10 pt article; IEEEtran: 516 (table*), 252 (table)
TABCOLSEP_PT = 4.0
# Computer Modern Roman 10 pt advance widths in em (cmr10.tfm), rounded up; others 0.75
_EM = {
    **dict.fromkeys("0123456789", 0.5),
    **dict.fromkeys(".,:;'!`", 0.278),
    **dict.fromkeys("()[]", 0.389),
    **dict.fromkeys("-", 0.333),
    **dict.fromkeys("=+", 0.778),
    " ": 0.333,
    **dict.fromkeys("ilj", 0.306),
    **dict.fromkeys("ftr", 0.392),
    **dict.fromkeys("sz", 0.444),
    **dict.fromkeys("aceg", 0.5),
    **dict.fromkeys("bdhknopquvxy", 0.556),
    "w": 0.722,
    "m": 0.833,
    **dict.fromkeys("IJ", 0.514),
    **dict.fromkeys("LSZ", 0.625),
    **dict.fromkeys("EFPT", 0.722),
    **dict.fromkeys("M", 0.917),
    **dict.fromkeys("W", 1.028),
}
_BOLD = 1.15  # cmbx vs cmr
_MARGIN = 1.08  # smaller sizes of CM are relatively wider; rounding
_SIZES = ((r"\small", 9.0), (r"\footnotesize", 8.0))
NAME_SHARE = 0.3  # model names wider than this share of the text width wrap


def _char_em(ch: str) -> float:
    if ch.isascii():
        return _EM.get(ch, 0.75)
    written = latex_escape(ch)
    if written.startswith("[U+"):  # the fallback spells the code point out
        return sum(_EM.get(c, 0.75) for c in written)
    return 1.0  # a math symbol, an accented or a special letter


def _width(text: str, size_pt: float, bold: bool = False) -> float:
    em = sum(_char_em(ch) for ch in text)
    return em * size_pt * _MARGIN * (_BOLD if bold else 1.0)


def _lines(label: str, room: float, size: float) -> list[str]:
    """A header on one line, or on two (split at the most balanced space) when wider than `room`."""
    words = label.split()
    if len(words) < 2 or _width(label, size) <= room:
        return [label]
    splits = [(" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))]
    return list(min(splits, key=lambda pair: max(_width(pair[0], size), _width(pair[1], size))))


def _stack(lines: list[str]) -> str:
    escaped = [latex_escape(line) for line in lines]
    return escaped[0] if len(escaped) == 1 else r"\shortstack{" + r"\\".join(escaped) + "}"


def _header_lines(table: Table, j: int, room: float, size: float) -> list[str]:
    label, *samples = table.columns[j].header(table.has_groups)
    return _lines(label, room, size) + samples


def _span_room(widths: list[float], start: int, span: int) -> float:
    return sum(widths[start : start + span]) + 2 * TABCOLSEP_PT * (span - 1)


def _column_widths(table: Table, marks, size: float) -> list[float]:
    widths = []
    for j in range(len(table.columns)):
        cells = [
            _width(table.value_text(values[j], ABSENT), size, row_marks[j] == BEST)
            for (_, values), row_marks in zip(table.rows, marks)
        ]
        room = max(cells, default=0.0)
        widths.append(max([room] + [_width(line, size) for line in _header_lines(table, j, room, size)]))
    for group, start, span in table.group_spans():
        if group:  # a group header wider than its columns widens the last one
            room = _span_room(widths, start, span)
            need = max(_width(line, size) for line in _lines(group, room, size))
            widths[start + span - 1] += max(0.0, need - room)
    return widths


def _parts(table: Table, widths: list[float], name_width: float, limit: float) -> list[list[int]]:
    """Column indices per tabular: whole column groups, packed in order."""
    parts: list[list[int]] = [[]]
    used = name_width + 2 * TABCOLSEP_PT
    for _, start, span in table.group_spans():
        block = list(range(start, start + span))
        need = sum(widths[j] + 2 * TABCOLSEP_PT for j in block)
        if parts[-1] and used + need > limit:
            parts.append([])
            used = name_width + 2 * TABCOLSEP_PT
        parts[-1].extend(block)
        used += need
    return parts


@dataclass
class _Layout:
    size_command: str
    size: float
    widths: list[float]
    parts: list[list[int]]
    name_width: float | None  # None: names on one line; else a ragged-right column this wide (pt)


def _layout(table: Table, marks, limit: float) -> _Layout:
    """\\small if it needs no more tabulars than \\footnotesize."""
    best = None
    for command, size in _SIZES:
        widths = _column_widths(table, marks, size)
        natural = max([_width(table.row_name(i), size) for i in range(len(table.rows))] + [_width("Model", size)])
        wrap = NAME_SHARE * limit if natural > NAME_SHARE * limit else None
        parts = _parts(table, widths, wrap or natural, limit)
        if best is None or len(parts) < len(best.parts):
            best = _Layout(command, size, widths, parts, wrap)
    return best


def _breakable(name: str) -> str:
    """The escaped name with line-break points after punctuation and every 8 characters of a
    longer word, so it wraps in the name column however it is spelled."""
    out, run = [], 0
    for ch in name:
        out.append(latex_escape(ch) if ch != " " else " ")
        run = 0 if not ch.isalnum() else run + 1
        if ch in "_-/.)]:,+" or run == 8:
            out.append(r"\allowbreak{}")
            run = 0
    return "".join(out)


def _header(table: Table, layout: _Layout, part: list[int]) -> list[str]:
    lines = []
    chosen = set(part)
    if table.has_groups:
        cells, rules, column = [""], [], 2  # TeX columns count from 1; the model name is column 1
        for group, start, span in table.group_spans():
            inside = [j for j in range(start, start + span) if j in chosen]
            if not inside:
                continue
            if group:
                room = _span_room(layout.widths, start, span)
                cells.append(rf"\multicolumn{{{len(inside)}}}{{c}}{{{_stack(_lines(group, room, layout.size))}}}")
                rules.append(rf"\cmidrule(lr){{{column}-{column + len(inside) - 1}}}")
            else:
                cells += [""] * len(inside)
            column += len(inside)
        lines.append(" & ".join(cells) + r" \\")
        if rules:
            lines.append(" ".join(rules))
    heads = [_stack(_header_lines(table, j, layout.widths[j], layout.size)) for j in part]
    lines.append(" & ".join(["Model"] + heads) + r" \\")
    return lines


def _tabular(table: Table, marks, layout: _Layout, part: list[int]) -> list[str]:
    head = _header(table, layout, part)
    first = f"p{{{layout.name_width:.0f}pt}}" if layout.name_width else "l"
    lines = [rf"\begin{{tabular}}{{{first}" + "r" * len(part) + "}", r"\toprule", *head, r"\midrule"]
    starts = set(table.section_starts)
    for i, (_, values) in enumerate(table.rows):
        if i in starts and i > 0:
            lines.append(r"\midrule")
        name = table.row_name(i)
        cells = [r"\raggedright " + _breakable(name) if layout.name_width else latex_escape(name)]
        for j in part:
            text = table.value_text(values[j], ABSENT)
            mark = marks[i][j]
            cells.append(
                rf"\textbf{{{text}}}" if mark == BEST else rf"\underline{{{text}}}" if mark == SECOND else text
            )
        lines.append(" & ".join(cells) + r" \\")
    return lines + [r"\bottomrule", r"\end{tabular}"]


def _caption(table: Table) -> str:
    parts = ([table.title.rstrip(".") + "."] if table.title else []) + [table.legend()] + table.notes
    return latex_escape(" ".join(parts))


def to_latex(table: Table, width_pt: float = ARTICLE_WIDTH_PT, environment: str = "table") -> str:
    marks = table.ranks()
    layout = _layout(table, marks, width_pt)
    lines = [
        r"% generated by sarbench; needs \usepackage{booktabs}; pure ASCII (no inputenc needed)",
        f"% fits a text width of {width_pt:g} pt ({len(layout.parts)} tabular(s)); "
        "python -m sarbench.leaderboard --latex-width PT sets another",
        rf"\begin{{{environment}}}[tbp]",
        r"\centering",
        layout.size_command,
        rf"\setlength{{\tabcolsep}}{{{TABCOLSEP_PT:g}pt}}",
        rf"\caption{{{_caption(table)}}}",
        r"\medskip",  # a caption above a table gets no space below by default
    ]
    for k, part in enumerate(layout.parts):
        if k:
            lines += ["", r"\medskip"]
        lines += _tabular(table, marks, layout, part)
    lines.append(rf"\end{{{environment}}}")
    return "\n".join(lines) + "\n"

"""Markdown, CSV and standalone-HTML renderings of a Table.

Markdown marks the best value per column **bold** and the second *italic* (Markdown has no
underline); HTML uses <b> and <u> like the LaTeX table. Both end with the legend (units, marks),
the footnotes and the source. CSV is for machines: metric ids as
headers, 4 decimals, empty cells for absent values, no marks.
"""

from __future__ import annotations

import csv
import html
import io

from sarbench.reports.results_table import BEST, SECOND, Table, is_absent

ABSENT = "–"


def _md_text(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def to_markdown(table: Table) -> str:
    marks = table.ranks()
    header = ["Model"] + [_md_text(" ".join(c.header(grouped=False))) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([":---"] + ["---:"] * len(table.columns)) + "|"]
    for i, ((_, values), row_marks) in enumerate(zip(table.rows, marks)):
        cells = [_md_text(table.row_name(i))]
        for value, mark in zip(values, row_marks):
            text = table.value_text(value, ABSENT)
            cells.append(f"**{text}**" if mark == BEST else f"*{text}*" if mark == SECOND else text)
        lines.append("| " + " | ".join(cells) + " |")
    prefix = f"**{_md_text(table.title)}**\n\n" if table.title else ""
    footer = [_md_text(table.legend(second="italic"))] + [_md_text(note) for note in table.notes]
    if table.source:
        footer.append(_md_text(f"Source: {table.source}"))
    return prefix + "\n".join(lines) + "\n\n" + "  \n".join(footer) + "\n"


def to_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model"] + [c.key for c in table.columns])
    for name, values in table.rows:
        writer.writerow([name] + ["" if is_absent(v) else f"{v:.4f}" for v in values])
    return buffer.getvalue()


_STYLE = (
    "h1{font-family:sans-serif;font-size:18px}"
    "table{border-collapse:collapse;font-family:sans-serif;font-size:14px}"
    "th,td{padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}"
    "thead{border-top:2px solid #000;border-bottom:1px solid #000}"
    "tbody{border-bottom:2px solid #000}tbody+tbody{border-top:1px solid #000}"
    "th.group{border-bottom:1px solid #888;text-align:center}"
    "p.note{font-family:sans-serif;font-size:13px;margin:4px 0}"
)


def to_html(table: Table) -> str:
    esc = html.escape
    marks = table.ranks()
    title = table.title or "sarbench leaderboard"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(title)}</h1>",
        "<table>",
    ]
    out.append("<thead>")
    if table.has_groups:
        cells = ["<th></th>"]
        for group, _, width in table.group_spans():
            cells.append(f'<th class="group" colspan="{width}">{esc(group)}</th>' if group else "<th></th>" * width)
        out.append("<tr>" + "".join(cells) + "</tr>")
    labels = [" ".join(c.header(table.has_groups)) for c in table.columns]
    out.append("<tr><th>Model</th>" + "".join(f"<th>{esc(t)}</th>" for t in labels) + "</tr>")
    out.append("</thead>")
    starts = set(table.section_starts)
    out.append("<tbody>")
    for i, ((_, values), row_marks) in enumerate(zip(table.rows, marks)):
        if i in starts and i > 0:
            out.append("</tbody>\n<tbody>")
        cells = [f"<td>{esc(table.row_name(i))}</td>"]
        for value, mark in zip(values, row_marks):
            text = esc(table.value_text(value, ABSENT))
            text = f"<b>{text}</b>" if mark == BEST else f"<u>{text}</u>" if mark == SECOND else text
            cells.append(f"<td>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>", f'<p class="note">{esc(table.legend())}</p>']
    out += [f'<p class="note">{esc(note)}</p>' for note in table.notes]
    if table.source:
        out.append(f'<p class="note">Source: {esc(table.source)}</p>')
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"

"""Leaderboard: Table-3 columns, paper rows, breakdowns; Markdown/CSV/LaTeX/HTML renderings.

Goldens live in tests/golden/; regenerate them with SARBENCH_UPDATE_GOLDEN=1 after a deliberate
change, and read the diff before committing.
"""

import json
import os
import re
from pathlib import Path

import pytest

from sarbench.leaderboard import latex_escape, main
from sarbench.reports.columns import TABLE3

GOLDEN = Path(__file__).parent / "golden"
HOSTILE = "a_b & c%#\\{x}"

STRONG = dict(
    zip(
        TABLE3, (91.5, 74.14, 61.37, 52.17, 81.25, 62.25, 87.91, 98.84, 98.98, 37.49, 23.46, 74.86, 60.13, 63.43, 97.25)
    )
)
WEAK = dict(
    zip(TABLE3, (70.0, 20.66, 8.49, 4.19, None, 65.32, 85.78, 98.97, 99.05, 28.75, 13.66, 64.34, 48.84, None, 93.23))
)
WEAK.pop("describe.acc")  # describe not evaluated: absent, not null
EXTRA_STRONG = {
    "count.mae": 0.41,
    "count.rmse": 0.9,
    "count.within1": 95.0,
    "describe.bleu1": 40.2,
    "describe.cider": 110.5,
    "count.parse_fail": 0.5,
    "describe.meteor": None,
}
EXTRA_WEAK = {"count.mae": 1.7, "count.rmse": 2.5, "count.within1": 71.0, "count.parse_fail": 4.0}
BREAKDOWN_STRONG = {
    "category": {
        "ship": {"classify.acc": 98.0, "count.iou50": 60.0, "n": 40},
        "harbor": {"classify.acc": 90.0, "count.iou50": 20.0, "n": 4},
    },
    "size": {"small": {"count.iou50": 55.0, "n": 30}, "very small": {"count.iou50": 12.5, "n": 9}},
    "coverage": {"box_samples": 10, "box_samples_with_image_size": 10},
}
BREAKDOWN_WEAK = {
    "category": {
        "ship": {"classify.acc": 90.0, "count.iou50": 30.0, "n": 40},
        "harbor": {"classify.acc": 50.0, "n": 4},
    },
    "size": {"small": {"count.iou50": 25.0, "n": 30}},
}


def write_run(folder, model, metrics, breakdowns=None, data="sarchat"):
    folder.mkdir(parents=True)
    result = {"protocol": "sarchat-v1", "metrics": metrics, "run": {"model": model, "data": data} if model else {}}
    if breakdowns is not None:
        result["breakdowns"] = breakdowns
    (folder / "metrics.json").write_text(json.dumps(result))


@pytest.fixture
def results(tmp_path):
    write_run(tmp_path / "runs" / "weak", "Qwen2-VL-7B_lora", {**WEAK, **EXTRA_WEAK}, BREAKDOWN_WEAK)
    write_run(tmp_path / "runs" / "strong", HOSTILE, {**STRONG, **EXTRA_STRONG}, BREAKDOWN_STRONG)
    return tmp_path / "runs"


def render(results, *args):
    out = results.parent / "table.out"
    assert main([str(results), *args, "--out", str(out)]) == 0
    return out.read_text()


def check_golden(name, text, results=None):
    if results is not None:
        text = text.replace(str(results), "RESULTS")
    path = GOLDEN / name
    if os.environ.get("SARBENCH_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; see the module docstring"


@pytest.mark.parametrize("fmt, golden", [("md", "leaderboard.md"), ("latex", "leaderboard.tex")])
def test_golden_table3(results, fmt, golden):
    check_golden(golden, render(results, "--format", fmt), results)


def test_golden_breakdown_latex(results):
    check_golden(
        "leaderboard_breakdown_category.tex", render(results, "--format", "latex", "--breakdown", "category"), results
    )


def test_markdown_sorted_by_avg_with_marks_and_dashes(results, capsys):
    assert main([str(results)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "**SARChat-Bench leaderboard (sarchat-v1)**"
    assert lines[2].startswith("| Model | Avg | Count only | Count IoU=.25 | Count IoU=.5 | Abstract pos. |")
    assert lines[4].startswith(r"| a_b & c%#\{x} (sarchat) | **91.50** | **74.14** |")
    assert lines[5].startswith("| Qwen2-VL-7B_lora (sarchat) | 70.00 | 20.66 |")
    assert lines[5].split(" | ")[5] == "–" and lines[5].split(" | ")[-2] == "–"  # null, absent
    assert lines[5].split(" | ")[6] == "**65.32**"  # weak wins SG multi


def test_csv_is_machine_readable(results):
    lines = render(results, "--format", "csv").splitlines()
    assert lines[0] == "model," + ",".join(TABLE3)
    assert lines[1].startswith("a_b & c%#\\{x} (sarchat),91.5000,")
    assert ",," in lines[2]  # absent -> empty cell


def test_format_from_out_suffix(results, tmp_path):
    out = tmp_path / "t.tex"
    assert main([str(results), "--out", str(out)]) == 0
    assert r"\begin{table}[tbp]" in out.read_text().splitlines()


def test_latex_escape():
    assert latex_escape(r"a_b&c%d#e\f{g}$~^") == (
        r"a\_b\&c\%d\#e\textbackslash{}f\{g\}"
        r"\ensuremath{\$}\textasciitilde{}\textasciicircum{}"
    )
    assert latex_escape(HOSTILE) == r"a\_b \& c\%\#\textbackslash{}\{x\}"
    assert latex_escape("<a|b>") == r"\textless{}a\textbar{}b\textgreater{}"


def plain_latex(text):
    """Without the line-break hints of a wrapping name column."""
    return text.replace("\\raggedright ", "").replace("\\allowbreak{}", "")


def test_hostile_names_in_every_format(results):
    assert r"a\_b \& c\%\#\textbackslash{}\{x\} (sarchat)" in plain_latex(render(results, "--format", "latex"))
    page = render(results, "--format", "html")
    assert "<td>a_b &amp; c%#\\{x} (sarchat)</td>" in page
    write_run(results / "piped", "x|y\nz", STRONG)
    assert r"| x\|y z (sarchat) |" in render(results)


def _strip_escapes(line):
    return re.sub(r"\\[{}&%$#_]", "", line)


def check_latex_structure(text):
    """A table float of tabulars: balanced braces, one cell per column in every row, rules inside
    each tabular. Returns the number of value columns over all tabulars (the model column once)."""
    body = [line for line in text.splitlines() if not line.startswith("%")]
    assert body[0] == r"\begin{table}[tbp]" and body[-1] == r"\end{table}"
    starts = [i for i, line in enumerate(body) if line.startswith(r"\begin{tabular}")]
    assert starts
    values = 0
    for start in starts:
        first, rest = re.fullmatch(r"\\begin\{tabular\}\{(l|p\{\d+pt\})([rlc]+)\}", body[start]).groups()
        end = body.index(r"\end{tabular}", start)
        assert body[start + 1] == r"\toprule" and body[end - 1] == r"\bottomrule"
        columns = 1 + len(rest)
        values += columns - 1
        for line in body[start:end]:
            depth = 0
            for ch in _strip_escapes(line):
                depth += {"{": 1, "}": -1}.get(ch, 0)
                assert depth >= 0, line
            assert depth == 0, line
            if line.endswith(r"\\"):
                cells = _strip_escapes(line).count("&") + 1
                widths = sum(int(n) - 1 for n in re.findall(r"\\multicolumn\{(\d+)\}", line))
                assert cells + widths == columns, line
            for first, last in re.findall(r"\\cmidrule\(lr\)\{(\d+)-(\d+)\}", line):
                assert 2 <= int(first) <= int(last) <= columns, line
    return values + 1


@pytest.mark.parametrize(
    "args", [(), ("--columns", "all"), ("--with-paper",), ("--breakdown", "size"), ("--columns", "avg,count.mae")]
)
def test_latex_structure(results, args):
    text = render(results, "--format", "latex", *args)
    columns = check_latex_structure(text)
    assert columns == {(): 16, ("--with-paper",): 16, ("--columns", "avg,count.mae"): 3}.get(args, columns)


def test_latex_marks_best_bold_second_underlined_lower_is_better(results):
    columns = ["--format", "latex", "--columns", "avg,count.mae,count.within1"]
    two = render(results, *columns)
    assert r"\underline" not in two  # with two rows "second" says nothing
    write_run(results / "mid", "mid", {"avg": 80.0, "count.mae": 1.7, "count.within1": 80.0})
    rows = {
        l.split(" & ")[0]: l.split(" & ")[1:]
        for l in plain_latex(render(results, *columns)).splitlines()
        if l.startswith(("a", "Qwen", "mid"))
    }
    assert rows[r"a\_b \& c\%\#\textbackslash{}\{x\} (sarchat)"] == [
        r"\textbf{91.50}",
        r"\textbf{0.41}",
        r"\textbf{95.00} \\",
    ]
    assert rows["mid (sarchat)"] == [r"\underline{80.00}", "1.70", r"\underline{80.00} \\"]
    # a tie on the worst of two distinct values: not "second best"
    assert rows["Qwen2-VL-7B\\_lora (sarchat)"] == ["70.00", "1.70", r"71.00 \\"]


def test_with_paper_rows_after_a_rule(results):
    text = plain_latex(render(results, "--format", "latex", "--with-paper"))
    lines = text.splitlines()
    first_paper = next(i for i, l in enumerate(lines) if l.startswith("InternVL2.5-8B (paper)"))
    assert lines[first_paper - 1] == r"\midrule"
    assert lines[first_paper].startswith(r"InternVL2.5-8B (paper) & \textbf{92.79} & \textbf{74.14} &")
    assert sum("(paper) &" in l for l in lines) == 16 * text.count(r"\begin{tabular}")
    assert r"mPLUG-Owl3-7B (paper) & 91.71 & 71.00 & 48.07 & 35.27 & \textbf{100.00}" in text


def test_columns_all_adds_present_extras_only(results):
    header = render(results, "--format", "csv", "--columns", "all").splitlines()[0].split(",")
    assert header[16:] == [
        "count.mae",
        "count.rmse",
        "count.within1",
        "describe.bleu1",
        "describe.cider",
        "count.parse_fail",
    ]  # meteor is null everywhere


def test_unknown_column_is_an_error(results):
    with pytest.raises(SystemExit, match="unknown metric id.*nope"):
        main([str(results), "--columns", "avg,nope"])


def test_breakdown_groups_and_messages(results, capsys):
    text = render(results, "--format", "csv", "--breakdown", "category")
    assert text.splitlines()[0] == ("model,ship/count.iou50,ship/classify.acc,harbor/count.iou50,harbor/classify.acc")
    write_run(results / "old", "old_model", STRONG)
    html = render(results, "--format", "html", "--breakdown", "size")
    assert '<th class="group" colspan="1">very small</th>' in html
    assert "<th>Count IoU=.5 n=9</th>" in html  # the bucket n of files written before cells were counted
    assert "no &#x27;size&#x27;" not in html and "old_model" in html
    assert "no 'size' breakdown in old_model (sarchat)" in capsys.readouterr().err


def test_breakdown_missing_everywhere_is_a_clear_error(tmp_path):
    write_run(tmp_path / "a", "m", STRONG)
    with pytest.raises(SystemExit, match="none of the 1 run.*'category' breakdown.*re-score"):
        main([str(tmp_path), "--breakdown", "category"])


def test_names_fall_back_to_folder_and_duplicates_get_their_folder(tmp_path, capsys):
    write_run(tmp_path / "res" / "exp1" / "sample", None, STRONG)
    write_run(tmp_path / "res" / "x", "same", WEAK)
    write_run(tmp_path / "res" / "y", "same", WEAK)
    assert main([str(tmp_path / "res"), "--format", "csv"]) == 0
    names = [line.split(",")[0] for line in capsys.readouterr().out.splitlines()[1:]]
    # the folder-named run records no data: listed after the ranked runs, not ranked with them
    assert names == ["same (sarchat) [res/x]", "same (sarchat) [res/y]", "res/exp1/sample"]


def test_html_is_standalone(results):
    page = render(results, "--format", "html")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert '<th class="group" colspan="3">Instance Count</th>' in page and page.count("<tbody>") == 1
    assert "<b>91.50</b>" in page and "<u>" not in page
    assert render(results, "--format", "html", "--with-paper").count("<tbody>") == 2


def test_no_results(tmp_path):
    with pytest.raises(SystemExit, match="no sarchat-v1 metrics.json"):
        main([str(tmp_path)])

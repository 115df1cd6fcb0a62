"""Reports that never mislead: each test here failed on the report defects listed in issue P12."""

import json
import re
import shutil
import subprocess

import pytest

from sarbench.leaderboard import main
from sarbench.reports import latex_text
from sarbench.reports.columns import TABLE3, column
from sarbench.reports.latex_text import latex_escape
from sarbench.reports.ranking import BEST, SECOND, marks

FULL_N = {s: 10 for s in ("classify", "describe", "count", "grounding_single", "grounding_multi")} | {
    s: 10 for s in ("identify_single", "identify_multi", "refer_single", "refer_multi")
}


def write_run(folder, model, metrics, data="sample", limit=None, n=None, breakdowns=None):
    folder.mkdir(parents=True)
    result = {
        "protocol": "sarchat-v1",
        "metrics": metrics,
        "n": FULL_N if n is None else n,
        "run": {"model": model, "data": data, "limit": limit},
    }
    if breakdowns is not None:
        result["breakdowns"] = breakdowns
    (folder / "metrics.json").write_text(json.dumps(result))


def table3(avg, rest=50.0):
    return {m: (avg if m == "avg" else rest) for m in TABLE3}


def render(paths, *args):
    out = paths[0].parent / "table.out"
    assert main([*map(str, paths), *args, "--out", str(out)]) == 0
    return out.read_text()


def md_rows(text):
    return {
        line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith(("| Model", "|:"))
    }


def test_second_best_is_never_the_worst_of_two_distinct_values():
    # 100 % parse-failure rates were underlined: two distinct values, three rows
    assert marks([100.0, 0.0, 0.0], True, ["g"] * 3, [True] * 3) == [None, BEST, BEST]
    assert marks([5.0, 5.0, 5.0], False, ["g"] * 3, [True] * 3) == [None] * 3
    assert marks([90.0, 80.0, 80.0, 70.0], False, ["g"] * 4, [True] * 4) == [BEST, SECOND, SECOND, None]


def test_partial_and_other_data_runs_are_listed_not_ranked(tmp_path):
    write_run(tmp_path / "r" / "full_a", "full-a", table3(60.0, 40.0))
    write_run(tmp_path / "r" / "full_b", "full-b", table3(50.0, 30.0))
    write_run(tmp_path / "r" / "full_c", "full-c", table3(40.0, 20.0))
    write_run(tmp_path / "r" / "limited", "tiny", table3(99.0, 99.0), limit=10)  # the old bold Avg
    write_run(tmp_path / "r" / "subset", "one-task", table3(98.0), n={"count": 10})
    write_run(tmp_path / "r" / "other", "elsewhere", table3(97.0), data="sarchat")
    text = render([tmp_path / "r"])
    rows = md_rows(text)
    assert rows["full-a (sample)"][0] == "**60.00**" and rows["full-b (sample)"][0] == "*50.00*"
    for name in ("tiny (sample) [limit 10] ‡", "one-task (sample) [1/9 subsets] ‡", "elsewhere (sarchat) ‡"):
        assert not any("*" in cell for cell in rows[name]), name
    names = list(rows)
    assert names[:3] == ["full-a (sample)", "full-b (sample)", "full-c (sample)"]  # ranked rows first
    assert "‡ listed, not ranked: partial runs (a runner.limit or fewer subsets) and runs on other data" in text


def test_paper_rows_are_ranked_among_themselves_unless_asked(tmp_path):
    write_run(tmp_path / "r" / "a", "bundled", table3(95.0, 99.0))
    write_run(tmp_path / "r" / "b", "weaker", table3(10.0, 1.0))
    rows = md_rows(render([tmp_path / "r"], "--with-paper"))
    assert rows["bundled (sample)"][0] == "**95.00**"
    assert rows["InternVL2.5-8B (paper)"][0] == "**92.79**"  # best of the paper's rows
    assert rows["Phi-3.5-V-4.2B (paper)"][0] == "*92.06*"
    together = md_rows(render([tmp_path / "r"], "--rank-with-paper"))
    assert together["bundled (sample)"][0] == "**95.00**"
    assert together["InternVL2.5-8B (paper)"][0] == "*92.79*"


def test_headers_as_the_paper_writes_them_and_a_legend(tmp_path):
    assert column("count.iou25").label == "IoU=.25" and column("refer.single.iou50").label == "IoU=.5"
    assert column("grounding.abstract").group == "" and column("grounding.abstract").label == "Abstract position"
    assert column("grounding.multi").group == "Spatial Ground"
    write_run(tmp_path / "r" / "a", "m", {**table3(90.0), "count.mae": 0.5})
    text = render([tmp_path / "r"], "--columns", "avg,count.mae")
    assert "Values in % except Count MAE in objects. Bold: best, italic: second best" in text
    latex = render([tmp_path / "r"], "--format", "latex")
    assert r"\caption{SARChat-Bench leaderboard (sarchat-v1). Values in \%. Bold: best, underlined: second" in latex


def test_html_has_title_source_and_legend(tmp_path):
    write_run(tmp_path / "r" / "a", "m", table3(90.0))
    page = render([tmp_path / "r"], "--format", "html")
    assert "<title>SARChat-Bench leaderboard (sarchat-v1)</title>" in page
    assert "<h1>SARChat-Bench leaderboard (sarchat-v1)</h1>" in page
    assert f"Source: 1 metrics.json file(s) below {tmp_path / 'r'}" in page
    assert "Values in %. Bold: best, underlined: second best" in page


def test_non_latin_names_become_ascii_latex():
    assert latex_escape("α→β") == r"\ensuremath{\alpha}\ensuremath{\rightarrow}\ensuremath{\beta}"
    assert latex_escape("Café ñ") == r"Caf\'{e} \~{n}"
    assert latex_escape("模型") == "[U+6A21][U+578B]"
    assert latex_escape("a‡") == r"a\ensuremath{\ddagger}"
    assert all(latex_escape(chr(c)).isascii() for c in range(0x80, 0x3000))


# --- the LaTeX table fits the page (compiled with pdflatex) ---------------------------------------

CLASSES = {
    "article": (r"\documentclass{article}", "table", 345),
    "IEEEtran": (r"\documentclass[conference]{IEEEtran}", "table*", 516),
    "IEEEtran column": (r"\documentclass[conference]{IEEEtran}", "table", 252),
}


def _compile(tmp_path, documentclass, table):
    (tmp_path / "t.tex").write_text(
        f"{documentclass}\n\\usepackage{{booktabs}}\n\\begin{{document}}\n{table}\\end{{document}}\n"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",  # TeX prints the bytes of 8-bit characters as they are
        timeout=120,
    )
    return done, (tmp_path / "t.log").read_text(errors="replace")


def _class_available(name):
    found = subprocess.run(["kpsewhich", f"{name}.cls"], capture_output=True, text=True)
    return bool(found.stdout.strip())


BREAKDOWN = {
    "category": {
        c: {"classify.acc": 90.0, "count.iou50": 60.0, "grounding.multi": 40.0, "n": 40}
        for c in ("ship", "aircraft", "car", "tank", "bridge", "harbor")
    }
}


@pytest.fixture
def hostile_runs(tmp_path):
    write_run(tmp_path / "r" / "a", "Qwen2-VL-7B α→β 模型 <a|b> ~^$ 100%", table3(91.0, 100.0), breakdowns=BREAKDOWN)
    write_run(tmp_path / "r" / "d", "a-checkpoint-name-without-any-space-at-all_merged_lora", table3(2.0, 0.0))
    write_run(tmp_path / "r" / "b", "InternVL2.5-8B_lora", table3(70.0, 55.5), breakdowns=BREAKDOWN)
    write_run(tmp_path / "r" / "c", "tiny-qwen2vl", table3(5.0, 0.0), limit=10)
    return tmp_path / "r"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not on PATH (scripts install texlive)")
@pytest.mark.parametrize("kind", list(CLASSES))
@pytest.mark.parametrize("args", [("--with-paper",), ("--columns", "all"), ("--breakdown", "category")])
def test_latex_fits_the_text_width_without_overfull_boxes(hostile_runs, tmp_path, kind, args):
    documentclass, environment, width = CLASSES[kind]
    if "IEEEtran" in documentclass and not _class_available("IEEEtran"):
        pytest.skip("IEEEtran.cls not installed (Debian: texlive-publishers)")
    table = render([hostile_runs], "--format", "latex", "--latex-width", str(width), "--latex-env", environment, *args)
    assert re.search(r"^\\(small|footnotesize)$", table, re.M)  # 9 or 8 pt, never \tiny or \resizebox
    assert "resizebox" not in table and table.isascii()
    done, log = _compile(tmp_path, documentclass, table)
    assert done.returncode == 0, log[-3000:]
    assert "Overfull" not in log, re.findall(r"Overfull.*", log)
    assert_no_bitmap_fonts(done, log)


def assert_no_bitmap_fonts(done, log):
    """No bitmap (PK) font built on the fly, nor taken from the cache of an earlier build: only
    the Type 1 fonts of a bare TeX install (a PK font's file name ends in .<dpi>pk)."""
    assert "mktexpk" not in done.stdout + done.stderr
    assert not re.search(r"\.\d+pk\b", log.replace("\n", "")), re.findall(r"[\w/.-]*pk>", log.replace("\n", ""))


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not on PATH (scripts install texlive)")
def test_every_transliterated_symbol_typesets_in_type1_fonts(tmp_path):
    symbols = "".join(sorted(set(latex_text._TEXT) | set(latex_text._SPECIALS) | set(latex_text._MATH)))
    done, log = _compile(tmp_path, r"\documentclass{article}", latex_escape(symbols) + "\n")
    assert done.returncode == 0, log[-3000:]
    assert_no_bitmap_fonts(done, log)


# --- breakdowns ------------------------------------------------------------------------------------


def _breakdown(single, multi, n_single, n_multi):
    return {
        "category": {"ship": {"grounding.single": single, "grounding.multi": multi, "n": 50}},
        "samples": {"category": {"ship": {"grounding.single": n_single, "grounding.multi": n_multi}}},
    }


def test_breakdown_cells_show_n_and_few_samples_get_no_marks(tmp_path):
    for name, single, multi in (("a", 90.0, 80.0), ("b", 50.0, 70.0), ("c", 10.0, 60.0)):
        write_run(tmp_path / "r" / name, name, table3(50.0), breakdowns=_breakdown(single, multi, 1, 45))
    text = render([tmp_path / "r"], "--breakdown", "category")
    assert "| Model | ship SG Multi n=45 | ship SG Single n=1 |" in text  # Markdown shows n
    rows = md_rows(text)
    assert rows["a (sample)"] == ["**80.00**", "90.00 |"]  # SG single rests on 1 sample: no mark
    assert rows["b (sample)"] == ["*70.00*", "50.00 |"]
    assert "Cells resting on fewer than 20 samples are not marked." in text
    assert (
        md_rows(render([tmp_path / "r"], "--breakdown", "category", "--min-n", "1"))["a (sample)"][1] == "**90.00** |"
    )


def test_breakdown_refuses_unknown_column_ids_naming_the_valid_ones(tmp_path):
    write_run(tmp_path / "r" / "a", "a", table3(50.0), breakdowns=_breakdown(1.0, 2.0, 30, 30))
    with pytest.raises(SystemExit, match=r"no metric nope; valid --columns ids with --breakdown: grounding.multi, "):
        main([str(tmp_path / "r"), "--breakdown", "category", "--columns", "grounding.multi,nope"])


# --- which runs are read, and how they are named -----------------------------------------------------


def test_symlinked_run_folders_are_read_once(tmp_path, capsys):
    write_run(tmp_path / "store" / "exp1", "linked", table3(50.0))
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "exp1").symlink_to(tmp_path / "store" / "exp1", target_is_directory=True)
    (tmp_path / "r" / "loop").symlink_to(tmp_path / "r", target_is_directory=True)  # a cycle
    write_run(tmp_path / "r" / "own", "own", table3(40.0))
    rows = md_rows(render([tmp_path / "r"]))
    assert list(rows) == ["linked (sample)", "own (sample)"]
    assert list(md_rows(render([tmp_path / "r", tmp_path / "store"]))) == ["linked (sample)", "own (sample)"]
    assert "(read once)" in capsys.readouterr().err


def test_run_names_show_non_default_generation_settings(tmp_path):
    write_run(tmp_path / "r" / "short", "m", table3(50.0))
    write_run(tmp_path / "r" / "default", "m", table3(40.0))
    write_run(tmp_path / "r" / "mixed", "m", table3(30.0))

    def key(folder, tokens):
        generation = {s: {"max_new_tokens": tokens.get(s, 2048), "decoding": "greedy"} for s in FULL_N}
        document = {"protocol": "sarchat-v1", "model": {}, "prompts_sha256": "x", "data_sha256": {}}
        (folder / "run_key.json").write_text(json.dumps({**document, "generation": generation}))

    key(tmp_path / "r" / "short", dict.fromkeys(FULL_N, 32))
    key(tmp_path / "r" / "default", {})
    key(tmp_path / "r" / "mixed", {"count": 64})
    names = list(md_rows(render([tmp_path / "r"])))
    assert names == ["m (sample) [max_new_tokens=32]", "m (sample)", "m (sample) [max_new_tokens=64 (count)]"]


@pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("pdftoppm") is None,
    reason="pdflatex or pdftoppm not on PATH (.ci/run installs texlive and poppler-utils)",
)
def test_readme_image_of_the_latex_table_is_made_by_the_code(hostile_runs, tmp_path):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).parents[1] / "scripts" / "latex_table_image.py"
    spec = importlib.util.spec_from_file_location("latex_table_image", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "table.png"
    assert module.main([str(hostile_runs), "--out", str(out), "--dpi", "60", "--with-paper"]) == 0
    from PIL import Image

    image = Image.open(out)
    assert image.width > 200 and image.height > 200

"""sarbench.plot: radar of task scores and Table-3 bars as non-empty PNG and PDF files."""

import json

from sarbench.plot import main
from sarbench.reports.columns import TABLE3


def write_run(folder, model, value, drop=()):
    folder.mkdir(parents=True)
    metrics = {m: value for m in TABLE3}
    metrics.update({f"task.{t}": value for t in ("classify", "describe", "count", "grounding", "identify", "refer")})
    for metric in drop:
        metrics.pop(metric)
    (folder / "metrics.json").write_text(
        json.dumps({"protocol": "sarchat-v1", "metrics": metrics, "run": {"model": model, "data": "d"}})
    )


def test_plots_written_as_png_and_pdf(tmp_path, capsys):
    write_run(tmp_path / "runs" / "a", "a_b & c%#\\{x}", 80.0)
    write_run(tmp_path / "runs" / "b", "no describe", 60.0, drop=("task.describe", "describe.acc", "avg"))
    out = tmp_path / "figures"
    assert main([str(tmp_path / "runs"), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["table3_bars.pdf", "table3_bars.png", "task_radar.pdf", "task_radar.png"]
    for path in out.iterdir():
        head = path.read_bytes()[:8]
        assert path.stat().st_size > 5000 and head.startswith(b"%PDF" if path.suffix == ".pdf" else b"\x89PNG")
    assert str(out / "task_radar.png") in capsys.readouterr().out


def test_single_format_and_bad_format(tmp_path):
    write_run(tmp_path / "runs" / "a", "a", 50.0)
    assert main([str(tmp_path / "runs"), "--out", str(tmp_path / "f"), "--format", "png"]) == 0
    assert sorted(p.suffix for p in (tmp_path / "f").iterdir()) == [".png", ".png"]
    try:
        main([str(tmp_path / "runs"), "--out", str(tmp_path / "g"), "--format", "gif"])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("gif accepted")


# --- figures fit for a paper ------------------------------------------------------------------------

import matplotlib  # noqa: E402
import pytest  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from test_compare import make_run  # noqa: E402

from sarbench.plot import COLUMN_WIDTH_IN, MIN_FONT_PT, STYLE, bars, bootstrap_intervals, radar  # noqa: E402
from sarbench.reports.runs import load_runs  # noqa: E402


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    root = tmp_path_factory.mktemp("scored")
    make_run(root / "runs" / "a", 0.9, seed=1, model="m$a_b$ x", per_subset=12, images=6)
    make_run(root / "runs" / "b", 0.4, seed=2, model="weak", per_subset=12, images=6)
    return root


def test_pdfs_embed_type42_fonts_only(scored, tmp_path):
    out = tmp_path / "fig"
    assert main([str(scored / "runs"), "--out", str(out), "--format", "pdf", "--bootstrap", "50"]) == 0
    for pdf in out.glob("*.pdf"):
        data = pdf.read_bytes()
        assert b"/Type3" not in data and b"/CIDFontType2" in data, pdf.name


def test_text_is_legible_at_column_width_and_names_are_literal(scored):
    runs = load_runs([scored / "runs"])
    with matplotlib.pyplot.rc_context(STYLE):
        figures = [radar(runs), bars(runs)]
        assert figures[0].get_figwidth() == COLUMN_WIDTH_IN
        for figure in figures:
            texts = [t for t in figure.findobj(matplotlib.text.Text) if t.get_text().strip()]
            assert min(t.get_fontsize() for t in texts) >= MIN_FONT_PT
            for text in texts:
                if "a_b" in text.get_text():
                    assert text._preprocess_math(text.get_text()) == ("m$a_b$ x (synthetic)", False)


def test_bars_have_bootstrap_error_bars_and_n_for_small_columns(scored):
    runs = load_runs([scored / "runs"])
    intervals, carried = bootstrap_intervals(runs, 200)
    weak = next(run for run in runs if run.name.startswith("weak"))
    low, high = intervals[weak.name]["classify.acc"]
    assert low <= weak.metrics["classify.acc"] <= high and low < high
    with matplotlib.pyplot.rc_context(STYLE):
        figure = bars(runs, intervals, carried)
    axes = figure.axes[0]
    assert sum(isinstance(c, ErrorbarContainer) for c in axes.containers) == 2
    ticks = [t.get_text() for t in axes.get_xticklabels()]
    assert "Class.\nn=12" in ticks  # 12 samples < 20
    assert any(t.startswith("Abstract pos.\nn=") for t in ticks)  # only samples with relations
    assert "error bars: 95% bootstrap CI" in axes.get_title()


def test_paper_rows_can_be_plotted(scored, tmp_path):
    out = tmp_path / "p"
    assert main([str(scored / "runs"), "--out", str(out), "--format", "svg", "--paper", "Qwen2-VL-7B"]) == 0
    assert "Qwen2-VL-7B (paper)" in (out / "table3_bars.svg").read_text()
    with pytest.raises(SystemExit, match="does not list"):
        main([str(scored / "runs"), "--out", str(out), "--paper", "GPT-9"])

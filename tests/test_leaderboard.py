"""The basic leaderboard: metrics.json files below a directory -> Markdown, CSV, LaTeX."""
import json

import pytest

from sarbench.leaderboard import latex_escape, main


def write_run(directory, model, avg, classify):
    directory.mkdir(parents=True)
    result = {"protocol": "sarchat-v1", "n": {"classify": 3},
              "metrics": {"avg": avg, "classify.acc": classify, "count.only": None},
              "run": {"model": model, "data": "sample"}}
    (directory / "metrics.json").write_text(json.dumps(result))


@pytest.fixture
def results(tmp_path):
    write_run(tmp_path / "a" / "sample", "weak_model", 50.0, 40.0)
    write_run(tmp_path / "b" / "sample", "strong & 100%", 90.5, 97.25)
    return tmp_path


def test_markdown(results, capsys):
    assert main([str(results)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| Model | Avg | Cnt only |")
    assert lines[2].startswith("| strong & 100% (sample) | 90.50 | - |")  # sorted by avg
    assert "| 97.25 |" in lines[2] and lines[3].startswith("| weak_model (sample) | 50.00")


def test_csv_and_latex(results, tmp_path):
    out = tmp_path / "t.csv"
    assert main([str(results), "--format", "csv", "--out", str(out)]) == 0
    assert out.read_text().splitlines()[0].startswith("model,Avg,Cnt only")
    tex = tmp_path / "t.tex"
    assert main([str(results), "--format", "latex", "--out", str(tex)]) == 0
    text = tex.read_text()
    assert r"\toprule" in text and r"strong \& 100\% (sample)" in text and r"weak\_model" in text


def test_latex_escape():
    assert latex_escape(r"a_b&c%d#e\f{g}$~^") == (r"a\_b\&c\%d\#e\textbackslash{}f\{g\}\$"
                                                  r"\textasciitilde{}\textasciicircum{}")


def test_no_results(tmp_path):
    with pytest.raises(SystemExit, match="no metrics.json"):
        main([str(tmp_path)])

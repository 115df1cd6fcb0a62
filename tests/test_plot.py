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

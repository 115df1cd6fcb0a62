"""`sarbench <verb>` and the run's command-line failures that Hydra used to report first."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sarbench import cli
from sarbench.__main__ import CONF_DIR, LOG_NAME

REPO = Path(__file__).resolve().parents[1]
# the subprocesses import this checkout's sarbench, whatever is installed
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def run_module(*args, cwd):
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)


def test_conf_dir_is_the_checkouts_conf():
    assert CONF_DIR == REPO / "conf"


def test_help_lists_every_verb_with_its_line(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, verb in cli.VERBS.items():
        assert f"  {name}" in out and verb.summary in out


@pytest.mark.parametrize("verb", ["score", "build", "leaderboard", "compare", "plot"])
def test_verb_help(verb, capsys):
    assert cli.main([verb, "--help"]) == 0
    assert "usage:" in capsys.readouterr().out


def test_run_help_is_hydras_app_help(tmp_path):
    done = run_module("sarbench.cli", "run", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "== Config groups ==" in done.stdout and "sarbench run model=<model>" in done.stdout


@pytest.mark.parametrize("argv, status", [(["frob"], 2), ([], 2)])
def test_unknown_or_missing_verb_lists_the_verbs(argv, status, capsys):
    assert cli.main(argv) == status
    err = capsys.readouterr().err
    assert all(name in err for name in cli.VERBS)
    if argv:
        assert "unknown verb 'frob'" in err


def test_a_reports_error_message_is_printed_not_lost(tmp_path, capsys):
    assert cli.main(["leaderboard", str(tmp_path / "missing")]) == 1
    assert "missing" in capsys.readouterr().err


def test_run_then_score_its_predictions(tmp_path, capsys):
    out = tmp_path / "run"
    done = run_module(
        "sarbench.cli", "run", "model=oracle", "task=classify", f"out={out}", "runner.progress=false", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "metrics.json").read_text())["metrics"]["avg"] == 100.0
    assert (out / LOG_NAME).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing in the working directory
    scored = tmp_path / "scored.json"
    assert cli.main(["score", str(out / "predictions"), "--no-meteor", "--quiet", "--out", str(scored)]) == 0
    assert json.loads(scored.read_text())["metrics"]["classify.acc"] == 100.0


def test_data_built_without_root_is_the_projects_error(tmp_path):
    done = run_module("sarbench", "data=built", cwd=tmp_path)
    assert done.returncode == 2
    assert "data.root not set" in done.stderr and "data.root=/path/to/data" in done.stderr
    assert "Traceback" not in done.stderr and "Error executing job" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_is_the_projects_error(tmp_path):
    (tmp_path / "taken").write_text("")
    done = run_module("sarbench", "out=taken", cwd=tmp_path)
    assert done.returncode == 2
    assert "out=taken is a file" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_refused_run_leaves_no_out_folder_it_created(tmp_path):
    (tmp_path / "empty_data").mkdir()
    done = run_module("sarbench", "data=built", "data.root=empty_data", "out=results/new/run", cwd=tmp_path)
    assert done.returncode == 2
    assert "nothing was run" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty_data"]


def test_refused_run_keeps_an_out_folder_that_was_there(tmp_path):
    out = tmp_path / "earlier"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (tmp_path / "empty_data").mkdir()
    done = run_module("sarbench", "data=built", "data.root=empty_data", f"out={out}", cwd=tmp_path)
    assert done.returncode == 2
    assert (out / "notes.txt").read_text() == "mine"
    assert "nothing was run" in (out / LOG_NAME).read_text()  # the refusal is in the run's log

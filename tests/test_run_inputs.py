"""What a run accepts as its test set and settings, and how partial or stale results are shown."""

import json
import logging
import shutil

import pytest
from test_run import make_dataset, run

from sarbench.data import load_dataset
from sarbench.provenance import describe_key_change
from sarbench.records import DataError
from sarbench.reports.runs import load_runs
from sarbench.runner import RunError, Runner
from sarbench.subsets import FILE_STEMS


def test_files_that_only_contain_a_test_stem_do_not_join_the_test_set(tmp_path, caplog):
    data = make_dataset(tmp_path / "data", per_subset=3)
    stem = FILE_STEMS["classify"]
    shutil.copy(data / f"{stem}.json", data / f"{stem} (copy).json")
    shutil.copy(data / f"{stem}.json", data / f"{stem}_final_results.jsonl")
    with caplog.at_level(logging.WARNING, logger="sarbench"):
        result = run(data, tmp_path / "run", "task=classify")
    assert result["n"] == {"classify": 3}
    assert "(copy).json: not an official test file name" in caplog.text
    assert "_final_results.jsonl: not an official test file name" in caplog.text


def test_a_missing_official_file_stops_the_run_naming_it(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    (data / f"{FILE_STEMS['describe']}.json").unlink()
    with pytest.raises(RunError, match=r"no test file for describe \(expected SARChat_describe_test.json\)"):
        run(data, tmp_path / "run")
    assert run(data, tmp_path / "run", "task=count")["n"] == {"count": 2}


def test_an_empty_file_is_an_error_and_an_empty_array_a_warned_absent_subset(tmp_path, caplog):
    data = make_dataset(tmp_path / "data", per_subset=2)
    (data / f"{FILE_STEMS['classify']}.json").write_text("  \n")
    with pytest.raises(RunError, match=r"SARChat_classify_test.json: empty file"):
        run(data, tmp_path / "run", "task=classify")
    (data / f"{FILE_STEMS['classify']}.json").write_text("[]")
    with caplog.at_level(logging.WARNING, logger="sarbench"):
        result = run(data, tmp_path / "run", "task=all")
    assert "classify" not in result["n"] and len(result["n"]) == 8
    assert "classify has no records" in caplog.text


def test_bom_and_non_utf8_files(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    path = data / f"{FILE_STEMS['count']}.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(load_dataset(data, subsets=["count"]).samples["count"]) == 2
    path.write_bytes(path.read_bytes().replace(b"Count", b"C\xffount", 1))
    with pytest.raises(DataError, match="SARChat_classify_count_test.json: not UTF-8 text"):
        load_dataset(data, subsets=["count"])


@pytest.mark.parametrize(
    "override, message",
    [
        ("runner.limit=-1", "runner.limit must be a whole number >= 1 \\(or null for all samples\\), got -1"),
        ("runner.limit=0", "runner.limit must be a whole number >= 1"),
        ("runner.limit=abc", "runner: setting limit='abc' should be int or null"),
        ("runner.batch_size=2.5", "runner: setting batch_size=2.5 should be int"),
        ("runner.max_consecutive_failures=0", "runner.max_consecutive_failures must be"),
        ("runner.retry_failed=true", "runner: setting retry_failed=True should be one of transient, all, none"),
        ("+runner.batchsize=4", "runner: unknown setting.s. batchsize; valid: allow_failures, batch_size, "),
    ],
)
def test_runner_settings_are_checked(tmp_path, override, message):
    data = make_dataset(tmp_path / "data", per_subset=2)
    with pytest.raises(RunError, match=message):
        run(data, tmp_path / "run", "task=classify", override)


def test_skipped_records_are_reported_in_metrics_and_keep_later_ids(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=3)
    path = data / f"{FILE_STEMS['classify']}.json"
    records = json.loads(path.read_text())
    records[1] = {"messages": []}
    path.write_text(json.dumps(records))
    result = run(data, tmp_path / "run", "task=classify", "data.collect_errors=true")
    assert result["n"] == {"classify": 2}
    assert [m["index"] for m in result["malformed"]] == [1] and "messages" in result["malformed"][0]["problem"]
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert written["malformed"] == result["malformed"]
    ids = [
        json.loads(line)["id"]
        for line in (tmp_path / "run" / "predictions" / "classify.jsonl").read_text().splitlines()
    ]
    assert ids == ["classify/0", "classify/2"]


def test_an_interrupted_run_leaves_no_earlier_metrics_behind(tmp_path, monkeypatch):
    data = make_dataset(tmp_path / "data", per_subset=3)
    out = tmp_path / "run"
    run(data, out, "task=classify", "runner.limit=1")
    assert (out / "metrics.json").exists()

    def killed(self, stores):
        raise KeyboardInterrupt

    monkeypatch.setattr(Runner, "score", killed)
    with pytest.raises(KeyboardInterrupt):
        run(data, out, "task=classify")
    assert not (out / "metrics.json").exists() and not (out / "details.jsonl").exists()
    monkeypatch.undo()
    run(data, out, "task=classify")
    # every session that wrote predictions is on record, the interrupted one as such
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [s["outcome"] for s in sessions] == ["completed", "interrupted", "completed"]
    assert all(s["finished"] for s in sessions)
    assert [s["samples_generated"] for s in sessions] == [1, 2, 0]
    assert all(s["packages"] and s["started"] for s in sessions)


def test_partial_runs_are_named_as_such_in_tables(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    run(data, tmp_path / "runs" / "limited", "task=all", "runner.limit=1", "data.name=d")
    run(data, tmp_path / "runs" / "classify_only", "task=classify", "data.name=d", "model.name=other")
    run(data, tmp_path / "runs" / "full", "task=all", "data.name=d", "model.name=full")
    names = sorted(r.name for r in load_runs([tmp_path / "runs"]))
    assert names == ["full (d)", "oracle (d) [limit 1]", "other (d) [1/9 subsets]"]


def test_a_metrics_file_of_the_wrong_shape_is_skipped_with_a_note(tmp_path, capsys):
    data = make_dataset(tmp_path / "data", per_subset=2)
    run(data, tmp_path / "runs" / "good", "task=classify")
    broken = tmp_path / "runs" / "broken"
    broken.mkdir()
    document = json.loads((tmp_path / "runs" / "good" / "metrics.json").read_text())
    (broken / "metrics.json").write_text(json.dumps({**document, "metrics": {"avg": "abc"}}))
    assert [r.folder.name for r in load_runs([tmp_path / "runs"])] == ["good"]
    assert "skipped" in capsys.readouterr().err


def test_a_refused_resume_names_the_setting_that_changed():
    old = {"model": {"settings": {"system_prompt": None, "dtype": "auto", "x": "y" * 300}}}
    new = {"model": {"settings": {"system_prompt": "Hi", "dtype": "auto", "x": "y" * 300}}}
    assert describe_key_change(old, new) == ['model.settings.system_prompt: null -> "Hi"']
    assert describe_key_change({"a": 1}, {}) == ["a: 1 -> (absent)"]


def test_a_run_where_every_sample_failed_exits_non_zero(tmp_path):
    import subprocess

    from test_run import REPO, _cli

    data = make_dataset(tmp_path / "data", per_subset=2)
    shutil.rmtree(data / "images")  # every sample: a missing image, an inference failure
    done = subprocess.run(_cli(data, tmp_path / "run", "task=classify"), cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 3 and "all 2 samples failed inference" in done.stderr
    assert (tmp_path / "run" / "metrics.json").exists()  # still scored and written
    make_dataset(data, per_subset=2)
    done = subprocess.run(
        _cli(data, tmp_path / "run", "task=classify", "runner.retry_failed=all"),
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_a_validation_split_is_evaluated_with_data_split(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    for path in data.glob("SARChat_*_test.json"):
        path.rename(path.with_name(path.name.replace("_test.json", "_val.json")))
    with pytest.raises(RunError, match="no SARChat test files"):
        run(data, tmp_path / "run")
    result = run(data, tmp_path / "run", "data.split=val")
    assert result["n"] == {s: 2 for s in FILE_STEMS}  # identify_single and _multi stay apart


def test_unset_data_root_and_an_out_that_is_a_file_are_named(tmp_path):
    from test_run import config

    from sarbench.evaluate import run_from_config

    with pytest.raises(RunError, match="data.root is not set"):
        run_from_config(config("data=sarchat", f"out={tmp_path / 'run'}"))
    data = make_dataset(tmp_path / "data", per_subset=1)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(RunError, match="is a file"):
        run(data, tmp_path / "a_file", "task=classify")


def test_a_corrupt_prediction_line_is_a_run_error_naming_it(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=3)
    out = tmp_path / "run"
    run(data, out, "task=classify")
    path = out / "predictions" / "classify.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "{broken", *lines[1:]]) + "\n")
    with pytest.raises(RunError, match=r"classify.jsonl: corrupt prediction on line 2"):
        run(data, out, "task=classify")

"""`python -m sarbench.score` on swift-infer style files: every metric id, JSON schema, errors."""

import json
import subprocess
import sys

import pytest
from test_data import REFERENCES

from sarbench.score import main
from sarbench.subsets import FILE_STEMS

ALL_METRIC_IDS = (
    [
        "classify.acc",
        "describe.acc",
        "describe.bleu1",
        "describe.bleu2",
        "describe.bleu3",
        "describe.bleu4",
        "describe.cider",
        "describe.rouge_l",
        "describe.meteor",
        "count.only",
        "count.iou25",
        "count.iou50",
        "count.mae",
        "count.rmse",
        "count.within1",
        "grounding.single",
        "grounding.multi",
        "grounding.abstract",
        "identify.single",
        "identify.multi",
        "refer.single.iou25",
        "refer.single.iou50",
        "refer.multi.iou25",
        "refer.multi.iou50",
        "task.classify",
        "task.describe",
        "task.count",
        "task.grounding",
        "task.identify",
        "task.refer",
        "avg",
        "avg_paper",
    ]
    + [f"{s}.parse_fail" for s in FILE_STEMS]
    + [
        f"{m}.sample_mean"
        for m in (
            "classify.acc",
            "describe.acc",
            "count.iou25",
            "count.iou50",
            "grounding.single",
            "grounding.multi",
            "grounding.abstract",
            "identify.single",
            "identify.multi",
            "refer.single.iou25",
            "refer.single.iou50",
            "refer.multi.iou25",
            "refer.multi.iou50",
        )
    ]
)


def swift_record(subset, response):
    question, answer = REFERENCES[subset]
    if subset == "grounding_multi":
        answer += " The ship is near the ship."
    return {
        "response": response if response is not None else answer,
        "labels": answer,
        "messages": [{"role": "user", "content": "<image>\n" + question}],
        "images": ["a.png"],
    }


@pytest.fixture
def results_dir(tmp_path):
    for subset, stem in FILE_STEMS.items():
        records = [swift_record(subset, None), swift_record(subset, "I don't know.")]
        name = f"{stem}_final_results.jsonl" if subset != "classify" else f"{stem}.json"
        body = "\n".join(json.dumps(r) for r in records) if name.endswith("jsonl") else json.dumps(records)
        (tmp_path / name).write_text(body)
    return tmp_path


def test_every_metric_id(results_dir, tmp_path, capsys):
    out = tmp_path / "out" / "metrics.json"
    details = tmp_path / "details.jsonl"
    assert main([str(results_dir), "--out", str(out), "--details", str(details), "--no-meteor"]) == 0
    result = json.loads(out.read_text())
    assert result["protocol"] == "sarchat-v1"
    assert result["n"] == {s: 2 for s in FILE_STEMS}
    assert set(ALL_METRIC_IDS) <= set(result["metrics"])
    assert result["metrics"]["describe.meteor"] is None  # --no-meteor: absent, never 0
    assert result["metrics"]["refer.single.iou50"] == 50.0
    assert result["metrics"]["refer_single.parse_fail"] == 50.0
    lines = [json.loads(line) for line in details.read_text().splitlines()]
    assert len(lines) == 18
    refer = next(l for l in lines if l["id"] == "refer_single/1")
    assert refer["parse_fail"] and refer["counts"]["refer.single.iou50"] == {"tp": 0, "fp": 0, "fn": 1}
    printed = capsys.readouterr().out
    assert "refer.single.iou50" in printed and "sarchat-v1" in printed


def test_files_concatenate_in_order(results_dir, tmp_path):
    out = tmp_path / "m.json"
    first = results_dir / "SARChat_classify_test.json"
    second = tmp_path / "classify.jsonl"
    second.write_text(json.dumps(swift_record("classify", "It is car.")) + "\n")
    assert main([str(first), str(second), "--out", str(out), "--quiet", "--no-meteor"]) == 0
    result = json.loads(out.read_text())
    assert result["n"] == {"classify": 3}
    assert result["metrics"]["classify.acc"] == pytest.approx(100 / 4)


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "count.jsonl"
    path.write_text(json.dumps({"response": "3"}) + "\n")
    assert main([str(path)]) == 2
    assert "count.jsonl, record 0" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.jsonl")]) == 2


def test_collect_errors(tmp_path):
    path = tmp_path / "count.jsonl"
    path.write_text(json.dumps({"response": "3"}) + "\n{broken\n" + json.dumps(swift_record("count", None)) + "\n")
    out = tmp_path / "m.json"
    assert main([str(path), "--collect-errors", "--out", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert result["n"] == {"count": 1} and len(result["malformed"]) == 2


def test_module_entry_point(results_dir):
    run = subprocess.run(
        [sys.executable, "-m", "sarbench.score", str(results_dir), "--no-meteor"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "avg_paper" in run.stdout


def test_jsonl_saved_as_json_in_a_directory_is_read_and_meta_files_are_not(tmp_path):
    from sarbench.result_files import load_predictions

    folder = tmp_path / "results"
    folder.mkdir()
    line = {
        "response": "It is ship.",
        "labels": "It is ship.",
        "messages": [
            {
                "role": "user",
                "content": "<image>\nBased on these category options (aircraft, "
                "bridge, car, harbor, ship, tank), what's visible in this scene?",
            }
        ],
    }
    (folder / "my_results.json").write_text("\n".join(json.dumps(line) for _ in range(3)) + "\n")
    (folder / "metrics.json").write_text(json.dumps({"protocol": "x", "metrics": {}}, indent=2))
    (folder / "manifest.json").write_text(json.dumps({"model": "m"}))
    by_subset, _, used = load_predictions([folder])
    assert [p.name for p in used] == ["my_results.json"] and len(by_subset["classify"]) == 3


def test_a_sample_id_read_twice_is_refused(tmp_path):
    from sarbench.records import DataError
    from sarbench.result_files import load_predictions

    record = {"id": "classify/0", "response": "It is ship.", "labels": "It is ship."}
    path = tmp_path / "classify.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(DataError, match=r"classify.jsonl, record 1: sample id 'classify/0' again"):
        load_predictions([path])


def test_records_without_a_response_field_are_scored_empty_and_counted(tmp_path, capsys):
    path = tmp_path / "classify.jsonl"
    path.write_text(
        json.dumps({"labels": "It is ship."}) + "\n" + json.dumps({"labels": "It is ship.", "response": None}) + "\n"
    )
    out = tmp_path / "m.json"
    assert main([str(path), "--no-meteor", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["no_response_field"] == {"classify": 1} and result["metrics"]["classify.acc"] == 0
    assert "1 records have no 'response' field" in capsys.readouterr().out

"""The evaluation run: oracle end to end, resume after kill -9, failures, config guards, provenance."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from PIL import Image
from test_data import REFERENCES, record

from sarbench.__main__ import CONF_DIR
from sarbench.evaluate import run_from_config
from sarbench.runner import RunError
from sarbench.subsets import FILE_STEMS

REPO = Path(__file__).resolve().parents[1]


def make_dataset(root: Path, per_subset: int = 10) -> Path:
    (root / "images").mkdir(parents=True, exist_ok=True)
    for name, shade in (("a", 30), ("b", 90)):
        Image.new("L", (256, 256), shade).save(root / "images" / f"{name}.png")
    for subset, stem in FILE_STEMS.items():
        question, answer = REFERENCES[subset]
        records = [record(question, answer, f"images/{'ab'[i % 2]}.png") for i in range(per_subset)]
        (root / f"{stem}.json").write_text(json.dumps(records))
    return root


def config(*overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose(config_name="config", overrides=list(overrides))


def run(data: Path, out: Path, *overrides):
    cfg = config(
        "data=built", f"data.root={data}", f"out={out}", "scoring.meteor=false", "runner.progress=false", *overrides
    )
    return run_from_config(cfg)


def predictions(out: Path) -> dict[str, list[dict]]:
    return {
        p.stem: [json.loads(l) for l in p.read_text().splitlines()]
        for p in sorted((out / "predictions").glob("*.jsonl"))
    }


def test_oracle_scores_100_and_records_provenance(tmp_path, capsys):
    data = make_dataset(tmp_path / "data")
    out = tmp_path / "run"
    result = run(data, out, "runner.batch_size=4")
    for metric, value in result["metrics"].items():
        if metric.endswith("parse_fail") or metric in ("count.mae", "count.rmse"):
            assert value == 0, metric
        elif metric not in ("describe.meteor", "grounding.abstract", "describe.cider"):
            assert value == pytest.approx(100), metric
    assert result["n"] == {s: 10 for s in FILE_STEMS}
    assert json.loads((out / "metrics.json").read_text())["metrics"] == result["metrics"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["data_sha256"]) == {f"{stem}.json" for stem in FILE_STEMS.values()}
    assert manifest["protocol"] == "sarchat-v1" and manifest["packages"]["numpy"]
    assert manifest["samples_generated"] == 90 and manifest["git"]["sha"] is None or len(manifest["git"]["sha"]) == 40
    assert "model:" in (out / "config.yaml").read_text()
    lines = predictions(out)["refer_multi"]
    assert [l["id"] for l in lines] == [f"refer_multi/{i}" for i in range(10)]
    assert {"id", "response", "labels", "messages", "images", "latency_s"} <= set(lines[0])
    assert "avg_paper" in capsys.readouterr().out


def test_predictions_folder_is_valid_score_input(tmp_path):
    from sarbench.score import main as score_main

    data = make_dataset(tmp_path / "data", per_subset=3)
    result = run(data, tmp_path / "run", "task=refer")
    out = tmp_path / "rescored.json"
    assert score_main([str(tmp_path / "run" / "predictions"), "--out", str(out), "--quiet"]) == 0
    assert json.loads(out.read_text())["metrics"] == result["metrics"]


def test_resume_skips_done_and_repairs_truncated_line(tmp_path):
    data = make_dataset(tmp_path / "data")
    out = tmp_path / "run"
    first = run(data, out, "task=count", "runner.limit=4")
    path = out / "predictions" / "count.jsonl"
    with open(path, "a") as handle:
        handle.write('{"id": "count/4", "resp')  # a kill mid-write
    second = run(data, out, "task=count")
    lines = predictions(out)["count"]
    assert [l["id"] for l in lines] == [f"count/{i}" for i in range(10)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["samples_resumed"] == 4 and manifest["samples_generated"] == 6
    assert manifest["repaired_bytes"] > 0
    assert first["n"] == {"count": 4} and second["n"] == {"count": 10}


def test_changed_config_is_refused_unless_overwrite(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    out = tmp_path / "run"
    run(data, out, "task=classify")
    with pytest.raises(RunError, match="task.max_new_tokens|generation"):
        run(data, out, "task=classify", "task.max_new_tokens=16")
    with pytest.raises(RunError, match="model"):
        run(data, out, "task=classify", "model.delay_s=0.5")
    stem = FILE_STEMS["classify"]
    records = json.loads((data / f"{stem}.json").read_text())
    records[0]["messages"][1]["content"] = "It is tank."
    (data / f"{stem}.json").write_text(json.dumps(records))
    with pytest.raises(RunError, match="data_sha256"):
        run(data, out, "task=classify")
    result = run(data, out, "task=classify", "runner.overwrite=true")
    assert result["metrics"]["classify.acc"] == 100
    # adding another task to the same out is allowed
    run(data, out, "task=count")


def test_batch_size_and_limit_do_not_invalidate(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=6)
    out = tmp_path / "run"
    run(data, out, "task=refer", "runner.limit=2", "runner.batch_size=1")
    result = run(data, out, "task=refer", "runner.batch_size=5")
    assert result["n"] == {"refer_single": 6, "refer_multi": 6}


def test_missing_and_corrupt_images_are_counted_failures(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=4)
    (data / "images" / "b.png").write_bytes(b"not a png")
    records = json.loads((data / f"{FILE_STEMS['count']}.json").read_text())
    records[0]["images"] = ["images/missing.png"]
    (data / f"{FILE_STEMS['count']}.json").write_text(json.dumps(records))
    result = run(data, tmp_path / "run", "task=count")
    lines = predictions(tmp_path / "run")["count"]
    assert [("error" in l) for l in lines] == [True, True, False, True]
    assert "image not found" in lines[0]["error"] and "cannot read image" in lines[1]["error"]
    assert result["inference_failures"] == {"count": 3}
    assert result["metrics"]["count.only"] == 25.0


def test_retry_failed(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    good = (data / "images" / "b.png").read_bytes()
    (data / "images" / "b.png").write_bytes(b"broken")
    out = tmp_path / "run"
    assert run(data, out, "task=classify")["inference_failures"] == {"classify": 1}
    (data / "images" / "b.png").write_bytes(good)
    assert run(data, out, "task=classify")["inference_failures"] == {"classify": 1}  # done is done
    result = run(data, out, "task=classify", "runner.retry_failed=all")
    assert result["inference_failures"] == {"classify": 0}
    assert [l["id"] for l in predictions(out)["classify"]] == ["classify/0", "classify/1"]


def test_malformed_record_fails_before_inference(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    (data / f"{FILE_STEMS['refer_single']}.json").write_text(json.dumps([{"messages": []}]))
    out = tmp_path / "run"
    with pytest.raises(RunError, match=r"SARChat_classify_refer_single_test.json, record 0"):
        run(data, out)
    assert not (out / "predictions").exists()


def test_write_errors_keep_earlier_predictions(tmp_path, monkeypatch):
    from sarbench import prediction_store

    data = make_dataset(tmp_path / "data", per_subset=6)
    out = tmp_path / "run"
    calls = {"n": 0}
    original = prediction_store.PredictionFile.append

    def failing_append(self, records):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        original(self, records)

    monkeypatch.setattr(prediction_store.PredictionFile, "append", failing_append)
    with pytest.raises(RunError, match="No space left on device.*intact"):
        run(data, out, "task=count", "runner.batch_size=2")
    assert [l["id"] for l in predictions(out)["count"]] == ["count/0", "count/1", "count/2", "count/3"]
    monkeypatch.setattr(prediction_store.PredictionFile, "append", original)
    assert run(data, out, "task=count", "runner.batch_size=2")["n"] == {"count": 6}


def test_unknown_model_lists_choices():
    with pytest.raises(Exception, match="oracle"):
        config("model=does-not-exist")


def _cli(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sarbench",
        "data=built",
        f"data.root={data}",
        f"out={out}",
        "scoring.meteor=false",
        "runner.progress=false",
        "runner.batch_size=3",
        *extra,
    ]


def test_kill_minus_9_then_resume_gives_identical_metrics(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=12)
    clean = tmp_path / "clean"
    subprocess.run(_cli(data, clean, "model.delay_s=0.1"), check=True, capture_output=True, timeout=300)
    killed = tmp_path / "killed"
    rng = random.Random(1)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for _attempt in range(4):
        process = subprocess.Popen(
            _cli(data, killed, "model.delay_s=0.1"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(1.0, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
    done = subprocess.run(_cli(data, killed, "model.delay_s=0.1"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads((killed / "metrics.json").read_text()) == json.loads((clean / "metrics.json").read_text())
    # a killed session stays on record unfinished, with no outcome; the last one completed
    sessions = json.loads((killed / "manifest.json").read_text())["sessions"]
    assert sessions[-1]["outcome"] == "completed"
    assert all(s["finished"] is None for s in sessions[:-1] if s["outcome"] is None)
    for subset, lines in predictions(killed).items():
        ids = [l["id"] for l in lines]
        assert sorted(ids) == sorted(f"{subset}/{i}" for i in range(12)), subset
        assert len(ids) == len(set(ids))


def test_max_new_tokens_has_one_default_and_per_subset_values(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=1)
    for name in ("all", "classify", "count", "describe", "grounding", "identify", "refer"):
        assert config(f"task={name}").task.max_new_tokens == 2048  # conf/task_base/generation.yaml
    with pytest.raises(RunError, match="task.max_new_tokens is not set"):
        run(data, tmp_path / "unset", "task=count", "~task.max_new_tokens")
    with pytest.raises(RunError, match=r"no 'default' and no value for \['count'\]"):
        run(data, tmp_path / "partial", "task=count", "task.max_new_tokens={classify:4}")
    run(data, tmp_path / "dict", "task=count", "task.max_new_tokens={default:4,count:3}")
    key = json.loads((tmp_path / "dict" / "run_key.json").read_text())
    assert key["generation"] == {"count": {"max_new_tokens": 3, "decoding": "greedy"}}

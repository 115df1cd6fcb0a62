"""bench/gpu_check.sh's dry run (--cpu): the GPU check's whole code path on CPU, so it cannot rot
before a GPU box runs it. Main tier: every tiny family on backend=hf, batch 1 = batch 8, vLLM
parts recorded as skipped with the reason; vLLM tier: one family through our vLLM backend and
raw `LLM.generate` too."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from gpu_check import TINY, VLLM_ONLY, attempt, summary  # noqa: E402

HAS_VLLM = importlib.util.find_spec("vllm") is not None


def dry_run(tmp_path, *extra):
    env = {**os.environ, "SARBENCH_PYTHON": sys.executable, "SARBENCH_TINY_CACHE": str(tmp_path / "tiny")}
    result = subprocess.run(
        ["bash", "bench/gpu_check.sh", "--cpu", "--out", str(tmp_path / "out"), *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "gpu_check.json").read_text())
    return report, (tmp_path / "out" / "gpu_check.md").read_text()


@pytest.mark.skipif(HAS_VLLM, reason="the main tier's dry run; the vLLM tier runs the one below")
def test_the_dry_run_checks_every_tiny_family_on_hf(tmp_path):
    report, table = dry_run(tmp_path, "--shards", "2")
    assert list(report["hf"]) == list(TINY)
    for model, entry in report["hf"].items():
        if model in VLLM_ONLY:
            assert entry == {"skipped": VLLM_ONLY[model]}
            continue
        assert "error" not in entry, (model, entry)
        assert entry["samples"] == 9 and entry["batch1_equals_batch8"] is True
        assert entry["batch8_samples_per_s"] > 0
    assert report["vllm"]["tiny-qwen2vl"] == {"skipped": "vllm is not importable here"}
    assert "does not run on vLLM" in report["vllm"]["tiny-yivl"]["skipped"]
    shards = report["shards"]
    assert shards["exit_codes"] == [0, 0] and shards["samples"] == 9 and shards["identical_to_one_process"] is True
    assert report["environment"]["mode"] == "cpu dry run"
    assert all(f"| {model} |" in table for model in TINY)


@pytest.mark.skipif(not HAS_VLLM, reason="the vLLM tier runs in .venv-vllm (bash scripts/setup_vllm_env.sh)")
def test_the_dry_run_measures_vllm_and_raw_generate(tmp_path):
    report, _ = dry_run(tmp_path, "--models", "tiny-qwen2vl", "--eager")
    hf, ours = report["hf"]["tiny-qwen2vl"], report["vllm"]["tiny-qwen2vl"]
    assert "error" not in ours, ours
    assert ours["samples"] == 9 and ours["samples_per_s"] > 0 and ours["raw_samples_per_s"] > 0
    assert ours["raw_identical_to_ours"] == 1.0 and ours["identical_to_hf"] == 1.0
    assert hf["batch1_equals_batch8"] is True


def test_a_failing_check_is_reported_and_the_others_go_on(tmp_path):
    results = {}
    attempt(results, "broken", lambda: 1 / 0)
    attempt(results, "fine", lambda: {"batch8_samples_per_s": 3.0})
    assert results["broken"]["error"].startswith("ZeroDivisionError") and results["fine"]["batch8_samples_per_s"] == 3
    env = {"mode": "gpu", "device": "x", "gpus": 1, "torch": "t", "transformers": "t", "vllm": None}
    report = {"environment": {**env, "limit_per_subset": 8, "new_tokens": 32}, "hf": results, "vllm": {}, "shards": {}}
    assert "| broken | ZeroDivisionError" in summary(report)

"""Sharded runs (sarbench/shards.py): N processes at once in one folder equal one process; a
killed shard resumes; exclusive writers; readers see a partial sharded folder as partial."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_run import _cli as cli
from test_run import make_dataset, predictions, run

from sarbench.evaluate import run_from_config
from sarbench.runner import RunError
from sarbench.shards import Shard, shard_of

ORACLE = ("runner.batch_size=2",)


def start(data: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(cli(data, out, *extra), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def shards_at_once(data: Path, out: Path, n: int, *extra: str) -> None:
    processes = [start(data, out, f"runner.num_shards={n}", f"runner.shard={k}", *extra) for k in range(n)]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err


def union(out: Path) -> dict[str, dict[str, dict]]:
    """subset -> id -> record, over every shard's file."""
    merged: dict[str, dict[str, dict]] = {}
    for name, lines in predictions(out).items():
        subset = name.split(".")[0]
        for line in lines:
            assert line["id"] not in merged.setdefault(subset, {}), f"{line['id']} twice"
            merged[subset][line["id"]] = line
    return merged


def assert_same_run(sharded: Path, single: Path) -> None:
    assert (sharded / "metrics.json").read_bytes() == (single / "metrics.json").read_bytes()
    a, b = union(sharded), union(single)
    assert a.keys() == b.keys()
    for subset in a:
        assert a[subset].keys() == b[subset].keys(), subset
        assert {i: r["response"] for i, r in a[subset].items()} == {i: r["response"] for i, r in b[subset].items()}


@given(st.lists(st.text(min_size=1), min_size=1, max_size=30, unique=True), st.integers(1, 9))
def test_every_sample_is_in_exactly_one_shard(ids, n):
    for sample_id in ids:
        owners = [k for k in range(n) if Shard(k, n).owns(sample_id)]
        assert owners == [shard_of(sample_id, n)]


def test_shard_settings_are_checked(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    with pytest.raises(RunError, match=r"runner.shard must be .* 0 to runner.num_shards-1=2, got 3"):
        run(data, tmp_path / "out", "runner.num_shards=3", "runner.shard=3")
    with pytest.raises(RunError, match=r"runner.num_shards must be a whole number >= 1, got 0"):
        run(data, tmp_path / "out", "runner.num_shards=0")


def test_three_oracle_shards_at_once_equal_one_process(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=8)
    single = tmp_path / "single"
    run(data, single, *ORACLE)
    sharded = tmp_path / "sharded"
    shards_at_once(data, sharded, 3, *ORACLE, "model.delay_s=0.05")
    assert_same_run(sharded, single)
    record = json.loads((sharded / "shards.json").read_text())
    assert [record["shards"][str(k)]["state"] for k in range(3)] == ["done"] * 3
    assert sum(record["shards"][str(k)]["samples"] for k in range(3)) == 72
    sessions = json.loads((sharded / "manifest.json").read_text())["sessions"]
    assert sorted(s["shard"] for s in sessions) == ["shard 0/3", "shard 1/3", "shard 2/3"]
    assert all(s["finished"] for s in sessions)


def test_killed_shard_rerun_completes_identically(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=8)
    single = tmp_path / "single"
    run(data, single, *ORACLE)
    out = tmp_path / "sharded"
    slow = (*ORACLE, "runner.num_shards=3", "model.delay_s=0.2")
    victim = start(data, out, *slow, "runner.shard=1")
    others = [start(data, out, *slow, f"runner.shard={k}") for k in (0, 2)]
    deadline = time.monotonic() + 120
    while not list((out / "predictions").glob("*.shard-1-of-3.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    for process in others:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert not (out / "metrics.json").exists()  # never scored without shard 1
    status = subprocess.run([sys.executable, "-m", "sarbench.status", str(out)], capture_output=True, text=True)
    assert status.returncode == 1 and "2/3 shards done" in status.stdout and "killed" in status.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "sarbench.score", str(out / "predictions")], capture_output=True, text=True
    )
    assert refused.returncode == 2 and "not yet complete (2/3 shards)" in refused.stderr
    redo = subprocess.run(cli(data, out, *slow, "runner.shard=1"), capture_output=True, text=True, timeout=300)
    assert redo.returncode == 0, redo.stderr
    assert_same_run(out, single)
    done = subprocess.run([sys.executable, "-m", "sarbench.status", str(out)], capture_output=True, text=True)
    assert done.returncode == 0 and "3/3 shards done" in done.stdout


def test_two_unsharded_runs_at_once_second_is_refused(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=6)
    out = tmp_path / "run"
    first = start(data, out, *ORACLE, "model.delay_s=0.5")
    deadline = time.monotonic() + 120
    while not (out / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second, sharded = start(data, out, *ORACLE), start(data, out, *ORACLE, "runner.num_shards=2")
    errors = [process.communicate(timeout=300)[1] for process in (second, sharded)]
    assert first.poll() is None, "the first run ended before the others were refused: slow the oracle down"
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == 2 and "being written by another sarbench run (pid" in errors[0]
    assert sharded.returncode == 2 and "being written by another sarbench run" in errors[1]
    for subset, lines in predictions(out).items():
        ids = [line["id"] for line in lines]
        assert len(ids) == len(set(ids)) == 6, subset


def test_shard_of_another_configuration_or_layout_is_refused(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=3)
    out = tmp_path / "run"
    run(data, out, *ORACLE, "runner.num_shards=2", "runner.shard=0")
    assert not (out / "metrics.json").exists()
    with pytest.raises(RunError, match=r"different configuration:\n(.*\n)*  generation\[count\]: .*max_new_tokens.: 7"):
        run(data, out, *ORACLE, "runner.num_shards=2", "runner.shard=1", "task.max_new_tokens=7")
    with pytest.raises(RunError, match=r"predictions of runner.num_shards=2 .* this run has runner.num_shards=3"):
        run(data, out, *ORACLE, "runner.num_shards=3", "runner.shard=1")
    with pytest.raises(RunError, match=r"predictions of runner.num_shards=2 .* this run has runner.num_shards=1"):
        run(data, out, *ORACLE)
    result = run(data, out, *ORACLE, "runner.num_shards=2", "runner.shard=1")
    assert result["n"] == {subset: 3 for subset in result["n"]} and len(result["n"]) == 9


def test_leaderboard_and_compare_see_a_partial_sharded_run_as_partial(tmp_path, capsys):
    from sarbench.leaderboard import main as leaderboard

    data = make_dataset(tmp_path / "data", per_subset=3)
    run(data, tmp_path / "runs" / "whole", *ORACLE)
    run(data, tmp_path / "runs" / "half", *ORACLE, "runner.num_shards=2", "runner.shard=1")
    capsys.readouterr()
    assert leaderboard([str(tmp_path / "runs")]) == 0
    captured = capsys.readouterr()
    assert "half" not in captured.out and "not ranked" in captured.err and "1/2 shards" in captured.err
    from sarbench.compare import main as compare

    with pytest.raises(SystemExit, match=r"half is a sharded run not yet complete \(1/2 shards\)"):
        compare([str(tmp_path / "runs" / "whole"), str(tmp_path / "runs" / "half")])


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory):
    pytest.importorskip("transformers")
    from test_hf_backend import compose_config

    from sarbench.evaluate import build_adapter

    cache = tmp_path_factory.mktemp("tiny-models")
    build_adapter(dict(compose_config("model=tiny-qwen2vl", f"model.tiny.cache_dir={cache}").model), "hf").close()
    return cache


def test_three_tiny_qwen2vl_shards_at_once_equal_one_process(tmp_path, tiny_cache):
    data = make_dataset(tmp_path / "data", per_subset=2)
    model = ("model=tiny-qwen2vl", f"model.tiny.cache_dir={tiny_cache}", "task.max_new_tokens=8", "runner.limit=1")
    single = tmp_path / "single"
    from test_hf_backend import compose_config

    run_from_config(
        compose_config(
            *model, "data=built", f"data.root={data}", f"out={single}", "scoring.meteor=false", "runner.progress=false"
        )
    )
    sharded = tmp_path / "sharded"
    shards_at_once(data, sharded, 3, *model)
    assert_same_run(sharded, single)


@pytest.mark.parametrize("cpu", [True, False])
def test_vllm_data_parallel_above_one_is_refused_with_the_shard_recipe(monkeypatch, cpu):
    from model_adapters import vllm_backend
    from model_adapters.errors import AdapterError

    monkeypatch.setattr(vllm_backend, "on_cpu", lambda: cpu)
    vllm_backend.check_data_parallel(1, 2)  # one engine: nothing to refuse
    expected = r"needs GPUs .* on CPU use backend.data_parallel_size=1" if cpu else r"shard_local.sh 4 2 backend=vllm"
    with pytest.raises(AdapterError, match=expected):
        vllm_backend.check_data_parallel(4, 2)


def test_shard_local_script_runs_n_shards_into_one_result(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=4)
    single = tmp_path / "single"
    run(data, single)
    out = tmp_path / "sharded"
    env = {**os.environ, "PYTHON": sys.executable}
    overrides = ["data=built", f"data.root={data}", f"out={out}", "scoring.meteor=false"]
    done = subprocess.run(
        ["bash", str(Path(__file__).parents[1] / "scripts" / "shard_local.sh"), "2", "0", *overrides],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "2/2 shards done" in done.stdout and (out / "shard-1.log").is_file()
    assert_same_run(out, single)

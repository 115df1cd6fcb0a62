"""A newcomer's first hour without rough edges: each edge found by trying sarbench as a new user,
fixed, and held here (P9)."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_run import REPO, config, make_dataset

from model_adapters import ModelLoadError
from model_adapters.hub_access import check_hub_checkpoint, local_or_hub
from sarbench.run_folder import path_segment


@given(st.text(max_size=60))
def test_a_name_becomes_one_path_segment(name):
    segment = path_segment(name)
    assert segment and "/" not in segment and "\\" not in segment and "\0" not in segment
    assert not segment.startswith(".")


def test_output_folders_of_hub_ids_and_served_paths_are_one_segment():
    assert path_segment("Qwen/Qwen2-VL-7B-Instruct") == "Qwen--Qwen2-VL-7B-Instruct"
    assert path_segment("tiny-qwen2vl") == "tiny-qwen2vl"
    served = config("model=openai", "model.served_model=Qwen/Qwen2-VL-7B-Instruct")
    assert served.out == "results/openai-Qwen--Qwen2-VL-7B-Instruct/sample"
    assert served.model.name == "openai-Qwen/Qwen2-VL-7B-Instruct"  # the name tables show is kept
    local = config("model=openai", "model.served_model=/srv/models/my-ckpt")
    assert local.out == "results/openai---srv--models--my-ckpt/sample"
    assert config("model=oracle").out == "results/oracle/sample"


def test_a_missing_local_checkpoint_is_named_as_such(tmp_path):
    with pytest.raises(ModelLoadError, match=r"model.path=/nonexistent/ckpt: /nonexistent/ckpt does not exist"):
        local_or_hub("/nonexistent/ckpt")
    with pytest.raises(ModelLoadError, match="does not exist"):
        local_or_hub("runs/2024/merged")  # two slashes: never a hub id
    (tmp_path / "weights.bin").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="is a file, not a checkpoint folder"):
        local_or_hub(str(tmp_path / "weights.bin"))
    assert local_or_hub(str(tmp_path)) == str(tmp_path)
    assert local_or_hub("Qwen/Qwen2-VL-7B-Instruct") == "Qwen/Qwen2-VL-7B-Instruct"


def test_a_missing_local_checkpoint_stops_the_hf_backend_with_that_message(tmp_path):
    pytest.importorskip("transformers", reason="backend=hf needs transformers")
    from test_run import run

    from sarbench.runner import RunError

    data = make_dataset(tmp_path / "data", per_subset=1)
    with pytest.raises(RunError, match="model.path=/nonexistent/ckpt: /nonexistent/ckpt does not exist"):
        run(data, tmp_path / "run", "model=qwen2vl-7b", "model.path=/nonexistent/ckpt", "task=count")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def fake_cache(root, repo_id):
    """A hub cache holding `repo_id`'s config.json, as huggingface_hub lays it out."""
    folder = root / f"models--{repo_id.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("0" * 40)
    (folder / "snapshots" / ("0" * 40)).mkdir(parents=True)
    (folder / "snapshots" / ("0" * 40) / "config.json").write_text("{}")


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """The hub client as on a machine without the network: nothing listens at its endpoint."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return constants


def test_an_unreachable_hub_fails_at_once_saying_to_pass_model_path(hub):
    start = time.perf_counter()
    with pytest.raises(
        ModelLoadError, match=r"cannot reach http://127.0.0.1:\d+ to download Qwen/Qwen2-VL.*model.path="
    ):
        check_hub_checkpoint("Qwen/Qwen2-VL-7B-Instruct", None)
    assert time.perf_counter() - start < 5  # no retries with backoff
    hub.HF_HUB_OFFLINE = True
    with pytest.raises(ModelLoadError, match="not in the local hub cache .* HF_HUB_OFFLINE is set: pass .*model.path="):
        check_hub_checkpoint("Qwen/Qwen2-VL-7B-Instruct", None)


def test_a_cached_checkpoint_is_loaded_offline_when_the_hub_is_unreachable(hub, tmp_path):
    fake_cache(tmp_path / "hub", "org/cached")
    check_hub_checkpoint("org/cached", None)
    assert hub.HF_HUB_OFFLINE is True  # the client serves the cache instead of retrying the endpoint


def sarbench(cwd, *args):
    return subprocess.run(
        [sys.executable, "-m", "sarbench", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_unknown_runner_keys_get_the_valid_names_and_leave_no_folder(tmp_path):
    done = sarbench(tmp_path, "+runner.batchsize=4")
    assert done.returncode == 2, done.stderr
    assert "runner: unknown setting(s) batchsize; valid: allow_failures, batch_size," in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "results").exists()


def test_the_run_log_holds_the_run(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=1)
    out = tmp_path / "run"
    done = sarbench(
        tmp_path, "data=built", f"data.root={data}", f"out={out}", "scoring.meteor=false", "runner.progress=false"
    )
    assert done.returncode == 0, done.stderr
    log = (out / "sarbench.log").read_text()
    for line in ("model oracle (OracleBackend) on data, task all", "9 samples to generate", "scored 9 samples"):
        assert line in log, log
    session = json.loads((out / "manifest.json").read_text())["sessions"][-1]
    assert session["outcome"] == "completed" and session["error"] is None


def test_licence_is_an_spdx_string_and_the_build_backend_is_pinned():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11+")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    requires = project["build-system"]["requires"]
    assert any(r.startswith("setuptools>=77") and "<" in r for r in requires), requires


def test_tests_that_need_the_shared_data_say_so_when_skipped(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_scoring.py",
            "-k",
            "transcribed_examples",
            "-p",
            "no:cacheprovider",
            "--noconftest",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SARBENCH_SHARED": str(tmp_path / "nowhere")},
    )
    assert "1 skipped" in done.stdout, done.stdout
    assert "SKIPPED [1] tests/test_scoring.py" in done.stdout and str(tmp_path / "nowhere") in done.stdout

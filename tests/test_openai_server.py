"""model=openai against a real vLLM OpenAI-compatible server (scripts/vllm_server.sh) serving the tiny
Qwen2-VL on 127.0.0.1: with the family set, the served answers are those of backend=hf on the same
checkpoint; a server killed mid-run and restarted, then the same command again, gives the
uninterrupted run's predictions; the preflight refuses the server's own (released) chat template,
naming the first differing token.

Runs in .venv-vllm (the vLLM tier of scripts/test.sh) and skips where vllm is not importable. The
server starts twice (about a minute each on an idle 2-core machine); the sample is cut to
`LIMIT` samples per subset and `TOKENS` new tokens to keep the tier near three minutes.
"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from model_adapters.tiny import ensure_tiny_model
from sarbench.__main__ import CONF_DIR
from sarbench.evaluate import run_from_config
from sarbench.runner import RunError

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None,
    reason="the served-model tier runs in .venv-vllm (bash scripts/setup_vllm_env.sh)",
)

REPO = Path(__file__).resolve().parents[1]
SERVED = "tiny-qwen2vl"
LIMIT, TOKENS = 3, 64


class VLLMServer:
    def __init__(self, checkpoint: Path, folder: Path) -> None:
        self.checkpoint, self.pidfile = checkpoint, folder / "vllm-server.pid"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def script(self, *args: str) -> None:
        script = REPO / "scripts" / "vllm_server.sh"
        subprocess.run(["bash", str(script), *args], check=True, cwd=REPO, env={**os.environ, "PYTHON": sys.executable})

    def start(self) -> None:
        self.script("start", str(self.checkpoint), str(self.port), str(self.pidfile), "--served-model-name", SERVED)

    def stop(self) -> None:
        self.script("stop", str(self.pidfile))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return ensure_tiny_model("qwen2_vl", tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def server(checkpoint, tmp_path_factory):
    served = VLLMServer(checkpoint, tmp_path_factory.mktemp("server"))
    served.start()
    yield served
    served.stop()


def run(out: Path, *overrides: str) -> dict:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        config = compose(
            config_name="config",
            overrides=[
                f"out={out}",
                "scoring.meteor=false",
                "runner.progress=false",
                f"runner.limit={LIMIT}",
                f"task.max_new_tokens={TOKENS}",
                *overrides,
            ],
        )
    return run_from_config(config)


def served(server, checkpoint, *overrides: str) -> tuple[str, ...]:
    return (
        "model=openai",
        f"model.served_model={SERVED}",
        f"model.base_url={server.url}",
        "model.family=qwen2_vl",
        f"model.path={checkpoint}",
        *overrides,
    )


def predictions(out: Path) -> dict[str, dict]:
    return {r["id"]: r for path in sorted((out / "predictions").glob("*.jsonl")) for r in map(json.loads, path.open())}


@pytest.fixture(scope="module")
def uninterrupted(server, checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("served")
    return out, run(out, *served(server, checkpoint))


def test_served_answers_equal_in_process_answers(uninterrupted, checkpoint, tmp_path):
    out, result = uninterrupted
    reference = run(tmp_path / "hf", "model=tiny-qwen2vl", f"model.tiny.cache_dir={checkpoint.parent}")
    ours, theirs = predictions(out), predictions(tmp_path / "hf")
    assert len(ours) == 9 * LIMIT and ours.keys() == theirs.keys()
    differing = [i for i in ours if ours[i]["response"] != theirs[i]["response"]]
    assert not differing, f"{len(differing)} of {len(ours)} differ, e.g. {differing[:3]}"
    assert all("error" not in r for r in ours.values())
    assert result["metrics"] == reference["metrics"]


def test_the_servers_released_template_is_refused_naming_the_token(server, checkpoint, tmp_path):
    with pytest.raises(RunError) as refused:
        run(tmp_path / "run", *served(server, checkpoint, "model.chat_template=server"))
    assert "differs from family qwen2_vl's at token" in str(refused.value)
    assert "the family 'Ċ'" in str(refused.value)  # the newline between image and question
    assert not list((tmp_path / "run").glob("predictions/*.jsonl"))


def test_a_server_killed_mid_run_then_restarted_gives_the_uninterrupted_predictions(
    uninterrupted, server, checkpoint, tmp_path
):
    out = tmp_path / "run"
    overrides = served(
        server,
        checkpoint,
        "runner.batch_size=3",
        "model.concurrency=3",
        "model.max_retries=1",
        "model.backoff_s=0.05",
        "runner.max_consecutive_failures=6",
    )
    killed = threading.Event()

    def kill_after_first_batch() -> None:
        while not killed.is_set():
            if sum(len(p.read_text().splitlines()) for p in out.glob("predictions/*.jsonl")) >= 3:
                server.stop()
                killed.set()
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_after_first_batch, daemon=True)
    watcher.start()
    try:
        first = run(out, *overrides)
    except RunError as exc:  # the outage outlasted the retries: the run stopped, predictions kept
        first = str(exc)
    killed.set()
    watcher.join()
    answered = [r for r in predictions(out).values() if "error" not in r]
    assert 3 <= len(answered) < 9 * LIMIT, first  # killed after the first batch, before the end
    server.start()
    resumed = run(out, *overrides)  # the same command: transient failures are predicted again
    ours, theirs = predictions(out), predictions(uninterrupted[0])
    assert {i: r["response"] for i, r in ours.items()} == {i: r["response"] for i, r in theirs.items()}
    assert all("error" not in r for r in ours.values())
    assert resumed["metrics"] == uninterrupted[1]["metrics"]

"""The OpenAI-compatible adapter against real HTTP servers on 127.0.0.1 (ok, flaky, failing, slow)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from family_helpers import REPO
from omegaconf import OmegaConf
from test_data import REFERENCES
from test_run import make_dataset, run

from model_adapters import build_model
from model_adapters.base import GenerationRequest, InferenceFailure

OPENAI_YAML = OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "model" / "openai.yaml"))

ANSWERS = {question: answer for question, answer in REFERENCES.values()}
CONTENT = {
    "number": 42,
    "object": {"text": "x"},
    "parts": [{"type": "text", "text": "{<1><2>"}, {"type": "text", "text": "<3><4>}"}],
    "image_part": [{"type": "image_url", "image_url": {"url": "data:,"}}],
    "null": None,
    "surrogate": "ship \ud800 {<1><2><3><4>}",
}


class Server:
    """A minimal OpenAI chat-completions server; `mode` picks its behaviour."""

    def __init__(self, mode="ok", fail_first=0):
        self.mode = mode
        self.fail_first = fail_first
        self.requests = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append((self.path, dict(self.headers), body))
                    attempt = len(server.requests)
                if server.mode == "slow":
                    time.sleep(1.0)
                if server.mode == "error" or attempt <= server.fail_first:
                    status = 429 if attempt % 2 else 503
                    return self.reply(500 if server.mode == "error" else status, {"error": "busy"})
                if server.mode == "bad":
                    return self.reply(400, {"error": "bad request"})
                if server.mode in CONTENT:
                    return self.reply(200, {"choices": [{"message": {"content": CONTENT[server.mode]}}]})
                if server.mode == "trickle":  # headers at once, then a byte every 0.2 s
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    try:
                        for _ in range(100000):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.2)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                if server.mode == "hang":
                    time.sleep(30)
                text = body["messages"][-1]["content"][1]["text"]
                self.reply(
                    200, {"choices": [{"message": {"role": "assistant", "content": ANSWERS.get(text, "no idea")}}]}
                )

            def reply(self, status, payload):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads, self.httpd.block_on_close = True, False  # hung handlers end with the test
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def adapter(url, **settings):
    """The adapter as model=openai configures it (conf/model/openai.yaml), with test overrides."""
    config = {
        **OPENAI_YAML,
        "name": "api",
        "base_url": url,
        "served_model": "tiny",
        "backoff_s": 0.01,
        "max_retries": 3,
        "timeout_s": 5,
        **settings,
    }
    return build_model(config, "openai")


@pytest.fixture
def image(tmp_path):
    from PIL import Image

    path = tmp_path / "a.png"
    Image.new("L", (8, 8), 7).save(path)
    return str(path)


def request(image, prompt="[refer] Locate 1 ship."):
    return GenerationRequest(
        sample_id="refer_single/0", subset="refer_single", prompt=prompt, image_path=image, max_new_tokens=32
    )


def test_request_format_and_key_from_env(image, monkeypatch):
    monkeypatch.setenv("MY_KEY", "secret-123")
    with Server() as server:
        out = adapter(server.url, api_key_env="MY_KEY").generate([request(image)])
    assert out == ["{<1><2><30><40>} (top left)"]
    path, headers, body = server.requests[0]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer secret-123"
    assert body["model"] == "tiny" and body["max_tokens"] == 32 and body["temperature"] == 0
    assert body["messages"][0] == {"role": "system", "content": "You are a helpful assistant."}
    assert body["messages"][1]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "secret-123" not in json.dumps(adapter(server.url, api_key_env="MY_KEY").fingerprint())


def test_retries_429_and_5xx_then_succeeds(image):
    with Server(fail_first=3) as server:
        out = adapter(server.url).generate([request(image)])
    assert out == ["{<1><2><30><40>} (top left)"] and len(server.requests) == 4


def test_persistent_errors_become_failures(image):
    with Server(mode="error") as server:
        out = adapter(server.url, max_retries=2).generate([request(image), request(image)])
    assert all(isinstance(o, InferenceFailure) and "after 3 attempts" in o.message for o in out)
    with Server(mode="bad") as server:
        (out,) = adapter(server.url).generate([request(image)])
    assert isinstance(out, InferenceFailure) and "HTTP 400" in out.message and len(server.requests) == 1


def test_timeouts_become_failures(image):
    with Server(mode="slow") as server:
        (out,) = adapter(server.url, timeout_s=0.2, max_retries=1).generate([request(image)])
    assert isinstance(out, InferenceFailure) and "imeout" in out.message


def test_unreachable_server(image):
    (out,) = adapter("http://127.0.0.1:9/v1", max_retries=0).generate([request(image)])
    assert isinstance(out, InferenceFailure)


def test_concurrency_keeps_order(image):
    prompts = [q for q, _ in REFERENCES.values()]
    with Server() as server:
        out = adapter(server.url, concurrency=4).generate([request(image, p) for p in prompts])
    assert out == [ANSWERS[p] for p in prompts]


def test_end_to_end_run(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=3)
    with Server() as server:
        result = run(
            data,
            tmp_path / "run",
            "model=openai",
            "model.served_model=tiny",
            f"model.base_url={server.url}",
            "task=refer",
        )
    assert result["metrics"]["task.refer"] == 100 and result["inference_failures"] == {
        "refer_single": 0,
        "refer_multi": 0,
    }
    with Server(mode="error") as server:
        result = run(
            data,
            tmp_path / "run2",
            "model=openai",
            "model.served_model=tiny",
            f"model.base_url={server.url}",
            "model.max_retries=0",
            "task=refer",
        )
    assert result["inference_failures"] == {"refer_single": 3, "refer_multi": 3}
    assert result["metrics"]["task.refer"] == 0


def test_served_model_is_required(tmp_path):
    from sarbench.runner import RunError

    data = make_dataset(tmp_path / "data", per_subset=1)
    with pytest.raises(RunError, match="served_model"):
        run(data, tmp_path / "run", "model=openai", "task=refer")


@pytest.mark.parametrize("mode", ["number", "object", "image_part"])
def test_non_text_content_is_a_counted_failure_naming_it(image, mode):
    with Server(mode=mode) as server:
        (out,) = adapter(server.url).generate([request(image)])
    assert isinstance(out, InferenceFailure) and "neither text nor a list of text parts" in out.message
    assert len(server.requests) == 1  # not retried: the server answered


def test_text_parts_are_joined_and_null_is_empty(image):
    with Server(mode="parts") as server:
        assert adapter(server.url).generate([request(image)]) == ["{<1><2><3><4>}"]
    with Server(mode="null") as server:
        assert adapter(server.url).generate([request(image)]) == [""]


def test_lone_surrogates_in_answers_and_prompts_are_stored_and_scored(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    with Server(mode="surrogate") as server:
        result = run(
            data,
            tmp_path / "run",
            "model=openai",
            "model.served_model=tiny",
            f"model.base_url={server.url}",
            "task=refer",
        )
    assert sum(result["inference_failures"].values()) == 0
    lines = (tmp_path / "run" / "predictions" / "refer_single.jsonl").read_text().splitlines()
    assert all("ship" in json.loads(line)["response"] for line in lines)
    with Server() as server:
        (out,) = adapter(server.url).generate([request(str(tmp_path / "data" / "images" / "a.png"), "bad \udc80")])
    assert out == "no idea"  # the prompt was sent (escaped), the server answered


def test_a_trickling_server_is_cut_at_the_deadline(image):
    with Server(mode="trickle") as server:
        start = time.monotonic()
        (out,) = adapter(server.url, timeout_s=1.0, max_retries=0).generate([request(image)])
    assert isinstance(out, InferenceFailure) and "within timeout_s=1" in out.message
    assert time.monotonic() - start < 4


def test_ctrl_c_stops_within_seconds_while_requests_hang(image, tmp_path):
    import signal
    import subprocess
    import sys

    with Server(mode="hang") as server:
        script = tmp_path / "client.py"
        script.write_text(
            "import sys; sys.path[:0] = [%r, %r]\n"
            "from test_openai_adapter import adapter, request\n"
            "print('started', flush=True)\n"
            "adapter(%r, timeout_s=60, concurrency=4).generate([request(%r)] * 4)\n"
            % (str(REPO / "tests"), str(REPO), server.url, image)
        )
        process = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
        )
        assert process.stdout.readline().strip() == "started"
        time.sleep(1.0)
        start = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert time.monotonic() - start < 5
    assert "KeyboardInterrupt" in err

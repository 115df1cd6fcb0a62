"""The OpenAI-compatible adapter against real HTTP servers on 127.0.0.1 (ok, flaky, failing, slow)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from model_adapters.base import GenerationRequest, InferenceFailure
from model_adapters.openai_api import OpenAIAdapter

from test_data import REFERENCES
from test_run import make_dataset, run

ANSWERS = {question: answer for question, answer in REFERENCES.values()}


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
                text = body["messages"][-1]["content"][1]["text"]
                self.reply(200, {"choices": [{"message": {"role": "assistant",
                                                          "content": ANSWERS.get(text, "no idea")}}]})

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
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def adapter(url, **settings):
    return OpenAIAdapter(name="api", settings={"base_url": url, "served_model": "tiny", "backoff_s": 0.01,
                                               "max_retries": 3, "timeout_s": 5, **settings})


@pytest.fixture
def image(tmp_path):
    from PIL import Image

    path = tmp_path / "a.png"
    Image.new("L", (8, 8), 7).save(path)
    return str(path)


def request(image, prompt="[refer] Locate 1 ship."):
    return GenerationRequest(sample_id="refer_single/0", subset="refer_single", prompt=prompt,
                             image_path=image, max_new_tokens=32)


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
        result = run(data, tmp_path / "run", "model=openai", "model.served_model=tiny",
                     f"model.base_url={server.url}", "task=refer")
    assert result["metrics"]["task.refer"] == 100 and result["inference_failures"] == {
        "refer_single": 0, "refer_multi": 0}
    with Server(mode="error") as server:
        result = run(data, tmp_path / "run2", "model=openai", "model.served_model=tiny",
                     f"model.base_url={server.url}", "model.max_retries=0", "task=refer")
    assert result["inference_failures"] == {"refer_single": 3, "refer_multi": 3}
    assert result["metrics"]["task.refer"] == 0


def test_served_model_is_required(tmp_path):
    from sarbench.runner import RunError

    data = make_dataset(tmp_path / "data", per_subset=1)
    with pytest.raises(RunError, match="served_model"):
        run(data, tmp_path / "run", "model=openai", "task=refer")

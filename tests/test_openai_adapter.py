"""The OpenAI-compatible adapter against real HTTP servers on 127.0.0.1 (ok, flaky, failing, slow)."""

import json
import re
import threading
import time

import pytest
from family_helpers import REPO
from local_server import JsonHandler, LocalServer
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
    "padded": "  {<1><2><3><4>}\n<|im_end|> ",
}


def render(template, messages):
    """A chat template rendered as transformers (and vLLM) render it."""
    from transformers.utils.chat_template_utils import _compile_jinja_template

    return _compile_jinja_template(template).render(messages=messages, add_generation_prompt=True)


SPECIAL_IDS: dict[str, int] = {}


def char_tokens(body, template):
    """A fake /tokenize: `<|name|>` is one token, any other character one (vLLM's image parts
    become {"type": "image"})."""
    if "prompt" in body:
        text = body["prompt"]
    else:
        messages = [
            {**m, "content": [p if p["type"] == "text" else {"type": "image"} for p in m["content"]]}
            if isinstance(m["content"], list)
            else m
            for m in body["messages"]
        ]
        text = render(body.get("chat_template") or template, messages)
    pieces = re.findall(r"<\|[a-z_]+\|>|.", text, flags=re.DOTALL)
    ids = [SPECIAL_IDS.setdefault(p, 1000 + len(SPECIAL_IDS)) if len(p) > 1 else ord(p) for p in pieces]
    return {"tokens": ids, "token_strs": pieces, "count": len(ids)}


class Server(LocalServer):
    """A minimal OpenAI chat-completions server; `mode` picks its behaviour."""

    def __init__(self, mode="ok", fail_first=0, models=("tiny",), template=None, tokenize=True):
        self.mode = mode
        self.fail_first = fail_first
        self.requests = []
        self.lock = threading.Lock()
        server = self

        class Handler(JsonHandler):
            def do_GET(self):
                if self.path != "/v1/models" or server.mode == "error":
                    return self.reply(404 if server.mode != "error" else 500, {"error": "no"})
                self.reply(200, {"object": "list", "data": [{"id": name, "object": "model"} for name in models]})

            def do_POST(self):
                body = self.read_json()
                if self.path == "/tokenize":
                    with server.lock:
                        server.requests.append((self.path, dict(self.headers), body))
                    if not tokenize:
                        return self.reply(404, {"detail": "Not Found"})
                    return self.reply(200, char_tokens(body, template))
                if self.path == "/detokenize":
                    names = {i: name for name, i in SPECIAL_IDS.items()}
                    return self.reply(200, {"prompt": "".join(names.get(i) or chr(i) for i in body["tokens"])})
                if server.mode == "nomodel" and body["model"] != "tiny":
                    return self.reply(404, {"message": f"The model `{body['model']}` does not exist."})
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
                if server.mode == "no_template":
                    return self.reply(
                        400,
                        {
                            "message": "As of transformers v4.44, default chat template is no "
                            "longer allowed, so you must provide a chat template if the tokenizer does not define one."
                        },
                    )
                if server.mode == "untrusted" and "chat_template" in body:
                    return self.reply(
                        400,
                        {
                            "message": "Chat template is passed with request, but "
                            "--trust-request-chat-template is not set. Refused request with untrusted chat template."
                        },
                    )
                if server.mode == "token_ids":  # vLLM's return_token_ids: the answer's ids beside its text
                    choice = {"message": {"content": "server text"}, "token_ids": server.token_ids}
                    return self.reply(200, {"choices": [choice]})
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

        super().__init__(Handler)


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


def run_served(data, folder, server, *overrides):
    """A run of the `openai` model on the served tiny model of `server`."""
    return run(data, folder, "model=openai", "model.served_model=tiny", f"model.base_url={server.url}", *overrides)


def test_end_to_end_run(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=3)
    with Server() as server:
        result = run_served(
            data,
            tmp_path / "run",
            server,
            "task=refer",
        )
    assert result["metrics"]["task.refer"] == 100 and result["inference_failures"] == {
        "refer_single": 0,
        "refer_multi": 0,
    }


def test_a_failing_server_stops_the_run_before_any_batch_saying_so(tmp_path, caplog):
    from sarbench.runner import RunError

    data = make_dataset(tmp_path / "data", per_subset=3)
    with Server(mode="error") as server, pytest.raises(RunError) as refused:
        run_served(
            data,
            tmp_path / "run",
            server,
            "model.max_retries=2",
            "model.backoff_s=0.01",
            "task=refer",
        )
    message = str(refused.value)
    assert f"{server.url}/models" in message and "HTTP 500" in message and '{"error": "no"}' in message
    assert not list((tmp_path / "run").glob("predictions/*.jsonl"))
    lines = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
    assert "attempt 1 of 3 failed (HTTP 500" in lines[0] and lines[0].endswith("attempt 2 in 0.01 s")
    assert "attempt 2 of 3 failed" in lines[1] and lines[1].endswith("attempt 3 in 0.02 s")


@pytest.mark.parametrize(
    ("server_args", "overrides", "expected"),
    [
        ({"models": ("other", "x")}, [], "does not serve 'tiny'; it serves 'other', 'x': set model.served_model"),
        ({"mode": "bad"}, [], 'HTTP 400 to a one-token request: {"error": "bad request"}'),
        ({"mode": "no_template"}, [], "no chat template for this model: set model.family=<family>"),
        ({"mode": "untrusted"}, ["model.family=qwen2_vl"], "start vLLM with --trust-request-chat-template"),
        ({}, ["model.base_url=http://127.0.0.1:9/v1"], "nothing listens there: start the server"),
    ],
)
def test_preflight_refusals_name_url_status_and_what_to_do(tmp_path, server_args, overrides, expected):
    from sarbench.runner import RunError

    data = make_dataset(tmp_path / "data", per_subset=2)
    with Server(**server_args) as server, pytest.raises(RunError, match="preflight") as refused:
        run_served(
            data,
            tmp_path / "run",
            server,
            "model.max_retries=0",
            "task=refer",
            *overrides,
        )
    assert expected in str(refused.value)
    assert not list((tmp_path / "run").glob("predictions/*.jsonl"))


def test_retries_are_said_once_per_round_however_many_requests_wait(image, caplog):
    with Server(fail_first=8) as server:
        out = adapter(server.url, concurrency=4, max_retries=4).generate([request(image)] * 4)
    assert out == ["{<1><2><30><40>} (top left)"] * 4
    lines = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
    said = [int(re.search(r"attempt (\d+) of 5 failed \(HTTP ", line).group(1)) for line in lines]
    assert said and said == sorted(set(said))  # one line per round, not one per waiting request


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
        result = run_served(
            data,
            tmp_path / "run",
            server,
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
            "import signal, sys; sys.path[:0] = [%r, %r]\n"
            # a Ctrl-C handler even where SIGINT was ignored when Python started (it then installs
            # none): the children of a shell's background job inherit that
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
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

"""`backend=openai` (`model=openai`): any model served behind an OpenAI-compatible chat API (vLLM
serve, SGLang, LMDeploy, hosted endpoints).

Requests go out concurrently from daemon worker threads (so Ctrl-C stops the run within a second,
whatever is in flight); 429, 5xx, connection errors and timeouts are retried with exponential
backoff; a request that still fails is returned as an InferenceFailure (counted in the results),
never a crash. Each attempt has one overall deadline (`timeout_s`: connecting, waiting and reading
together; a server that trickles bytes is cut off at it). An answer's `content` must be text or a
list of text parts; anything else is a counted failure naming what came back. The API key is read
from the environment variable named by `api_key_env` and is never written to results or
fingerprints. Images are sent as base64 data URLs of the original file bytes.
"""

from __future__ import annotations

import base64
import http.client
import json
import mimetypes
import os
import queue
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from model_adapters.base import Capabilities, GenerationRequest, InferenceFailure, ModelAdapter
from model_adapters.errors import AdapterError
from model_adapters.settings import OpenAISettings

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# Settings that change what the model is asked, so they invalidate earlier predictions.
PROMPT_SETTINGS = ("base_url", "served_model", "system_prompt", "temperature", "seed")
MAX_REPLY_BYTES = 64 * 2**20


class RetryableError(Exception):
    pass


def image_data_url(path: str) -> str:
    mime = mimetypes.guess_type(path)[0] or "image/png"
    with open(path, "rb") as handle:
        return f"data:{mime};base64,{base64.b64encode(handle.read()).decode('ascii')}"


def answer_text(data: Any) -> str:
    """The answer of a chat-completions reply: `content` as text, or its text parts joined.
    Raises ValueError naming what came back otherwise (a counted failure, never stored)."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"unexpected reply: {json.dumps(data, ensure_ascii=True)[:300]}") from None
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in content
    ):
        return "".join(part["text"] for part in content)
    raise ValueError(
        f"reply content is neither text nor a list of text parts: {json.dumps(content, ensure_ascii=True)[:300]}"
    )


def post_json(url: str, body: bytes, headers: dict[str, str], deadline_s: float) -> tuple[int, bytes]:
    """POST with one overall deadline: a timer shuts the socket down when it passes, which wakes
    any read blocked on a slow or trickling server."""
    parts = urllib.parse.urlsplit(url)
    connection_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_cls(parts.hostname, parts.port, timeout=deadline_s)
    expired = threading.Event()
    sockets: list[socket.socket] = []

    def cut() -> None:
        expired.set()
        for sock in sockets:  # the response keeps reading from it after the connection lets go
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(deadline_s, cut)
    timer.daemon = True
    timer.start()
    try:
        connection.connect()
        sockets.append(connection.sock)
        if expired.is_set():
            cut()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=headers)
        reply = connection.getresponse()
        data = reply.read(MAX_REPLY_BYTES + 1)
        if expired.is_set():
            raise TimeoutError(f"no complete reply within timeout_s={deadline_s:g}")
        if len(data) > MAX_REPLY_BYTES:
            raise ValueError(f"reply larger than {MAX_REPLY_BYTES} bytes")
        return reply.status, data
    except (OSError, http.client.HTTPException):
        if expired.is_set():
            raise TimeoutError(f"no complete reply within timeout_s={deadline_s:g}") from None
        raise
    finally:
        timer.cancel()
        connection.close()


def run_concurrently(work: Callable[[Any], Any], items: list[Any], workers: int, stop: threading.Event) -> list:
    """`[work(item) for item in items]` on daemon threads. The caller's wait is interruptible: on
    Ctrl-C `stop` is set and the interrupt propagates at once (daemon threads never hold up exit)."""
    jobs: queue.Queue = queue.Queue()
    for index, item in enumerate(items):
        jobs.put((index, item))
    results: list[Any] = [None] * len(items)
    done = threading.Semaphore(0)

    def worker() -> None:
        while not stop.is_set():
            try:
                index, item = jobs.get_nowait()
            except queue.Empty:
                return
            try:
                results[index] = work(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                results[index] = exc
            done.release()

    for _ in range(max(1, min(workers, len(items)))):
        threading.Thread(target=worker, daemon=True, name="sarbench-api").start()
    try:
        for _ in items:
            while not done.acquire(timeout=0.5):
                pass
    except KeyboardInterrupt:
        stop.set()
        raise
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@dataclass
class OpenAIBackend(ModelAdapter):
    capabilities = Capabilities(batch_safe=True, needs_image=True)

    @classmethod
    def create(cls, settings: OpenAISettings, family: Any, backend_settings: dict) -> OpenAIBackend:
        if family is not None:
            raise AdapterError(
                f"model {settings.name!r}: backend=openai sends the server's own chat template; "
                "a model family cannot be set for it yet (model.family=null)"
            )
        return cls(name=settings.name, settings=settings)

    def __post_init__(self) -> None:
        if not self.settings.served_model:
            raise AdapterError(
                "model.served_model is not set: give the model name the server serves, "
                "e.g. model=openai model.served_model=Qwen/Qwen2-VL-7B-Instruct"
            )
        self._stop = threading.Event()

    def fingerprint(self) -> dict[str, Any]:
        return {
            "adapter": type(self).__name__,
            "name": self.name,
            "settings": {k: getattr(self.settings, k) for k in PROMPT_SETTINGS},
        }

    def prompt_fingerprint(self) -> dict[str, Any]:
        return {"system_prompt": self.settings.system_prompt, "layout": "image_url then text"}

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        messages = []
        if self.settings.system_prompt:
            messages.append({"role": "system", "content": self.settings.system_prompt})
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": image_data_url(request.image_path)}},
                    {"type": "text", "text": request.prompt},
                ],
            }
        )
        return {
            "model": self.settings.served_model,
            "messages": messages,
            "max_tokens": request.max_new_tokens,
            "temperature": self.settings.temperature,
            "seed": self.settings.seed,
        }

    def _post(self, body: bytes) -> str:
        url = self.settings.base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.settings.api_key_env or "", "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        try:
            status, data = post_json(url, body, headers, float(self.settings.timeout_s))
        except (OSError, http.client.HTTPException) as exc:  # TimeoutError and ConnectionError are OSErrors
            raise RetryableError(f"{type(exc).__name__}: {exc}") from None
        if status != 200:
            detail = data[:300].decode("utf-8", "replace")
            if status in RETRYABLE_STATUS:
                raise RetryableError(f"HTTP {status}: {detail}")
            raise ValueError(f"HTTP {status}: {detail}")
        try:
            reply = json.loads(data)
        except (ValueError, RecursionError):
            raise ValueError(f"reply is not JSON: {data[:300].decode('utf-8', 'replace')}") from None
        return answer_text(reply)

    def _one(self, request: GenerationRequest) -> str | InferenceFailure:
        try:
            # ensure_ascii: a lone surrogate in a prompt is escaped instead of failing to encode
            body = json.dumps(self.payload(request), ensure_ascii=True).encode("ascii")
        except OSError as exc:
            return InferenceFailure(f"cannot read image {request.image_path}: {exc}")
        delay = float(self.settings.backoff_s)
        attempts = int(self.settings.max_retries) + 1
        for attempt in range(attempts):
            if self._stop.is_set():
                return InferenceFailure("stopped (interrupted) before an answer", transient=True)
            try:
                return self._post(body)
            except RetryableError as exc:
                if attempt + 1 == attempts:
                    return InferenceFailure(f"failed after {attempts} attempts: {exc}", transient=True)
                self._stop.wait(min(delay, float(self.settings.max_backoff_s)))
                delay *= 2
            except ValueError as exc:
                return InferenceFailure(str(exc))
        raise AssertionError("unreachable")

    def generate(self, requests: list[GenerationRequest]) -> list[str | InferenceFailure]:
        return run_concurrently(self._one, requests, int(self.settings.concurrency), self._stop)

    def close(self) -> None:
        self._stop.set()

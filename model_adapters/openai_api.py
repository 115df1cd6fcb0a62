"""`model=openai`: any model served behind an OpenAI-compatible chat API (vLLM serve, SGLang,
LMDeploy, hosted endpoints).

Requests go out concurrently through a bounded thread pool; 429, 5xx, connection errors and
timeouts are retried with exponential backoff; a request that still fails is returned as an
InferenceFailure (counted in the results), never a crash. The API key is read from the
environment variable named by `api_key_env` and is never written to results or fingerprints.
Images are sent as base64 data URLs of the original file bytes.
"""
from __future__ import annotations

import base64
import json
import mimetypes
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from model_adapters.base import ADAPTERS, Capabilities, GenerationRequest, InferenceFailure, ModelAdapter

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
DEFAULTS = {"base_url": "http://127.0.0.1:8000/v1", "served_model": None, "api_key_env": "OPENAI_API_KEY",
            "system_prompt": "You are a helpful assistant.", "concurrency": 8, "timeout_s": 120.0,
            "max_retries": 5, "backoff_s": 1.0, "max_backoff_s": 30.0, "temperature": 0.0, "seed": 0}
# Settings that change what the model is asked, so they invalidate earlier predictions.
PROMPT_SETTINGS = ("base_url", "served_model", "system_prompt", "temperature", "seed")


class RetryableError(Exception):
    pass


def image_data_url(path: str) -> str:
    mime = mimetypes.guess_type(path)[0] or "image/png"
    with open(path, "rb") as handle:
        return f"data:{mime};base64,{base64.b64encode(handle.read()).decode('ascii')}"


@ADAPTERS.register("openai")
@dataclass
class OpenAIAdapter(ModelAdapter):
    capabilities = Capabilities(batch_safe=True, backends=("openai",), needs_image=True)

    def __post_init__(self) -> None:
        if not self.option("served_model"):
            raise ValueError("model.served_model is not set: give the model name the server serves, "
                             "e.g. model=openai model.served_model=Qwen/Qwen2-VL-7B-Instruct")

    def option(self, key: str) -> Any:
        value = self.settings.get(key)
        return DEFAULTS[key] if value is None else value

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": type(self).__name__, "name": self.name,
                "settings": {k: self.option(k) for k in PROMPT_SETTINGS}}

    def prompt_fingerprint(self) -> dict[str, Any]:
        return {"system_prompt": self.option("system_prompt"), "layout": "image_url then text"}

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        messages = []
        if self.option("system_prompt"):
            messages.append({"role": "system", "content": self.option("system_prompt")})
        messages.append({"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": image_data_url(request.image_path)}},
            {"type": "text", "text": request.prompt},
        ]})
        return {"model": self.option("served_model"), "messages": messages,
                "max_tokens": request.max_new_tokens, "temperature": self.option("temperature"),
                "seed": self.option("seed")}

    def _post(self, body: bytes) -> str:
        url = self.option("base_url").rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.option("api_key_env") or "", "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        http_request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(http_request, timeout=float(self.option("timeout_s"))) as reply:
                data = json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            if exc.code in RETRYABLE_STATUS:
                raise RetryableError(f"HTTP {exc.code}: {detail}") from None
            raise RuntimeError(f"HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            raise RetryableError(f"{type(exc).__name__}: {exc}") from None
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise RuntimeError(f"unexpected reply: {json.dumps(data)[:300]}") from None
        return content or ""

    def _one(self, request: GenerationRequest) -> str | InferenceFailure:
        try:
            body = json.dumps(self.payload(request)).encode()
        except OSError as exc:
            return InferenceFailure(f"cannot read image {request.image_path}: {exc}")
        delay = float(self.option("backoff_s"))
        attempts = int(self.option("max_retries")) + 1
        for attempt in range(attempts):
            try:
                return self._post(body)
            except RetryableError as exc:
                if attempt + 1 == attempts:
                    return InferenceFailure(f"failed after {attempts} attempts: {exc}")
                time.sleep(min(delay, float(self.option("max_backoff_s"))))
                delay *= 2
            except RuntimeError as exc:
                return InferenceFailure(str(exc))
        raise AssertionError("unreachable")

    def generate(self, requests: list[GenerationRequest]) -> list[str | InferenceFailure]:
        workers = max(1, min(int(self.option("concurrency")), len(requests)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sarbench-api") as pool:
            return list(pool.map(self._one, requests))

"""`backend=openai` (`model=openai`): any model served behind an OpenAI-compatible chat API (vLLM
serve, SGLang, LMDeploy, hosted endpoints).

Requests go out concurrently from daemon worker threads (so Ctrl-C stops the run within a second,
whatever is in flight); 429, 5xx, connection errors and timeouts are retried with exponential
backoff; a request that still fails is returned as an InferenceFailure (counted in the results),
never a crash. Each attempt has one overall deadline (`timeout_s`: connecting, waiting and reading
together; a server that trickles bytes is cut off at it). An answer's `content` must be text or a
list of text parts; anything else is a counted failure naming what came back. The API key is read
from the environment variable named by `api_key_env` and is never written to results or
fingerprints. Before the first batch, openai_preflight.py checks that the server is ready.

Without `model.family`, the prompt is the server's chat template around the question and images
are the stored file bytes (not comparable with backend=hf/vllm; the run says so). With a family,
requests carry the family's pixels and prompt (served_family.py), checked token for token by the
preflight where the server tokenizes. Answers are stripped (and the family's stop text cut) as the
other backends decode them.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from model_adapters.base import Capabilities, GenerationRequest, InferenceFailure, ModelAdapter
from model_adapters.errors import AdapterError
from model_adapters.family import Family
from model_adapters.hf_backend import request_size
from model_adapters.http_api import ApiClient, RetryableError, Retrying, excerpt
from model_adapters.openai_preflight import CHECKS, preflight
from model_adapters.served_family import FamilyRequests
from model_adapters.settings import OpenAISettings

log = logging.getLogger("sarbench")

# Settings that change what the model is asked, so they invalidate earlier predictions.
PROMPT_SETTINGS = ("base_url", "served_model", "system_prompt", "temperature", "seed")
DEFAULT_SYSTEM = "You are a helpful assistant."  # without a family: the SARChat authors' system prompt


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
    family: Family | None = None

    @classmethod
    def create(cls, settings: OpenAISettings, family: Family | None, backend_settings: dict) -> OpenAIBackend:
        return cls(name=settings.name, settings=settings, family=family)

    def __post_init__(self) -> None:
        s = self.settings
        if not s.served_model:
            raise AdapterError(
                "model.served_model is not set: give the model name the server serves, "
                "e.g. model=openai model.served_model=Qwen/Qwen2-VL-7B-Instruct"
            )
        if s.template_check not in CHECKS:
            raise AdapterError(f"model.template_check must be one of {CHECKS}, got {s.template_check!r}")
        self._stop = threading.Event()
        self.client = ApiClient(s.base_url, s.api_key_env, float(s.timeout_s))
        self._retrying = self.retrying(f"{s.served_model} at {s.base_url}")
        self.family_requests: FamilyRequests | None = None
        self._stop_fields: dict[str, Any] | None = None
        self._lock = threading.Lock()
        if self.family is not None:
            try:
                processor = load_processor(s.path, s.processor_kwargs) if s.path else None
                self.family_requests = FamilyRequests(self.family, s.chat_template, processor)
            except (OSError, ValueError, ImportError) as exc:
                raise AdapterError(f"model {self.name!r}: {exc}") from None
        else:
            message = (
                "model.family is not set: prompts follow the server's chat template and images are sent as "
                "stored, so scores are not comparable with backend=hf/vllm runs (model.family=<family> "
                "sends the family's exact prompt and pixels)"
            )
            self.events.append(message)
            log.warning(message)

    def retrying(self, where: str) -> Retrying:
        s = self.settings
        return Retrying(int(s.max_retries) + 1, float(s.backoff_s), float(s.max_backoff_s), self._stop, where)

    @property
    def system(self) -> str | None:
        if self.family is not None:
            return self.family.system
        return DEFAULT_SYSTEM if self.settings.system_prompt is None else self.settings.system_prompt

    def fingerprint(self) -> dict[str, Any]:
        settings = {k: getattr(self.settings, k) for k in PROMPT_SETTINGS}
        settings["system_prompt"] = self.system
        fingerprint = {"adapter": type(self).__name__, "name": self.name, "settings": settings}
        if self.family is not None:  # only where set, so earlier runs without a family still resume
            fingerprint["family"] = self.family.name
            fingerprint["pixels_from"] = self.settings.path or dict(self.settings.processor_kwargs or {})
        return fingerprint

    def prompt_fingerprint(self) -> dict[str, Any]:
        if self.family_requests is not None:
            return self.family_requests.fingerprint()
        return {"system_prompt": self.system, "layout": "image_url then text"}

    def preflight(self, requests: list[GenerationRequest]) -> None:
        preflight(self, requests)

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        if self.family_requests is not None:
            messages = self.family_requests.request_messages(request)
            family = self.family_requests
            extra = {**family.template_fields(), **family.decode_fields(), **self.stop_fields()}
        else:
            messages = [] if self.system is None else [{"role": "system", "content": self.system}]
            content = [
                {"type": "image_url", "image_url": {"url": image_data_url(request.image_path)}},
                {"type": "text", "text": request.prompt},
            ]
            messages.append({"role": "user", "content": content})
            extra = {}
        return {
            "model": self.settings.served_model,
            "messages": messages,
            "max_tokens": request.max_new_tokens,
            "temperature": self.settings.temperature,
            "seed": self.settings.seed,
            **extra,
        }

    def stop_fields(self) -> dict[str, Any]:
        """The family's stop tokens as the server's token ids (asked once from its /tokenize)."""
        with self._lock:
            if self._stop_fields is None:
                self._stop_fields = stop_token_fields(self, self.family.stop_tokens)
            return self._stop_fields

    def _post(self, payload: dict[str, Any]) -> str:
        status, data = self.client.call("POST", "chat/completions", payload)
        if status != 200:
            raise ValueError(f"HTTP {status}: {excerpt(data)}")
        try:
            reply = json.loads(data)
        except (ValueError, RecursionError):
            raise ValueError(f"reply is not JSON: {excerpt(data)}") from None
        answer = answer_text(reply)
        if self.family_requests is None:
            return answer.strip()  # as backend=hf and backend=vllm decode
        with self._lock:  # one tokenizer for all worker threads
            return self.family_requests.answer(reply, answer)

    def _one(self, request: GenerationRequest) -> str | InferenceFailure:
        try:
            payload = self.payload(request)
        except OSError as exc:
            return InferenceFailure(f"cannot read image {request.image_path}: {exc}")
        if self._stop.is_set():
            return InferenceFailure("stopped (interrupted) before an answer", transient=True)
        try:
            return self._retrying.run(lambda: self._post(payload))
        except RetryableError as exc:
            if self._stop.is_set():
                return InferenceFailure(f"stopped (interrupted) before an answer: {exc}", transient=True)
            return InferenceFailure(f"failed after {self._retrying.attempts} attempts: {exc}", transient=True)
        except ValueError as exc:
            return InferenceFailure(str(exc))

    def generate(self, requests: list[GenerationRequest]) -> list[str | InferenceFailure]:
        return run_concurrently(self._one, requests, int(self.settings.concurrency), self._stop)

    def to_protocol(self, response: str, request: GenerationRequest) -> str:
        if self.family is None:
            return response
        processor = self.family_requests.processor
        return self.family.to_protocol(response, request_size(request), processor)

    def close(self) -> None:
        self._stop.set()


def load_processor(path: str, processor_kwargs: dict) -> Any:
    """The served checkpoint's transformers processor, read as backend=hf reads it: the family's
    pixel budget and box codec come from it."""
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(path, **dict(processor_kwargs or {}))


def stop_token_fields(backend: OpenAIBackend, stop_tokens: tuple[str, ...]) -> dict[str, Any]:
    """`stop_token_ids` for the family's turn-end tokens, from the server's tokenizer; where the
    server does not tokenize, the tokens as `stop` strings (noted: a special token is matched only
    if the server keeps it in the text)."""
    if not stop_tokens:
        return {}
    ids = []
    for token in stop_tokens:
        payload = {"model": backend.settings.served_model, "prompt": token, "add_special_tokens": False}
        try:
            status, data = backend.retrying("tokenizing a stop token").run(
                lambda payload=payload: backend.client.call("POST", "/tokenize", payload)
            )
            answer = json.loads(data) if status == 200 else None
        except (RetryableError, ValueError):
            answer = None
        pieces = answer.get("tokens") if isinstance(answer, dict) else None
        if not isinstance(pieces, list) or len(pieces) != 1:
            message = f"stop tokens {list(stop_tokens)} sent as stop strings: no single server token id for {token!r}"
            backend.events.append(message)
            log.warning(message)
            return {"stop": list(stop_tokens)}
        ids.append(int(pieces[0]))
    return {"stop_token_ids": ids}

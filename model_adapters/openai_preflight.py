"""What backend=openai checks before its first batch, so that a wrong URL, model name or server
set-up stops the run at once with the server's own words (URL, status, body) and what to change,
instead of minutes of retries and a table of failed samples.

1. `GET /models`: the server answers and serves `model.served_model`.
2. One tiny request (the first sample, one new token): the server accepts this run's requests
   (a server with no chat template answers 400, a wrong name 404).
3. With a family: where the server tokenizes (vLLM's `/tokenize`), its token ids for one request
   of each subset must equal those of the family's exact prompt; the first differing token is
   named. `model.template_check=refuse` (default) stops the run, `warn` goes on with a warning.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from model_adapters.base import GenerationRequest
from model_adapters.errors import AdapterError
from model_adapters.http_api import RetryableError, excerpt

OpenAIBackend = Any  # model_adapters/openai_api.py's, which imports this module

log = logging.getLogger("sarbench")
CHECKS = ("refuse", "warn")
Token = tuple[int, str]  # (id, the tokenizer's spelling)
MODELS_TIMEOUT_S = 30.0


class PreflightError(AdapterError):
    """The served model cannot run this evaluation as configured; the message says why."""


def preflight(backend: OpenAIBackend, requests: list[GenerationRequest]) -> None:
    """Raise PreflightError unless the server is ready for `requests` (one per subset). A sample
    whose image cannot be read is left to the run (there it is that sample's counted failure)."""
    check_served_model(backend)
    readable = []
    for request in requests:
        try:
            backend.payload(request)
            readable.append(request)
        except OSError as exc:  # PIL's UnidentifiedImageError is one too
            note(backend, f"{request.sample_id} left out of the preflight: cannot read its image ({exc})")
    if not readable:
        return
    tiny_request(backend, readable[0])
    if backend.family_requests is not None:
        for request in readable:
            check_prompt_tokens(backend, request)


def call(backend: OpenAIBackend, what: str, method: str, route: str, payload: Any = None, timeout_s=None):
    """(status, body, parsed JSON or None); a server that cannot be reached is a PreflightError."""
    url = backend.client.url(route)
    try:
        status, data = backend.retrying(f"{what} ({url})").run(
            lambda: backend.client.call(method, route, payload, timeout_s)
        )
    except RetryableError as exc:
        refused = "ConnectionRefused" in str(exc) or "Errno 111" in str(exc)
        hint = (
            "nothing listens there: start the server (vLLM: python -m vllm.entrypoints.openai.api_server "
            "--model CHECKPOINT --port PORT) or set model.base_url"
            if refused
            else "the server did not answer in time or is failing; check its log"
        )
        raise PreflightError(f"preflight: {what} at {url} failed: {exc}. {hint}") from None
    try:
        parsed = json.loads(data) if data else None
    except (ValueError, RecursionError):
        parsed = None
    return status, data, parsed


def check_served_model(backend: OpenAIBackend) -> None:
    settings = backend.settings
    url = backend.client.url("models")
    status, data, parsed = call(backend, "listing the served models", "GET", "models", timeout_s=MODELS_TIMEOUT_S)
    if status in (401, 403):
        raise PreflightError(
            f"preflight: {url} answered HTTP {status}: {excerpt(data)}. The server wants an API key: "
            f"export it in ${settings.api_key_env} (model.api_key_env names the variable)"
        )
    if status != 200:
        raise PreflightError(
            f"preflight: {url} answered HTTP {status}: {excerpt(data)}. Is model.base_url the API root "
            "(it usually ends in /v1)?"
        )
    try:
        served = [str(entry["id"]) for entry in parsed["data"]]
    except (KeyError, TypeError):
        raise PreflightError(f"preflight: {url} is not an OpenAI-compatible model list: {excerpt(data)}") from None
    if settings.served_model not in served:
        raise PreflightError(
            f"preflight: the server at {settings.base_url} does not serve {settings.served_model!r}; it serves "
            f"{', '.join(map(repr, served)) or 'nothing'}: set model.served_model to one of them"
        )


def tiny_request(backend: OpenAIBackend, request: GenerationRequest) -> None:
    """The first sample with one new token: what every request of the run would meet."""
    payload = {**backend.payload(request), "max_tokens": 1}
    url = backend.client.url("chat/completions")
    status, data, _ = call(backend, "a one-token request", "POST", "chat/completions", payload)
    if status == 200:
        return
    body = excerpt(data, 500)
    raise PreflightError(f"preflight: {url} answered HTTP {status} to a one-token request: {body}{hint_for(body)}")


def hint_for(body: str) -> str:
    text = body.lower()
    if "trust-request-chat-template" in text or "trust_request_chat_template" in text:
        return (
            ". The server refuses templates sent with requests: start vLLM with --trust-request-chat-template, "
            "or start it with the family's template and set model.chat_template=server"
        )
    if "chat template" in text or "chat_template" in text:
        return (
            ". The server has no chat template for this model: set model.family=<family> (sarbench then sends "
            "the family's template; vLLM needs --trust-request-chat-template) or start the server with "
            "--chat-template"
        )
    if "does not exist" in text or "not found" in text:
        return ". Check model.served_model against the server's --served-model-name"
    return ""


def check_prompt_tokens(backend: OpenAIBackend, request: GenerationRequest) -> None:
    """The server's token ids for `request` against those of the family's exact prompt."""
    family_requests = backend.family_requests
    model = backend.settings.served_model
    chat = {
        "model": model,
        "messages": family_requests.request_messages(request),
        "add_generation_prompt": True,
        "return_token_strs": True,
        **family_requests.template_fields(),
    }
    status, data, served = call(backend, "tokenizing a request", "POST", "/tokenize", chat)
    if status == 404 or (status == 200 and not isinstance(served, dict)):
        note(backend, f"the server offers no /tokenize ({excerpt(data, 120)}): its prompt could not be checked")
        return
    if status != 200:
        raise PreflightError(
            f"preflight: {backend.client.url('/tokenize')} answered HTTP {status}: {excerpt(data, 500)}"
            f"{hint_for(excerpt(data, 500))}"
        )
    exact = {
        "model": model,
        "prompt": family_requests.prompt(request),
        "add_special_tokens": bool(family_requests.family.tokenizer_specials),
        "return_token_strs": True,
    }
    _, _, expected = call(backend, "tokenizing the family's prompt", "POST", "/tokenize", exact)
    placeholder = {
        "model": model,
        "prompt": family_requests.family.image_placeholder,
        "add_special_tokens": False,
    }
    _, _, image_tokens = call(backend, "tokenizing the image placeholder", "POST", "/tokenize", placeholder)
    try:
        difference = first_difference(tokens(served), tokens(expected), set((image_tokens or {}).get("tokens") or ()))
    except (KeyError, TypeError, ValueError):
        note(backend, f"the server's /tokenize answers are not token lists ({excerpt(data, 120)})")
        return
    if difference is None:
        return
    index, ours, theirs = difference
    message = (
        f"the server's prompt for {request.subset} ({request.sample_id}) differs from family "
        f"{family_requests.family.name}'s at token {index}: the server has {describe(backend, theirs)}, "
        f"the family {describe(backend, ours)}"
    )
    if backend.settings.template_check == "warn":
        note(backend, message + " (model.template_check=warn: going on; answers are not comparable to backend=hf)")
        return
    mode = family_requests.template_mode
    fix = (
        "start the server with the family's chat template (--chat-template) or set model.chat_template=request"
        if mode == "server"
        else "the server does not render the template sent with the request"
    )
    raise PreflightError(f"preflight: {message}; {fix}. (model.template_check=warn goes on anyway)")


def tokens(answer: Any) -> list[Token]:
    ids = answer["tokens"]
    strs = answer.get("token_strs") or [str(i) for i in ids]
    if len(strs) != len(ids) or not all(isinstance(i, int) for i in ids):
        raise ValueError("malformed /tokenize answer")
    return list(zip(ids, map(str, strs)))


def collapse(sequence: list[Token], repeated: set[int]) -> list[Token]:
    """Runs of an image-placeholder token as one (the server expands it to the image's size)."""
    out: list[Token] = []
    for item in sequence:
        if out and item[0] in repeated and out[-1][0] == item[0]:
            continue
        out.append(item)
    return out


def first_difference(served: list[Token], family: list[Token], image_tokens: set[int]) -> tuple | None:
    """(index, family token, server token) of the first difference (None past an end), or None
    where the two are equal."""
    served, family = collapse(served, image_tokens), collapse(family, image_tokens)
    for index, (theirs, ours) in enumerate(zip(served, family)):
        if theirs[0] != ours[0]:
            return index, ours, theirs
    if len(served) == len(family):
        return None
    index = min(len(served), len(family))
    return index, family[index] if index < len(family) else None, served[index] if index < len(served) else None


def describe(backend: OpenAIBackend, token: Token | None) -> str:
    """A token as the tokenizer spells it, its id and, where the server detokenizes, its text."""
    if token is None:
        return "nothing more"
    payload = {"model": backend.settings.served_model, "tokens": [token[0]]}
    try:
        status, data = backend.client.call("POST", "/detokenize", payload)
        text = json.loads(data)["prompt"] if status == 200 else None
    except (RetryableError, ValueError, KeyError, TypeError):
        text = None
    shown = f", text {text!r}" if isinstance(text, str) and text != token[1] else ""
    return f"{token[1]!r} (id {token[0]}{shown})"


def note(backend: OpenAIBackend, message: str) -> None:
    backend.events.append(f"preflight: {message}")
    log.warning("preflight: %s", message)

"""Family-exact requests for backend=openai (`model.family` set): the pixels and the prompt that
backend=hf and backend=vllm give the model, not the server's own choices.

- Pixels: the family's image preparation (e.g. Qwen2-VL's ms-swift smart-resize, PIL bicubic) on
  the decoded image, sent as lossless PNG; the server's processor then finds the image at its
  size already. The pixel budget is the served checkpoint's when `model.path` names it (its
  processor is loaded here, as backend=hf loads it), else `model.processor_kwargs`, else the
  family's defaults (those of its released checkpoints).
- Answers: decoded from the reply's token ids with the checkpoint's tokenizer where `model.path`
  gives it, else the server's text; stripped and the family's stop text cut, as backend=hf does.
- Prompt: `model.chat_template=request` sends, with every request, a Jinja chat template that
  renders exactly the family's prompt around the question (`chat_template` in the request body:
  vLLM started with --trust-request-chat-template, SGLang); `server` relies on the server's own
  template. Either way the preflight (openai_preflight.py) compares the server's token ids with
  the family's before the first batch.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from typing import Any

from model_adapters.family import Family
from model_adapters.hf_backend import image_of
from model_adapters.hf_images import PerImage

TEMPLATE_MODES = ("request", "server")
SENTINEL = "\x00question\x00"
# The text parts of the user turns, in order (vLLM hands an image part to a template as
# {"type": "image"}; the family's placeholder is written by the template itself).
USER_TEXT = (
    "{%- for message in messages -%}{%- if message['role'] == 'user' -%}"
    "{%- for part in message['content'] -%}{%- if part['type'] == 'text' -%}{{ part['text'] }}"
    "{%- endif -%}{%- endfor -%}{%- endif -%}{%- endfor -%}"
)


def jinja_literal(text: str) -> str:
    # A Jinja string literal takes Python escapes, which JSON's are a subset of.
    return "{{ " + json.dumps(text, ensure_ascii=False) + " }}" if text else ""


def chat_template(family: Family) -> str:
    """A chat template whose output is `family.render_prompt(question)` for a user turn of an image
    and the question (system prompt, placeholder and turn markers are the family's, fixed)."""
    before, after = family.render_prompt(SENTINEL).split(SENTINEL)
    return jinja_literal(before) + USER_TEXT + jinja_literal(after)


def png_data_url(image: Any) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass
class FamilyRequests:
    """Chat messages and request fields carrying one family's pixels and prompt."""

    family: Family
    template_mode: str
    processor: Any = None

    def __post_init__(self) -> None:
        if self.template_mode not in TEMPLATE_MODES:
            raise ValueError(f"model.chat_template must be one of {TEMPLATE_MODES}, got {self.template_mode!r}")
        self.template = chat_template(self.family)
        # the samples of one image file share its decoded object: its pixels are sent as one PNG
        self._image_urls = PerImage(lambda image: png_data_url(self.family.pixels(image, self.processor)))

    def messages(self, question: str, image: Any) -> list[dict[str, Any]]:
        """System turn (the family's) and a user turn of the prepared image and the question."""
        text = self.family.question_text(question, image.size, self.processor)
        messages = [] if self.family.system is None else [{"role": "system", "content": self.family.system}]
        user = [{"type": "image_url", "image_url": {"url": self._image_urls(image)}}, {"type": "text", "text": text}]
        return [*messages, {"role": "user", "content": user}]

    def request_messages(self, request: Any) -> list[dict[str, Any]]:
        return self.messages(request.prompt, image_of(request))

    def template_fields(self) -> dict[str, Any]:
        """What a request adds so that the server renders the family's prompt."""
        if self.template_mode == "server":
            return {}
        # The family's prompt is tokenized with the tokenizer's special tokens (e.g. a BOS), as
        # backend=hf tokenizes it; the template itself writes none.
        return {"chat_template": self.template, "add_special_tokens": bool(self.family.tokenizer_specials)}

    @property
    def tokenizer(self) -> Any:
        return getattr(self.processor, "tokenizer", self.processor)

    def decode_fields(self) -> dict[str, Any]:
        """With the checkpoint's tokenizer at hand, the answer's token ids are asked for (vLLM's
        `return_token_ids`) and decoded here as backend=hf decodes them: a server's streaming
        detokenizer holds back a trailing incomplete UTF-8 sequence that transformers writes as U+FFFD."""
        return {} if self.processor is None else {"return_token_ids": True}

    def answer(self, reply: dict[str, Any], text: str) -> str:
        """The answer as backend=hf decodes it: from the reply's token ids where it has them."""
        ids = reply["choices"][0].get("token_ids") if self.processor is not None else None
        if isinstance(ids, list) and all(isinstance(i, int) for i in ids):
            text = self.tokenizer.decode(ids, skip_special_tokens=True)
        return self.family.strip_stop_text(text)

    def prompt(self, request: Any) -> str:
        """The family's exact prompt text for a request (what the server must render)."""
        return self.family.render_prompt(request.prompt, image_of(request).size, self.processor)

    def fingerprint(self) -> dict[str, Any]:
        return {**self.family.prompt_fingerprint(), "served_template": self.template_mode, "pixels": "PNG"}

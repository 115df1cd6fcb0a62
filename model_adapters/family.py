"""A model family as a declaration: everything about a family that does not depend on the engine.

A family module (qwen2_vl.py, internvl2_5.py, ...) subclasses `Family` and declares its ms-swift
prompt template (`chat`), image placeholder, image preparation, stop tokens, box codec and the
checkpoint layouts it runs. Backends (hf_backend.py, vllm_backend.py) consume any family through
these methods; a family never runs a model itself. Families whose checkpoints need remote code
also declare how backend=hf loads and calls them (`load_remote`/`generate_remote`, given the
backend's public helpers).

How to add a family: one module with a `Family` subclass (cite the ms-swift template and the box
format's source), one `FAMILIES.register_lazy` line in `model_adapters/__init__.py`, a tiny
checkpoint builder in `model_adapters/tiny/` if transformers has the architecture, a YAML per
checkpoint in `conf/model/`, and the prompt snapshot in tests/snapshots (tests/test_prompts.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from model_adapters.box_codecs import IDENTITY, BoxCodec
from model_adapters.errors import AdapterError, ModelLoadError
from model_adapters.hf_images import IMAGE_CONVERSION, image_size, to_rgb
from model_adapters.registry import Registry
from model_adapters.settings import CheckpointSettings

if TYPE_CHECKING:
    from model_adapters.base import GenerationRequest

SYSTEM_PROMPT = "You are a helpful assistant."  # the SARChat authors' system prompt (PROTOCOL §1.2)
BOX_FORMATS = ("sarchat", "native")


def chatml(system: str | None, user: str) -> str:
    """ChatML as Qwen2-VL, Qwen2.5-VL, InternVL2.5 and mPLUG-Owl3 use it."""
    head = f"<|im_start|>system\n{system}<|im_end|>\n" if system is not None else ""
    return f"{head}<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


class Family:
    name: ClassVar[str] = ""
    # In-process backends whose prompt for this family is verified (tests/test_vllm_backend.py).
    backends: ClassVar[tuple[str, ...]] = ("hf",)
    batch_safe: ClassVar[bool] = True  # batched greedy output equals one-at-a-time output
    default_system: ClassVar[str | None] = SYSTEM_PROMPT
    # Replaces the data's leading `<image>` tag (the question follows after "\n", as in the data).
    image_placeholder: ClassVar[str] = "<image>"
    native_codec: ClassVar[BoxCodec] = IDENTITY
    # config.json model types this family runs natively / through its remote-code path.
    native_model_types: ClassVar[tuple[str, ...]] = ()
    remote_model_types: ClassVar[tuple[str, ...]] = ()
    # False where the family's ms-swift template starts with no BOS and adds none (Yi-VL): the
    # tokenizer is then kept from adding its special tokens to the prompt.
    tokenizer_specials: ClassVar[bool] = True
    # Turn-end tokens of the family's ms-swift template (its stop words): generation stops at any
    # of them besides the checkpoint's eos, and one left at the end of the answer (a token not
    # skipped as special, e.g. Yi-VL's `###`) is cut off.
    stop_tokens: ClassVar[tuple[str, ...]] = ()
    # Remote-code layouts (config.json model types) that vLLM implements itself, image processing
    # included: backend=vllm runs them without the checkpoint's code, writing
    # `vllm_image_placeholder` where the image goes (what vLLM's processor for them expands).
    vllm_remote_types: ClassVar[tuple[str, ...]] = ()
    vllm_image_placeholder: ClassVar[str] = "<image>\n"
    # Ways to run the remote-code layouts without the checkpoint's code, for the refusal messages
    # (e.g. "backend=vllm ..."); empty: none.
    remote_alternatives: ClassVar[str] = ""
    # The transformers version the family's released remote code was written for, where a
    # checkpoint's config.json does not say (its `transformers_version` comes first).
    remote_code_transformers: ClassVar[str | None] = None

    def __init__(self, settings: CheckpointSettings) -> None:
        if settings.box_format not in BOX_FORMATS:
            raise AdapterError(f"model.box_format must be one of {BOX_FORMATS}, got {settings.box_format!r}")
        self.settings = settings

    # -- prompts ------------------------------------------------------------------------------
    @property
    def system(self) -> str | None:
        """`model.system_prompt` (null: the family default; "": an empty system turn)."""
        configured = self.settings.system_prompt
        return self.default_system if configured is None else str(configured)

    @property
    def box_format(self) -> str:
        return self.settings.box_format

    def chat(self, system: str | None, user: str) -> str:
        """The full model input text for one user turn (family chat template)."""
        raise NotImplementedError

    def box_codec(self, processor: Any = None) -> BoxCodec:
        """The family's native box codec; `processor` is the loaded one where the codec depends on it."""
        return self.native_codec

    def question_text(self, question: str, size: tuple[int, int] | None = None, processor: Any = None) -> str:
        """The question as the family asks it: boxes in its native codec when box_format=native."""
        if self.box_format == "native" and size is not None:
            return self.box_codec(processor).encode(question, *size)
        return question

    def render_prompt(
        self, question: str, size: tuple[int, int] | None = None, processor: Any = None, placeholder: str | None = None
    ) -> str:
        """The model input text; `placeholder` replaces the family's image placeholder where an
        engine expands another text into the same image tokens."""
        question = self.question_text(question, size, processor)
        return self.chat(self.system, f"{self.image_placeholder if placeholder is None else placeholder}\n{question}")

    def prompt_fingerprint(self) -> dict[str, Any]:
        codec = self.box_codec().describe() if self.box_format == "native" else None
        fingerprint = {
            "family": self.name,
            "template": self.chat(self.system, f"{self.image_placeholder}\n{{question}}"),
            "system": self.system,
            "image_placeholder": self.image_placeholder,
            "box_format": self.box_format,
            "codec": codec,
            "image_conversion": IMAGE_CONVERSION,
        }
        if self.stop_tokens:  # only where set, so other families' earlier runs still resume
            fingerprint["stop_tokens"] = list(self.stop_tokens)
        if not self.tokenizer_specials:
            fingerprint["tokenizer_specials"] = False
        return fingerprint

    def to_protocol(self, response: str, size: tuple[int, int], processor: Any = None) -> str:
        """A raw answer in protocol form: native boxes converted (PROTOCOL §6) when box_format=native."""
        if self.box_format != "native":
            return response
        return self.box_codec(processor).decode(response, *size)

    @staticmethod
    def batch_order_key(request_prompt: str, image_path: str, same_image_together: bool = False) -> Any:
        """Images of one size together, shorter prompts first (less padding in a batch); with
        `same_image_together` the samples of one image file next to each other within a size."""
        width, height = image_size(str(image_path))
        if same_image_together:
            return (width * height, str(image_path), len(request_prompt))
        return (width * height, len(request_prompt))

    # -- pixels -------------------------------------------------------------------------------
    def prepare_image(self, image: Any, processor: Any = None) -> Any:
        """Family-specific pixels before the processor (e.g. Yi-VL's pad to square)."""
        return image

    def pixels(self, image: Any, processor: Any = None) -> Any:
        """The decoded image (any mode) as the RGB pixels the processor takes: `to_rgb`, then
        `prepare_image`."""
        return self.prepare_image(to_rgb(image), processor)

    # -- checkpoints --------------------------------------------------------------------------
    def check_config(self, config: dict, native: bool) -> None:
        """Refuse checkpoints this family cannot run correctly (raise ModelLoadError)."""
        model_type = config.get("model_type")
        expected = self.native_model_types if native else self.remote_model_types
        if expected and model_type not in expected:
            raise ModelLoadError(
                f"the checkpoint is a {model_type!r} model; family {self.name} runs "
                f"{', '.join(self.native_model_types + self.remote_model_types)}"
            )

    def check_remote_code(self, path: str, config: dict, installed: str) -> None:
        """Refuse, before any of it runs, remote code written for another transformers major
        version than the installed one: it fails deep inside the checkpoint's code (imports,
        generate() internals) or, worse, runs subtly differently."""
        written = str(config.get("transformers_version") or self.remote_code_transformers or "")
        if not written or written.split(".")[0] == installed.split(".")[0]:
            return
        shown = f"{written}.x" if "." not in written else written
        elsewhere = (
            f" What runs it: {self.remote_alternatives}."
            if self.remote_alternatives
            else f" Nothing in sarbench runs it yet: backend=hf needs transformers {installed.split('.')[0]}.x."
        )
        raise ModelLoadError(
            f"{path} ({config.get('model_type')}) runs only through its own modeling code, written for "
            f"transformers {shown}; this environment has transformers {installed}, which that code does not "
            f"support, so backend=hf refuses it up front.{elsewhere} A checkpoint whose code was ported to "
            f"transformers {installed.split('.')[0]} (its config.json then says so) runs with "
            "model.trust_remote_code=true."
        )

    def prepare_vllm_config(self) -> None:
        """Called before vLLM reads a `vllm_remote_types` checkpoint's config.json."""

    def load_native(self, hf: Any, path: str) -> tuple[Any, Any]:
        """(processor, model) of a transformers-format checkpoint; `hf` is the HF backend."""
        return hf.load_native(path)

    def load_remote(self, hf: Any, path: str) -> tuple[Any, Any]:
        raise ModelLoadError(f"{self.name} has no remote-code loading path; use a transformers-format checkpoint")

    def generate_remote(self, hf: Any, request: GenerationRequest, max_new_tokens: int) -> str:
        raise NotImplementedError

    # -- stopping -----------------------------------------------------------------------------
    def stop_token_ids(self, tokenizer: Any) -> list[int]:
        """Ids of `stop_tokens` in the loaded tokenizer; one that is not a single token is refused."""
        ids = []
        for token in self.stop_tokens:
            token_id = tokenizer.convert_tokens_to_ids(token)
            if token_id is None or token_id == tokenizer.unk_token_id:
                pieces = tokenizer.encode(token, add_special_tokens=False)
                if len(pieces) != 1:
                    raise ModelLoadError(
                        f"{self.name}: the stop token {token!r} of its template is not one "
                        f"token in this checkpoint's tokenizer ({pieces})"
                    )
                token_id = pieces[0]
            ids.append(int(token_id))
        return ids

    def strip_stop_text(self, text: str) -> str:
        """Cut a stop token generation ended on (kept in the text when it is not a special token)."""
        text = text.strip()
        for token in self.stop_tokens:
            if text.endswith(token):
                return text[: -len(token)].strip()
        return text


FAMILIES: Registry[type[Family]] = Registry("model family")

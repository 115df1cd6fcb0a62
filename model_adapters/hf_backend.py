"""`backend=hf`: batched greedy generation through transformers, shared by every family adapter.

A family module only declares its chat template, image placeholder and box codec (and, for
families transformers does not support natively, a `trust_remote_code` loading path). This
module owns loading (dtype/device/device_map from config), LEFT-padded batching grouped by
`max_new_tokens`, the CUDA-OOM fallback (halve the batch, retry, record an event) and the
`box_format` switch. torch/transformers are imported only when a model is loaded.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from model_adapters.base import Capabilities, GenerationRequest, ModelAdapter
from model_adapters.box_codecs import IDENTITY, BoxCodec
from model_adapters.hf_images import IMAGE_CONVERSION, image_size, to_rgb
from model_adapters.stop_tokens import TemplateStops

log = logging.getLogger("sarbench")

SYSTEM_PROMPT = "You are a helpful assistant."  # the SARChat authors' system prompt (PROTOCOL §1.2)
BOX_FORMATS = ("sarchat", "native")


class ModelLoadError(RuntimeError):
    """The checkpoint cannot be loaded as configured; the message says what to change."""


def run_error(message: str) -> Exception:
    from sarbench.runner import RunError

    return RunError(message)


def is_oom(exc: BaseException) -> bool:
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):
        pass
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def check_loading_info(path: str, loading: dict, events: list[str]) -> None:
    """Refuse a checkpoint that leaves weights randomly initialised (transformers only logs
    them): its answers would be scored as the model's. Unused checkpoint weights are noted."""
    missing = sorted(loading.get("missing_keys") or ())
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ModelLoadError(f"{path} lacks {len(missing)} weights the model needs ({shown}): it is "
                             "incomplete or another architecture than its config.json says")
    unexpected = sorted(loading.get("unexpected_keys") or ())
    if unexpected:
        events.append(f"checkpoint weights not used by the model: {len(unexpected)} "
                      f"({', '.join(unexpected[:5])}{', ...' if len(unexpected) > 5 else ''})")


def chatml(system: str | None, user: str) -> str:
    """ChatML as Qwen2-VL, Qwen2.5-VL, InternVL2.5 and mPLUG-Owl3 use it."""
    head = f"<|im_start|>system\n{system}<|im_end|>\n" if system is not None else ""
    return f"{head}<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


@dataclass
class HFChatAdapter(TemplateStops, ModelAdapter):
    """Base class of the transformers-backed family adapters."""

    capabilities = Capabilities(batch_safe=True, backends=("hf",))
    family: ClassVar[str] = ""
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

    def __post_init__(self) -> None:
        box_format = self.settings.get("box_format", "sarchat")
        if box_format not in BOX_FORMATS:
            raise run_error(f"model.box_format must be one of {BOX_FORMATS}, got {box_format!r}")
        self._processor: Any = None
        self._model: Any = None
        self._remote = False
        self._max_batch: int | None = None
        backend = self.settings.get("backend", "hf")
        if backend not in ("hf", "vllm"):  # vllm: model_adapters/vllm_backend.py wraps this adapter
            raise run_error(f"backend={backend} cannot run {self.family}; use backend=hf")
        if backend == "hf" and self.settings.get("preload", True):
            self.load()

    # -- prompts ------------------------------------------------------------------------------
    @property
    def system(self) -> str | None:
        """`model.system_prompt` (null: the family default; "": an empty system turn)."""
        configured = self.settings.get("system_prompt")
        return self.default_system if configured is None else str(configured)

    @property
    def box_format(self) -> str:
        return self.settings.get("box_format", "sarchat")

    def chat(self, system: str | None, user: str) -> str:
        """The full model input text for one user turn (family chat template)."""
        raise NotImplementedError

    def box_codec(self) -> BoxCodec:
        return self.native_codec

    def render_prompt(self, question: str, size: tuple[int, int] | None = None) -> str:
        if self.box_format == "native" and size is not None:
            question = self.box_codec().encode(question, *size)
        return self.chat(self.system, f"{self.image_placeholder}\n{question}")

    def prompt_fingerprint(self) -> dict[str, Any]:
        codec = self.box_codec().describe() if self.box_format == "native" else None
        fingerprint = {"family": self.family,
                       "template": self.chat(self.system, f"{self.image_placeholder}\n{{question}}"),
                       "system": self.system, "image_placeholder": self.image_placeholder,
                       "box_format": self.box_format, "codec": codec, "image_conversion": IMAGE_CONVERSION}
        if self.stop_tokens:  # only where set, so other families' earlier runs still resume
            fingerprint["stop_tokens"] = list(self.stop_tokens)
        if not self.tokenizer_specials:
            fingerprint["tokenizer_specials"] = False
        return fingerprint

    def batch_order_key(self, request_prompt: str, image_path: str) -> Any:
        width, height = image_size(str(image_path))
        return (width * height, len(request_prompt))

    def to_protocol(self, response: str, request: GenerationRequest) -> str:
        if self.box_format != "native":
            return response
        return self.box_codec().decode(response, *self._size(request))

    @staticmethod
    def _size(request: GenerationRequest) -> tuple[int, int]:
        return request.image.size if request.image is not None else image_size(str(request.image_path))

    # -- loading ------------------------------------------------------------------------------
    def checkpoint_path(self) -> str:
        tiny = self.settings.get("tiny")
        if tiny:
            from model_adapters.tiny import ensure_tiny_model

            return str(ensure_tiny_model(tiny["builder"], tiny.get("cache_dir")))
        path = self.settings.get("path")
        if not path:
            raise ModelLoadError(f"model.path is not set for {self.name}; e.g. model.path=/local/checkpoint")
        return str(Path(path).expanduser()) if str(path).startswith(("/", "~", ".")) else str(path)

    def checkpoint_location(self) -> str | None:
        return self.checkpoint_path()

    def checkpoint_config(self, path: str) -> dict:
        from transformers.utils import cached_file

        config_file = cached_file(path, "config.json", revision=self.settings.get("revision"))
        return json.loads(Path(config_file).read_text())

    def is_native(self, config: dict) -> bool:
        """Whether transformers loads this checkpoint without remote code."""
        from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

        return config.get("model_type") in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    def check_config(self, config: dict) -> None:
        """Refuse checkpoints this family cannot run correctly (raise ModelLoadError)."""
        model_type = config.get("model_type")
        expected = self.native_model_types if self.is_native(config) else self.remote_model_types
        if expected and model_type not in expected:
            raise ModelLoadError(f"the checkpoint is a {model_type!r} model; adapter {self.family} runs "
                                 f"{', '.join(self.native_model_types + self.remote_model_types)}")

    def load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as exc:
            raise run_error(f"backend=hf needs torch and transformers ({exc}); "
                            "install them: pip install -e '.[hf]'") from None
        try:
            path = self.checkpoint_path()
            config = self.checkpoint_config(path)
            self.check_config(config)
            if self.is_native(config):
                self._processor, self._model = self.load_native(path)
            else:
                if not self.settings.get("trust_remote_code", False):
                    raise ModelLoadError(
                        f"{path} ({config.get('model_type')}) needs the checkpoint's own modeling code. "
                        f"Review it, then opt in with model.trust_remote_code=true")
                self._remote = True
                self._processor, self._model = self.load_remote(path)
        except (ModelLoadError, OSError, ValueError, ImportError) as exc:
            raise run_error(f"cannot load model {self.name!r}: {exc}") from exc
        self.stop_token_ids()  # a template stop token the tokenizer lacks is refused before any work
        self.events.append(f"loaded {path} ({'remote code' if self._remote else 'transformers'}) "
                           f"dtype={self.dtype()} device={self.input_device()}")

    def device(self) -> str:
        import torch

        device = self.settings.get("device", "auto") or "auto"
        return ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else str(device)

    def dtype(self) -> Any:
        import torch

        name = self.settings.get("dtype", "auto") or "auto"
        if name == "auto":
            if self.device().startswith("cuda"):
                return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return torch.float32
        dtype = getattr(torch, str(name), None)
        if not isinstance(dtype, torch.dtype):
            raise ModelLoadError(f"model.dtype={name!r} is not a torch dtype (auto, bfloat16, float16, float32)")
        return dtype

    def input_device(self) -> Any:
        return self._model.device if self._model is not None else self.device()

    def model_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"dtype": self.dtype(), "revision": self.settings.get("revision")}
        if self.settings.get("device_map"):
            kwargs["device_map"] = self.settings["device_map"]
        if self.settings.get("attn_implementation"):
            kwargs["attn_implementation"] = self.settings["attn_implementation"]
        return kwargs

    def place(self, model: Any) -> Any:
        model = model if self.settings.get("device_map") else model.to(self.device())
        return model.eval()

    def load_native(self, path: str) -> tuple[Any, Any]:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        processor = AutoProcessor.from_pretrained(path, revision=self.settings.get("revision"),
                                                  **dict(self.settings.get("processor_kwargs") or {}))
        processor.tokenizer.padding_side = "left"  # right padding corrupts batched greedy output
        model, loading = AutoModelForImageTextToText.from_pretrained(path, output_loading_info=True,
                                                                     **self.model_kwargs())
        check_loading_info(path, loading, self.events)
        return processor, self.place(model)

    def load_remote(self, path: str) -> tuple[Any, Any]:
        raise ModelLoadError(f"{self.family} has no remote-code loading path; use a transformers-format "
                             "checkpoint")

    # -- generation ---------------------------------------------------------------------------
    def generation_kwargs(self, max_new_tokens: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"do_sample": False, "num_beams": 1}
        eos = self.eos_token_ids() if self._model is not None else None
        if eos:
            kwargs["eos_token_id"] = eos
        kwargs.update(self.settings.get("generation") or {})
        kwargs["max_new_tokens"] = max_new_tokens
        minimum = self.settings.get("min_new_tokens")
        if minimum:
            kwargs["min_new_tokens"] = min(int(minimum), max_new_tokens)
        return kwargs

    def generate(self, requests: list[GenerationRequest]) -> list[str]:
        self.load()
        responses: list[str | None] = [None] * len(requests)
        groups: dict[int, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.max_new_tokens, []).append(index)
        for max_new_tokens, indices in groups.items():
            texts = self._generate_halving_on_oom([requests[i] for i in indices], max_new_tokens)
            for index, text in zip(indices, texts):
                responses[index] = self.strip_stop_text(text)
        return [r or "" for r in responses]

    def _generate_halving_on_oom(self, requests: list[GenerationRequest], max_new_tokens: int) -> list[str]:
        size = min(len(requests), self._max_batch or len(requests))
        done: list[str] = []
        while len(done) < len(requests):
            part = requests[len(done):len(done) + size]
            try:
                done += self.generate_batch(part, max_new_tokens)
            except Exception as exc:  # noqa: BLE001 - only OOM is handled here
                if not is_oom(exc) or size == 1:
                    raise
                self._free_cuda_memory()
                size = max(1, size // 2)
                self._max_batch = size
                self.events.append(f"CUDA out of memory at batch {len(part)}: retrying with batch {size}")
                log.warning(self.events[-1])
        return done

    @staticmethod
    def _free_cuda_memory() -> None:
        import gc

        import torch

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def generate_batch(self, requests: list[GenerationRequest], max_new_tokens: int) -> list[str]:
        """One model call for `requests` (remote-code families run them one at a time)."""
        if self._remote:
            return [self.generate_remote(request, max_new_tokens) for request in requests]
        inputs = [self.native_inputs(r) for r in requests]
        return self.generate_native([text for text, _ in inputs], [image for _, image in inputs], max_new_tokens)

    def native_inputs(self, request: GenerationRequest) -> tuple[str, Any]:
        """(prompt text, image) as the processor takes them; backend=vllm hands the engine the same."""
        original = to_rgb(self.image_of(request))
        return self.render_prompt(request.prompt, original.size), self.prepare_image(original)

    def prepare_image(self, image: Any) -> Any:
        """Family-specific pixels before the processor (e.g. Yi-VL's pad to square)."""
        return image

    @staticmethod
    def image_of(request: GenerationRequest) -> Any:
        if request.image is not None:
            return request.image
        from PIL import Image

        with Image.open(request.image_path) as image:
            image.load()
            return image.copy()

    def generate_native(self, texts: list[str], images: list[Any], max_new_tokens: int) -> list[str]:
        import torch

        specials = {} if self.tokenizer_specials else {"add_special_tokens": False}
        inputs = self._processor(text=texts, images=images, padding=True, return_tensors="pt", **specials)
        inputs = self.to_model(inputs)
        kwargs = {"pad_token_id": self._processor.tokenizer.pad_token_id, **self.generation_kwargs(max_new_tokens)}
        with torch.inference_mode():
            output = self._model.generate(**inputs, **kwargs)
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        return [t.strip() for t in self._processor.batch_decode(new_tokens, skip_special_tokens=True)]

    def to_model(self, inputs: Any) -> dict[str, Any]:
        device, dtype = self.input_device(), self._model.dtype
        return {k: (v.to(device=device, dtype=dtype) if v.is_floating_point() else v.to(device))
                if hasattr(v, "to") else v for k, v in dict(inputs).items()}

    def generate_remote(self, request: GenerationRequest, max_new_tokens: int) -> str:
        raise NotImplementedError

    def close(self) -> None:
        self._model = None
        self._processor = None
        try:
            self._free_cuda_memory()
        except ImportError:
            pass

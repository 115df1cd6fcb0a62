"""`backend=hf`: batched greedy generation through transformers, for any family declaration.

The family (model_adapters/family.py and its modules) declares the chat template, image
placeholder, image preparation, stop tokens and box codec (and, for families transformers does
not support natively, a `trust_remote_code` loading path). This module owns loading
(dtype/device/device_map from config), LEFT-padded batching grouped by `max_new_tokens`, the
CUDA-OOM fallback (halve the batch, retry, record an event) and the `box_format` switch.
torch/transformers are imported only when a model is loaded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_adapters.base import Capabilities, GenerationRequest, ModelAdapter
from model_adapters.errors import AdapterError, ModelLoadError
from model_adapters.family import Family
from model_adapters.hub_access import check_hub_checkpoint, local_or_hub
from model_adapters.settings import CheckpointSettings

log = logging.getLogger("sarbench")


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
        raise ModelLoadError(
            f"{path} lacks {len(missing)} weights the model needs ({shown}): it is "
            "incomplete or another architecture than its config.json says"
        )
    unexpected = sorted(loading.get("unexpected_keys") or ())
    if unexpected:
        events.append(
            f"checkpoint weights not used by the model: {len(unexpected)} "
            f"({', '.join(unexpected[:5])}{', ...' if len(unexpected) > 5 else ''})"
        )


def checkpoint_path(settings: CheckpointSettings) -> str:
    """The checkpoint folder or hub id (a tiny checkpoint is built on first use)."""
    if settings.tiny:
        from model_adapters.tiny import ensure_tiny_model

        return str(ensure_tiny_model(settings.tiny["builder"], settings.tiny.get("cache_dir")))
    path = settings.path
    if not path:
        raise ModelLoadError(f"model.path is not set for {settings.name}; e.g. model.path=/local/checkpoint")
    return local_or_hub(str(path))


def checkpoint_config(path: str, revision: str | None) -> dict:
    from transformers.utils import cached_file

    if not Path(path).is_dir():  # a hub id: fail fast where it cannot be downloaded
        check_hub_checkpoint(path, revision)
    config_file = cached_file(path, "config.json", revision=revision)
    return json.loads(Path(config_file).read_text())


def is_native(config: dict) -> bool:
    """Whether transformers loads this checkpoint without remote code."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    return config.get("model_type") in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES


@dataclass
class HFBackend(ModelAdapter):
    """One loaded transformers model running one family's prompts. Build with `create`."""

    family: Family | None = None

    @classmethod
    def create(cls, settings: CheckpointSettings, family: Family | None, backend_settings: dict) -> HFBackend:
        if family is None:
            raise AdapterError(f"backend=hf needs a model family (model.family); {settings.name} has none")
        backend = cls(name=settings.name, settings=settings, family=family)
        backend.load()  # fail fast: a checkpoint that cannot load stops the run before any work
        return backend

    def __post_init__(self) -> None:
        self._processor: Any = None
        self._model: Any = None
        self._remote = False
        self._max_batch: int | None = None
        self.capabilities = Capabilities(batch_safe=self.family.batch_safe)

    @property
    def processor(self) -> Any:
        return self._processor

    @property
    def model(self) -> Any:
        return self._model

    @property
    def tokenizer(self) -> Any:
        return getattr(self._processor, "tokenizer", self._processor)

    # -- what the runner asks -----------------------------------------------------------------
    def prompt_fingerprint(self) -> dict[str, Any]:
        return self.family.prompt_fingerprint()

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "family": type(self.family).__name__}

    def batch_order_key(self, request_prompt: str, image_path: str) -> Any:
        return self.family.batch_order_key(request_prompt, image_path)

    def to_protocol(self, response: str, request: GenerationRequest) -> str:
        return self.family.to_protocol(response, request_size(request), self._processor)

    def checkpoint_location(self) -> str | None:
        return checkpoint_path(self.settings)

    # -- loading ------------------------------------------------------------------------------
    def load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch  # noqa: F401
            import transformers
        except ImportError as exc:
            raise AdapterError(
                f"backend=hf needs torch and transformers ({exc}); install them: pip install -e '.[hf]'"
            ) from None
        try:
            path = checkpoint_path(self.settings)
            config = checkpoint_config(path, self.settings.revision)
            native = is_native(config)
            self.family.check_config(config, native)
            if native:
                self._processor, self._model = self.family.load_native(self, path)
            else:
                self.family.check_remote_code(path, config, transformers.__version__)
                if not self.settings.trust_remote_code:
                    raise ModelLoadError(
                        f"{path} ({config.get('model_type')}) needs the checkpoint's own modeling code. "
                        "Review it, then opt in with model.trust_remote_code=true"
                        + (f"; or, without its code: {alt}" if (alt := self.family.remote_alternatives) else "")
                    )
                self._remote = True
                self._processor, self._model = self.family.load_remote(self, path)
            self.family.stop_token_ids(self.tokenizer)  # a stop token the tokenizer lacks: refused now
        except (OSError, ValueError, ImportError) as exc:
            raise ModelLoadError(f"cannot load model {self.name!r}: {exc}") from exc
        except ModelLoadError as exc:
            raise ModelLoadError(f"cannot load model {self.name!r}: {exc}") from exc
        self.events.append(
            f"loaded {path} ({'remote code' if self._remote else 'transformers'}) "
            f"dtype={self.dtype()} device={self.input_device()}"
        )

    def device(self) -> str:
        import torch

        device = self.settings.device or "auto"
        return ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else str(device)

    def dtype(self) -> Any:
        import torch

        name = self.settings.dtype or "auto"
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
        kwargs: dict[str, Any] = {"dtype": self.dtype(), "revision": self.settings.revision}
        if self.settings.device_map:
            kwargs["device_map"] = self.settings.device_map
        if self.settings.attn_implementation:
            kwargs["attn_implementation"] = self.settings.attn_implementation
        return kwargs

    def place(self, model: Any) -> Any:
        model = model if self.settings.device_map else model.to(self.device())
        return model.eval()

    def load_native(self, path: str) -> tuple[Any, Any]:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        processor = AutoProcessor.from_pretrained(
            path, revision=self.settings.revision, **dict(self.settings.processor_kwargs or {})
        )
        processor.tokenizer.padding_side = "left"  # right padding corrupts batched greedy output
        model, loading = AutoModelForImageTextToText.from_pretrained(
            path, output_loading_info=True, **self.model_kwargs()
        )
        check_loading_info(path, loading, self.events)
        return processor, self.place(model)

    # -- generation ---------------------------------------------------------------------------
    def eos_token_ids(self) -> list[int] | None:
        """The checkpoint's eos ids plus the family's stop tokens; None (the checkpoint's own) without any."""
        if not self.family.stop_tokens:
            return None
        ids: list[int] = []
        for value in (
            getattr(getattr(self._model, "generation_config", None), "eos_token_id", None),
            self.tokenizer.eos_token_id,
        ):
            ids.extend(value if isinstance(value, (list, tuple)) else [] if value is None else [value])
        return list(dict.fromkeys([*ids, *self.family.stop_token_ids(self.tokenizer)]))

    def generation_kwargs(self, max_new_tokens: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"do_sample": False, "num_beams": 1}
        eos = self.eos_token_ids() if self._model is not None else None
        if eos:
            kwargs["eos_token_id"] = eos
        kwargs.update(self.settings.generation or {})
        kwargs["max_new_tokens"] = max_new_tokens
        minimum = self.settings.min_new_tokens
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
                responses[index] = self.family.strip_stop_text(text)
        return [r or "" for r in responses]

    def _generate_halving_on_oom(self, requests: list[GenerationRequest], max_new_tokens: int) -> list[str]:
        size = min(len(requests), self._max_batch or len(requests))
        done: list[str] = []
        while len(done) < len(requests):
            part = requests[len(done) : len(done) + size]
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
        return native_inputs(self.family, request, self._processor)

    def generate_native(self, texts: list[str], images: list[Any], max_new_tokens: int) -> list[str]:
        import torch

        specials = {} if self.family.tokenizer_specials else {"add_special_tokens": False}
        inputs = self._processor(text=texts, images=images, padding=True, return_tensors="pt", **specials)
        inputs = self.to_model(inputs)
        kwargs = {"pad_token_id": self._processor.tokenizer.pad_token_id, **self.generation_kwargs(max_new_tokens)}
        with torch.inference_mode():
            output = self._model.generate(**inputs, **kwargs)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return [t.strip() for t in self._processor.batch_decode(new_tokens, skip_special_tokens=True)]

    def to_model(self, inputs: Any) -> dict[str, Any]:
        device, dtype = self.input_device(), self._model.dtype
        return {
            k: (v.to(device=device, dtype=dtype) if v.is_floating_point() else v.to(device)) if hasattr(v, "to") else v
            for k, v in dict(inputs).items()
        }

    def generate_remote(self, request: GenerationRequest, max_new_tokens: int) -> str:
        return self.family.generate_remote(self, request, max_new_tokens)

    def close(self) -> None:
        self._model = None
        self._processor = None
        try:
            self._free_cuda_memory()
        except ImportError:
            pass


def image_of(request: GenerationRequest) -> Any:
    """The request's decoded image (read from its file where the runner did not decode it)."""
    if request.image is not None:
        return request.image
    from PIL import Image

    with Image.open(request.image_path) as image:
        image.load()
        return image.copy()


def request_size(request: GenerationRequest) -> tuple[int, int]:
    from model_adapters.hf_images import image_size

    return request.image.size if request.image is not None else image_size(str(request.image_path))


def native_inputs(
    family: Family,
    request: GenerationRequest,
    processor: Any,
    placeholder: str | None = None,
    pixels: Callable[[Any], Any] | None = None,
) -> tuple[str, Any]:
    """(prompt text, image) as a family's processor takes them; backend=vllm hands the engine the
    same. `pixels`: the family's `pixels` with the processor bound (e.g. kept per image)."""
    original = image_of(request)
    text = family.render_prompt(request.prompt, original.size, processor, placeholder)
    return text, pixels(original) if pixels is not None else family.pixels(original, processor)

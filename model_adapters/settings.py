"""Typed model settings: the `model:` config group, checked before anything loads.

Values come from the YAML files in `conf/model/` (the shared checkpoint defaults in
`conf/model_base/checkpoint.yaml`, composed through Hydra's defaults list): these classes hold the
types and the set of valid keys, never a second copy of a default. A field without a default must
be in the YAML; the few that default to None mean "the family's own choice" (declared once, in the
family module). Unknown keys are refused with the list of valid ones.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

from model_adapters.errors import AdapterError


@dataclass(frozen=True)
class ModelSettings:
    name: str
    backend: str  # the backend `backend=auto` picks
    family: str | None  # the prompt/image/box declaration (model_adapters/<family>.py); None: none


@dataclass(frozen=True)
class CheckpointSettings(ModelSettings):
    """A checkpoint run in-process (backend=hf or backend=vllm)."""

    path: str | None  # local folder or hub id
    tiny: dict | None  # {builder, cache_dir}: a tiny random-weight checkpoint built offline
    revision: str | None
    dtype: str  # auto: bfloat16 on GPU (float16 without bf16), float32 on CPU
    device: str  # auto: cuda when available, else cpu
    device_map: Any  # e.g. auto: one model across several GPUs (accelerate)
    attn_implementation: str | None
    trust_remote_code: bool
    box_format: str  # sarchat | native
    system_prompt: str | None  # None: the family's default
    min_new_tokens: int | None
    generation: dict  # transformers generate() options; greedy
    processor_kwargs: dict
    pad_to_square: bool | None = None  # LLaVA-1.5 / Yi-VL; None: the family's default
    escaped_newlines: bool | None = None  # GLM-Edge-V; None: the family's default


@dataclass(frozen=True)
class OpenAISettings(ModelSettings):
    """A model behind an OpenAI-compatible chat API (backend=openai)."""

    base_url: str
    served_model: str | None
    api_key_env: str | None
    system_prompt: str | None  # None: the family's default (without a family: the SARChat authors')
    path: str | None  # the served checkpoint, where at hand: its processor gives the pixel budget
    chat_template: str  # request: send the family's template with each request; server: the server's
    template_check: str  # refuse | warn: on a server prompt that differs from the family's
    box_format: str  # as for checkpoints (family set)
    processor_kwargs: dict
    concurrency: int
    timeout_s: float  # one attempt's whole deadline (connect, wait, read)
    max_retries: int
    backoff_s: float
    max_backoff_s: float
    temperature: float
    seed: int | None
    pad_to_square: bool | None = None  # LLaVA-1.5 / Yi-VL; None: the family's default
    escaped_newlines: bool | None = None  # GLM-Edge-V; None: the family's default


@dataclass(frozen=True)
class OracleSettings(ModelSettings):
    """The oracle: answers with the reference (backend=oracle)."""

    load_images: bool
    delay_s: float


@dataclass(frozen=True)
class CFARSettings(ModelSettings):
    """The classical CFAR detector baseline (backend=cfar); meanings in model_adapters/cfar_detector.py
    and docs/cfar.md, values in conf/model/cfar.yaml."""

    detector: str  # ca | os
    scale: str  # linear | log
    pfa: float
    looks: float
    guard: int
    train: int
    os_rank: float
    downsample: int
    opening: int
    closing: int
    min_pixels: int
    max_box_fraction: float
    max_elongation: float


MODEL_YAML_HINT = "the model's YAML should compose its base config; see conf/model/"


def parse_settings(cls: type, config: dict[str, Any], where: str, missing_hint: str = MODEL_YAML_HINT) -> Any:
    """`cls(**config)` with unknown keys, missing keys and wrong types named."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(config) - set(fields))
    if unknown:
        raise AdapterError(f"{where}: unknown setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(fields))}")
    required = [n for n, f in fields.items() if f.default is dataclasses.MISSING and n not in config]
    if required:
        raise AdapterError(f"{where}: missing setting(s) {', '.join(required)} ({missing_hint})")
    hints = typing.get_type_hints(cls)
    for name, value in config.items():
        if not _has_type(value, hints[name]):
            raise AdapterError(f"{where}: setting {name}={value!r} should be {_describe(hints[name])}")
    return cls(**{k: dict(v) if isinstance(v, Mapping) else v for k, v in config.items()})


def _has_type(value: Any, annotation: Any) -> bool:
    if annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return any(value == option and type(value) is type(option) for option in typing.get_args(annotation))
    if origin in (Union, types.UnionType):
        return any(_has_type(value, option) for option in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is dict:  # also a config library's mapping (OmegaConf's DictConfig)
        return isinstance(value, Mapping)
    return isinstance(value, origin or annotation)


def _describe(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(str(option) for option in typing.get_args(annotation))
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(annotation))
    return "null" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))


def as_dict(settings: ModelSettings) -> dict[str, Any]:
    """Plain values, for fingerprints and messages."""
    return dataclasses.asdict(settings)

"""InternVL2.5's released `internvl_chat` layout (OpenGVLab/InternVL2_5-*), without its remote code.

- `InternVLChatConfig`: the layout's config.json as a transformers config class. vLLM implements
  the model (`InternVLChatModel`, with its own image processing) but reads the config through
  transformers, which would run the checkpoint's `configuration_internvl_chat.py`; registering
  this class first lets backend=vllm run released checkpoints with `trust_remote_code` off.
- `convert`: the released layout -> transformers' native InternVL format (`model_type: internvl`,
  `InternVLForConditionalGeneration`), weights renamed shard by shard and the config mapped, as
  transformers' own conversion script (models/internvl/convert_internvl_weights_to_hf.py) does,
  so backend=hf runs it natively and batched. `sarbench convert-internvl SRC DST` runs it.

Language models: Qwen2 (InternVL2.5-1B, -4B, and the tiny test checkpoint) is converted; InternLM2
(-2B, -8B) needs its remote tokenizer code and is refused naming what to do instead.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from model_adapters.errors import ModelLoadError

MODEL_TYPE = "internvl_chat"
CONVERTIBLE_LMS = ("qwen2",)
# released vision-tower names -> transformers' InternVLVisionModel names (applied in order)
VISION_RENAMES = (
    (r"^vision_model\.", "model.vision_tower."),
    (r"\.layers\.", ".layer."),
    (r"embeddings\.class_embedding$", "embeddings.cls_token"),
    (r"embeddings\.position_embedding$", "embeddings.position_embeddings"),
    (r"embeddings\.patch_embedding\.", "embeddings.patch_embeddings.projection."),
    (r"\.ls(\d)$", r".lambda_\1"),
    (r"\.attn\.proj\.", ".attention.projection_layer."),
    (r"\.attn\.", ".attention."),
    (r"\.norm1\.", ".layernorm_before."),
    (r"\.norm2\.", ".layernorm_after."),
)
OTHER_RENAMES = (
    (r"^mlp1\.0\.", "model.multi_modal_projector.layer_norm."),
    (r"^mlp1\.1\.", "model.multi_modal_projector.linear_1."),
    (r"^mlp1\.3\.", "model.multi_modal_projector.linear_2."),
    (r"^language_model\.model\.", "model.language_model."),
    (r"^language_model\.lm_head\.", "lm_head."),
)
# released config keys the native config has no use for (remote-code switches, training flags)
DROPPED_VISION_KEYS = ("architectures", "auto_map", "use_flash_attn", "use_fa3", "drop_path_rate", "_name_or_path")


def register_config() -> None:
    """Make transformers (and so vLLM) read `internvl_chat` config.json files with this module's
    class instead of the checkpoint's code."""
    config_class()


_CONFIG_CLASS: Any = None


def config_class() -> Any:
    global _CONFIG_CLASS
    if _CONFIG_CLASS is None:
        from transformers import AutoConfig

        _CONFIG_CLASS = _define_config_class()
        # registered where the class is first defined, so also in vLLM's engine processes, which
        # define it when they unpickle the engine's config
        AutoConfig.register(MODEL_TYPE, _CONFIG_CLASS, exist_ok=True)
    return _CONFIG_CLASS


def _define_config_class() -> Any:
    from transformers import AutoConfig, PretrainedConfig

    class InternVLChatConfig(PretrainedConfig):
        """Fields as the released configuration_internvl_chat.py keeps them: `vision_config` (the
        InternViT's fields), `llm_config` (a transformers config of the language model) and the
        tiling/projector fields at the top level."""

        model_type = MODEL_TYPE

        def __init__(self, vision_config: dict | None = None, llm_config: dict | None = None, **kwargs: Any) -> None:
            vision = dict(vision_config or {})
            llm = dict(llm_config or {})
            if not isinstance(vision, PretrainedConfig):
                vision = PretrainedConfig(**vision)
            if llm and not isinstance(llm_config, PretrainedConfig):
                llm_type = llm.pop("model_type", "qwen2")
                try:
                    llm = AutoConfig.for_model(llm_type, **llm)
                except ValueError as exc:
                    raise ValueError(
                        f"internvl_chat with a {llm_type!r} language model needs the checkpoint's own config "
                        "and tokenizer code: backend=vllm model.trust_remote_code=true (not verified here)"
                    ) from exc
            self.vision_config = vision
            self.llm_config = llm_config if isinstance(llm_config, PretrainedConfig) else llm
            super().__init__(**kwargs)

        def to_dict(self) -> dict:
            out = super().to_dict()
            for key in ("vision_config", "llm_config"):
                value = getattr(self, key)
                out[key] = value.to_dict() if hasattr(value, "to_dict") else value
            return out

    InternVLChatConfig.__module__ = __name__
    InternVLChatConfig.__qualname__ = "InternVLChatConfig"
    return InternVLChatConfig


def __getattr__(name: str) -> Any:  # `InternVLChatConfig` importable by name (pickling to vLLM's workers)
    if name == "InternVLChatConfig":
        return config_class()
    raise AttributeError(name)


# -- conversion ----------------------------------------------------------------------------------
def native_name(name: str) -> str:
    """The transformers-format name of one released weight (q/k/v still fused)."""
    rules = VISION_RENAMES if name.startswith("vision_model.") else OTHER_RENAMES
    for pattern, replacement in rules:
        name = re.sub(pattern, replacement, name)
    return name


def convert_weights(weights: dict, vision_hidden: int) -> dict:
    """Released tensors -> native ones: renamed, the vision tower's fused qkv split in three."""
    out = {}
    for name, tensor in weights.items():
        target = native_name(name)
        if ".attention.qkv." in target:
            for part, chunk in zip("qkv", tensor.split(vision_hidden, dim=0)):
                out[target.replace(".attention.qkv.", f".attention.{part}_proj.")] = chunk.contiguous()
        else:
            out[target] = tensor
    return out


def native_config(released: dict, image_token_id: int) -> dict:
    """The transformers InternVLConfig fields of a released config.json."""
    llm = {k: v for k, v in released["llm_config"].items() if k not in ("architectures", "auto_map", "_name_or_path")}
    if llm.get("model_type") not in CONVERTIBLE_LMS:
        raise ModelLoadError(
            f"convert-internvl handles InternVL2.5 checkpoints with a {' or '.join(CONVERTIBLE_LMS)} language "
            f"model (1B, 4B); this one has {llm.get('model_type')!r} (InternLM2: 2B, 8B), whose tokenizer is "
            "remote code written for transformers 4 (backend=hf refuses it): the path left is backend=vllm "
            "model.trust_remote_code=true, where vLLM runs the model natively and loads only that code "
            "(not verified here: no InternLM2 tiny checkpoint)"
        )
    vision = {k: v for k, v in released["vision_config"].items() if k not in DROPPED_VISION_KEYS}
    vision["model_type"] = "internvl_vision"
    vision["use_qk_norm"] = vision.pop("qk_normalization", False)
    vision["attention_bias"] = vision.pop("qkv_bias", True)
    vision["use_absolute_position_embeddings"] = True
    vision["use_mean_pooling"] = True  # no final layer norm, as InternViT
    vision["layer_scale_init_value"] = 1.0
    size = int(released.get("force_image_size") or vision["image_size"])
    vision["image_size"], vision["patch_size"] = [size, size], [vision["patch_size"]] * 2
    if not released.get("use_thumbnail", True):
        raise ModelLoadError("use_thumbnail=false: transformers' InternVL processor always adds the thumbnail")
    if released.get("ps_version", "v2") != "v2":
        raise ModelLoadError(f"pixel shuffle {released.get('ps_version')!r}: transformers implements v2 only")
    return {
        "architectures": ["InternVLForConditionalGeneration"],
        "model_type": "internvl",
        "text_config": llm,
        "vision_config": vision,
        "image_token_id": image_token_id,
        "image_seq_length": image_tokens(released),
        "downsample_ratio": released["downsample_ratio"],
        "vision_feature_layer": released.get("select_layer", -1),
        "vision_feature_select_strategy": "default",
        "projector_hidden_act": "gelu",
        "tie_word_embeddings": bool(llm.get("tie_word_embeddings", False)),
        "torch_dtype": released.get("torch_dtype", llm.get("torch_dtype")),
    }


def image_tokens(released: dict) -> int:
    size = int(released.get("force_image_size") or released["vision_config"]["image_size"])
    return int((size // released["vision_config"]["patch_size"]) ** 2 * released["downsample_ratio"] ** 2)


def weight_files(src: Path) -> list[str]:
    index = src / "model.safetensors.index.json"
    if index.exists():
        return sorted(set(json.loads(index.read_text())["weight_map"].values()))
    if (src / "model.safetensors").exists():
        return ["model.safetensors"]
    raise ModelLoadError(f"{src} has no model.safetensors(.index.json): convert-internvl reads safetensors only")


def convert(src: str | Path, dst: str | Path) -> Path:
    """Write the transformers-format checkpoint of the released checkpoint `src` into `dst`."""
    from safetensors.torch import load_file, save_file

    src, dst = Path(src), Path(dst)
    register_config()  # the tokenizer reads config.json: never through the checkpoint's code
    released = json.loads((src / "config.json").read_text())
    if released.get("model_type") != MODEL_TYPE:
        raise ModelLoadError(f"{src}/config.json is {released.get('model_type')!r}, not the released {MODEL_TYPE}")
    if dst.exists() and any(dst.iterdir()):
        raise ModelLoadError(f"{dst} exists and is not empty; give a new folder")
    tokenizer = native_tokenizer(src)
    config = native_config(released, tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>"))
    dst.mkdir(parents=True, exist_ok=True)
    vision_hidden = int(released["vision_config"]["hidden_size"])
    weight_map = {}
    for file in weight_files(src):
        converted = convert_weights(load_file(src / file), vision_hidden)
        save_file(converted, dst / file, metadata={"format": "pt"})
        weight_map |= dict.fromkeys(converted, file)
    if len(weight_files(src)) > 1:
        index = {"metadata": {}, "weight_map": dict(sorted(weight_map.items()))}
        (dst / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    (dst / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    if (src / "generation_config.json").exists():
        shutil.copy2(src / "generation_config.json", dst / "generation_config.json")
    check_names(dst, set(weight_map))
    native_processor(released, tokenizer).save_pretrained(dst)
    return dst


def native_tokenizer(src: Path) -> Any:
    """The checkpoint's tokenizer with the named image tokens transformers' InternVLProcessor reads.
    Its processor also needs a video token: released InternVL2.5 tokenizers have none, so
    `<video>` is added past the vocabulary (an id the model never sees: sarbench sends no video)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(src)
    missing = [t for t in ("<img>", "</img>", "<IMG_CONTEXT>") if t not in tokenizer.get_vocab()]
    if missing:
        raise ModelLoadError(f"{src}'s tokenizer lacks the InternVL image token(s) {', '.join(missing)}")
    tokenizer = AutoTokenizer.from_pretrained(
        src,
        extra_special_tokens={
            "start_image_token": "<img>",
            "end_image_token": "</img>",
            "context_image_token": "<IMG_CONTEXT>",
            "video_token": "<video>",
        },
    )
    tokenizer.padding_side = "left"
    return tokenizer


def native_processor(released: dict, tokenizer: Any) -> Any:
    """transformers' InternVLProcessor with InternVL's tiling: `size`-px tiles, min..max tiles plus
    a thumbnail, ImageNet mean/std (the released `load_image`/`dynamic_preprocess`)."""
    from transformers import GotOcr2ImageProcessor, InternVLProcessor
    from transformers.models.internvl.video_processing_internvl import InternVLVideoProcessor

    size = int(released.get("force_image_size") or released["vision_config"]["image_size"])
    tiles = {"height": size, "width": size}
    return InternVLProcessor(
        image_processor=GotOcr2ImageProcessor(
            size=tiles,
            crop_to_patches=bool(released.get("dynamic_image_size", True)),
            min_patches=int(released.get("min_dynamic_patch", 1)),
            max_patches=int(released.get("max_dynamic_patch", 12)),
            image_mean=[0.485, 0.456, 0.406],
            image_std=[0.229, 0.224, 0.225],
        ),
        video_processor=InternVLVideoProcessor(size=tiles),
        tokenizer=tokenizer,
        image_seq_length=image_tokens(released),
    )


def check_names(dst: Path, names: set[str]) -> None:
    """The converted weights are exactly the native model's: none missing, none left over."""
    import torch
    from transformers import AutoConfig, InternVLForConditionalGeneration

    config = AutoConfig.from_pretrained(dst)
    with torch.device("meta"):
        expected = set(InternVLForConditionalGeneration(config).state_dict())
    missing, extra = sorted(expected - names), sorted(names - expected)
    if missing or extra:
        raise ModelLoadError(
            f"conversion of {dst} is incomplete: missing {missing[:5]} ({len(missing)}), "
            f"unmapped {extra[:5]} ({len(extra)})"
        )

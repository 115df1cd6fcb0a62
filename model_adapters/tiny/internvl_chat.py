"""Tiny InternVL2.5 in the released `internvl_chat` layout (OpenGVLab/InternVL2_5-1B and 4B: an
InternViT vision tower, a pixel-shuffle MLP projector `mlp1` and a Qwen2 language model).

The files are written as the released checkpoints have them, without their remote code: config.json
with `architectures: ["InternVLChatModel"]`, `model_type: internvl_chat`, nested `llm_config` /
`vision_config`; weights named `vision_model.*` (fused `attn.qkv`, layer scales `ls1`/`ls2`),
`mlp1.{0,1,3}.*`, `language_model.model.*` and `language_model.lm_head.*`; a tokenizer whose
special tokens include `<img>`, `</img>` and `<IMG_CONTEXT>`. The weights are drawn here name by
name, so nothing of transformers' own InternVL format leaks into this layout: the converter
(model_adapters/internvl_convert.py) is the only map between the two. 56-px tiles give 4 image
tokens each (at most 4 tiles + thumbnail); the language model's heads have 32 dims, the least
vLLM's CPU attention takes.
"""

from __future__ import annotations

import json
from pathlib import Path

from model_adapters.tiny.qwen2_vl import TEXT_HEADS, TEXT_HIDDEN, TEXT_KV_HEADS
from model_adapters.tiny.tokenizer import build_tokenizer, token_ids

SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<img>",
    "</img>",
    "<IMG_CONTEXT>",
    "<quad>",
    "</quad>",
    "<ref>",
    "</ref>",
    "<box>",
    "</box>",
]
TILE, PATCH = 56, 14
VISION_HIDDEN, VISION_HEADS, VISION_LAYERS = 64, 2, 2
TEXT_LAYERS = 2
DOWNSAMPLE = 0.5
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
INIT_STD = 0.02


def released_config(vocab_size: int, ids: dict[str, int]) -> dict:
    """config.json as InternVL2_5-1B's, scaled down (same keys and meanings)."""
    return {
        "architectures": ["InternVLChatModel"],
        "auto_map": {
            "AutoConfig": "configuration_internvl_chat.InternVLChatConfig",
            "AutoModel": "modeling_internvl_chat.InternVLChatModel",
            "AutoModelForCausalLM": "modeling_internvl_chat.InternVLChatModel",
        },
        "model_type": "internvl_chat",
        "template": "internvl2_5",
        "downsample_ratio": DOWNSAMPLE,
        "dynamic_image_size": True,
        "force_image_size": TILE,
        "min_dynamic_patch": 1,
        "max_dynamic_patch": 4,
        "use_thumbnail": True,
        "ps_version": "v2",
        "select_layer": -1,
        "use_backbone_lora": 0,
        "use_llm_lora": 0,
        "torch_dtype": "float32",
        "transformers_version": "4.37.2",  # as InternVL2_5-1B's: its remote code's transformers
        "llm_config": {
            "architectures": ["Qwen2ForCausalLM"],
            "model_type": "qwen2",
            "vocab_size": vocab_size,
            "hidden_size": TEXT_HIDDEN,
            "intermediate_size": 2 * TEXT_HIDDEN,
            "num_hidden_layers": TEXT_LAYERS,
            "num_attention_heads": TEXT_HEADS,
            "num_key_value_heads": TEXT_KV_HEADS,
            "hidden_act": "silu",
            "max_position_embeddings": 4096,
            "max_window_layers": TEXT_LAYERS,
            "rms_norm_eps": 1e-6,
            "rope_theta": 1000000.0,
            "use_sliding_window": False,
            "sliding_window": 4096,
            "tie_word_embeddings": False,
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "torch_dtype": "float32",
            "use_cache": True,
        },
        "vision_config": {
            "architectures": ["InternVisionModel"],
            "model_type": "intern_vit_6b",
            "hidden_size": VISION_HIDDEN,
            "intermediate_size": 2 * VISION_HIDDEN,
            "num_attention_heads": VISION_HEADS,
            "num_hidden_layers": VISION_LAYERS,
            "image_size": TILE,
            "patch_size": PATCH,
            "num_channels": 3,
            "hidden_act": "gelu",
            "norm_type": "layer_norm",
            "layer_norm_eps": 1e-6,
            "qk_normalization": False,
            "qkv_bias": True,
            "initializer_factor": 1.0,
            "initializer_range": INIT_STD,
            "drop_path_rate": 0.0,
            "dropout": 0.0,
            "attention_dropout": 0.0,
            "use_flash_attn": False,
            "torch_dtype": "float32",
        },
    }


def released_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """Every weight of the released layout with its shape (the names InternVLChatModel's
    state_dict has for a Qwen2 language model and a layer-norm InternViT)."""
    vision, text = config["vision_config"], config["llm_config"]
    c, inner = vision["hidden_size"], vision["intermediate_size"]
    positions = (vision["image_size"] // vision["patch_size"]) ** 2 + 1
    shapes: dict[str, tuple[int, ...]] = {
        "vision_model.embeddings.class_embedding": (1, 1, c),
        "vision_model.embeddings.patch_embedding.weight": (c, 3, vision["patch_size"], vision["patch_size"]),
        "vision_model.embeddings.patch_embedding.bias": (c,),
        "vision_model.embeddings.position_embedding": (1, positions, c),
    }
    for i in range(vision["num_hidden_layers"]):
        layer = f"vision_model.encoder.layers.{i}"
        shapes |= {
            f"{layer}.attn.qkv.weight": (3 * c, c),
            f"{layer}.attn.qkv.bias": (3 * c,),
            f"{layer}.attn.proj.weight": (c, c),
            f"{layer}.attn.proj.bias": (c,),
            f"{layer}.ls1": (c,),
            f"{layer}.ls2": (c,),
            f"{layer}.mlp.fc1.weight": (inner, c),
            f"{layer}.mlp.fc1.bias": (inner,),
            f"{layer}.mlp.fc2.weight": (c, inner),
            f"{layer}.mlp.fc2.bias": (c,),
            **{f"{layer}.{norm}.{p}": (c,) for norm in ("norm1", "norm2") for p in ("weight", "bias")},
        }
    shuffled, h = c * int(round(1 / config["downsample_ratio"])) ** 2, text["hidden_size"]
    shapes |= {
        "mlp1.0.weight": (shuffled,),
        "mlp1.0.bias": (shuffled,),
        "mlp1.1.weight": (h, shuffled),
        "mlp1.1.bias": (h,),
        "mlp1.3.weight": (h, h),
        "mlp1.3.bias": (h,),
    }
    head_dim = h // text["num_attention_heads"]
    kv = text["num_key_value_heads"] * head_dim
    lm = "language_model.model"
    shapes[f"{lm}.embed_tokens.weight"] = (text["vocab_size"], h)
    for i in range(text["num_hidden_layers"]):
        layer = f"{lm}.layers.{i}"
        shapes |= {
            f"{layer}.self_attn.q_proj.weight": (h, h),
            f"{layer}.self_attn.q_proj.bias": (h,),
            f"{layer}.self_attn.k_proj.weight": (kv, h),
            f"{layer}.self_attn.k_proj.bias": (kv,),
            f"{layer}.self_attn.v_proj.weight": (kv, h),
            f"{layer}.self_attn.v_proj.bias": (kv,),
            f"{layer}.self_attn.o_proj.weight": (h, h),
            f"{layer}.mlp.gate_proj.weight": (text["intermediate_size"], h),
            f"{layer}.mlp.up_proj.weight": (text["intermediate_size"], h),
            f"{layer}.mlp.down_proj.weight": (h, text["intermediate_size"]),
            f"{layer}.input_layernorm.weight": (h,),
            f"{layer}.post_attention_layernorm.weight": (h,),
        }
    shapes[f"{lm}.norm.weight"] = (h,)
    shapes["language_model.lm_head.weight"] = (text["vocab_size"], h)
    return shapes


def random_weights(shapes: dict[str, tuple[int, ...]]) -> dict:
    """Seeded weights: matrices and embeddings ~ N(0, 0.02), norms 1, biases 0, layer scales 1."""
    import torch

    generator = torch.Generator().manual_seed(0)
    weights = {}
    for name, shape in sorted(shapes.items()):
        leaf = name.rsplit(".", 1)[-1]
        is_norm = "norm" in name or name.startswith("mlp1.0.")
        if leaf in ("ls1", "ls2") or (is_norm and leaf == "weight"):
            weights[name] = torch.ones(shape)
        elif leaf == "bias":
            weights[name] = torch.zeros(shape)
        else:
            weights[name] = torch.randn(shape, generator=generator) * INIT_STD
    return weights


def build(out: Path) -> None:
    from safetensors.torch import save_file

    tokenizer = build_tokenizer(SPECIALS, eos="<|im_end|>", pad="<|endoftext|>", chat_template=CHATML)
    ids = token_ids(tokenizer, SPECIALS)
    config = released_config(len(tokenizer), ids)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    generation = {"eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"]}
    (out / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n")
    save_file(random_weights(released_shapes(config)), out / "model.safetensors", metadata={"format": "pt"})
    tokenizer.save_pretrained(out)

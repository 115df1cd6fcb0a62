"""Tiny DeepSeek-VL2 in the released layout (deepseek-ai/deepseek-vl2-tiny: a SigLIP-so400m vision
tower, a 2x2-downsampling MLP projector and a DeepSeek-V2 MoE language model), without remote code.

The files are written as the released checkpoint has them: config.json with
`architectures: ["DeepseekVLV2ForCausalLM"]`, `model_type: deepseek_vl_v2`, nested `vision_config`,
`projector_config` and `language_config` (`deepseek_v2`, multi-head attention: `use_mla: false`,
first layer dense, then MoE); processor_config.json for `DeepseekVLV2Processor`; weights named
`vision.*` (timm's ViT names), `projector.layers.{0,2}.*`, `image_newline`, `view_seperator`,
`language.model.*`, `language.lm_head.*`; a tokenizer with `<image>`, the grounding tokens
`<|ref|>`, `<|/ref|>`, `<|det|>`, `<|/det|>`, `<|grounding|>` and `<|User|>`/`<|Assistant|>`.

The vision tower cannot be scaled down: vLLM builds it as timm's `vit_so400m_patch14_siglip_384`
whatever config.json says, so its 428M weights are drawn here in full (bf16 on disk, 0.86 GB).
Its cost is cut by the tile size instead: 28-px tiles (2x2 patches, 1 image token per tile after
the projector's 2x2 downsampling; timm interpolates the position embeddings), with the released
candidate resolutions scaled by 28/384 (1 to 9 local tiles plus the global view). The language
model is tiny (64 wide, 2 layers, 4 routed experts); its heads have 32 dims, the least vLLM's CPU
attention takes.
"""

from __future__ import annotations

import json
from pathlib import Path

from model_adapters.tiny.tokenizer import build_tokenizer, token_ids

BOS, EOS, PAD = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>"
SPECIALS = [
    BOS,
    EOS,
    PAD,
    "<image>",
    "<|ref|>",
    "<|/ref|>",
    "<|det|>",
    "<|/det|>",
    "<|grounding|>",
    "<|User|>",
    "<|Assistant|>",
]
RELEASED_TILE, TILE, PATCH = 384, 28, 14
# deepseek-vl2-tiny's candidate_resolutions in tiles of 384 px: 1 to 9 tiles, (width, height)
RELEASED_GRIDS = (
    (1, 1), (1, 2), (2, 1), (1, 3), (3, 1), (1, 4), (4, 1), (2, 2), (1, 5), (5, 1), (1, 6), (6, 1),
    (2, 3), (3, 2), (1, 7), (7, 1), (1, 8), (8, 1), (2, 4), (4, 2), (1, 9), (9, 1), (3, 3),
)  # fmt: skip
# timm's vit_so400m_patch14_siglip_384 (what vLLM builds): fixed by the model name, not config.json
SIGLIP_WIDTH, SIGLIP_LAYERS, SIGLIP_MLP, SIGLIP_POSITIONS = 1152, 27, 4304, 729
TEXT_HIDDEN, TEXT_HEADS, TEXT_LAYERS = 64, 2, 2
EXPERTS, EXPERTS_PER_TOKEN, SHARED_EXPERTS, EXPERT_WIDTH = 4, 2, 1, 32
INIT_STD = 0.02


def candidate_resolutions() -> list[list[int]]:
    return [[w * TILE, h * TILE] for w, h in RELEASED_GRIDS]


def released_config(vocab_size: int, ids: dict[str, int]) -> dict:
    """config.json as deepseek-vl2-tiny's, the language model and tile size scaled down."""
    return {
        "architectures": ["DeepseekVLV2ForCausalLM"],
        "model_type": "deepseek_vl_v2",
        "candidate_resolutions": candidate_resolutions(),
        "global_view_pos": "head",
        "tile_tag": "2D",
        "torch_dtype": "bfloat16",
        "transformers_version": "4.38.2",  # as deepseek-vl2-tiny's: its package's transformers
        "vision_config": {
            "model_type": "vision",
            "model_name": "siglip_so400m_patch14_384",
            "image_size": TILE,
            "patch_size": PATCH,
            "width": SIGLIP_WIDTH,
            "layers": SIGLIP_LAYERS,
            "mlp_ratio": 3.7362,
        },
        "projector_config": {
            "model_type": "mlp_projector",
            "projector_type": "downsample_mlp_gelu",
            "input_dim": SIGLIP_WIDTH,
            "n_embed": TEXT_HIDDEN,
            "depth": 2,
            "mlp_ratio": 1,
            "downsample_ratio": 2,
        },
        "language_config": {
            "architectures": ["DeepseekV2ForCausalLM"],
            "model_type": "deepseek_v2",
            "vocab_size": vocab_size,
            "hidden_size": TEXT_HIDDEN,
            "intermediate_size": 2 * TEXT_HIDDEN,
            "moe_intermediate_size": EXPERT_WIDTH,
            "num_hidden_layers": TEXT_LAYERS,
            "num_attention_heads": TEXT_HEADS,
            "num_key_value_heads": TEXT_HEADS,
            "first_k_dense_replace": 1,
            "n_routed_experts": EXPERTS,
            "n_shared_experts": SHARED_EXPERTS,
            "num_experts_per_tok": EXPERTS_PER_TOKEN,
            "n_group": 1,
            "topk_group": 1,
            "topk_method": "greedy",
            "q_lora_rank": None,
            "kv_lora_rank": None,
            "qk_nope_head_dim": 0,
            "qk_rope_head_dim": 0,
            "v_head_dim": 0,
            "use_mla": False,
            "lm_head": True,
            "rm_head": False,
            "max_position_embeddings": 4096,
            "bos_token_id": ids[BOS],
            "eos_token_id": ids[EOS],
            "torch_dtype": "bfloat16",
        },
    }


def processor_config() -> dict:
    """processor_config.json as deepseek-vl2-tiny's (DeepseekVLV2Processor's arguments)."""
    return {
        "processor_class": "DeepseekVLV2Processor",
        "candidate_resolutions": candidate_resolutions(),
        "patch_size": PATCH,
        "downsample_ratio": 2,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "normalize": True,
        "image_token": "<image>",
        "pad_token": PAD,
        "add_special_token": False,
        "sft_format": "deepseek",
        "mask_prompt": False,
        "ignore_id": -100,
    }


def vision_shapes() -> dict[str, tuple[int, ...]]:
    """timm's vit_so400m_patch14_siglip_384 state dict (num_classes=0: the attention-pool head stays)."""
    c, inner = SIGLIP_WIDTH, SIGLIP_MLP
    shapes: dict[str, tuple[int, ...]] = {
        "pos_embed": (1, SIGLIP_POSITIONS, c),
        "patch_embed.proj.weight": (c, 3, PATCH, PATCH),
        "patch_embed.proj.bias": (c,),
        "norm.weight": (c,),
        "norm.bias": (c,),
    }
    mlp = {"mlp.fc1.weight": (inner, c), "mlp.fc1.bias": (inner,), "mlp.fc2.weight": (c, inner), "mlp.fc2.bias": (c,)}
    for i in range(SIGLIP_LAYERS):
        block = {
            "norm1.weight": (c,),
            "norm1.bias": (c,),
            "attn.qkv.weight": (3 * c, c),
            "attn.qkv.bias": (3 * c,),
            "attn.proj.weight": (c, c),
            "attn.proj.bias": (c,),
            "norm2.weight": (c,),
            "norm2.bias": (c,),
            **mlp,
        }
        shapes |= {f"blocks.{i}.{name}": shape for name, shape in block.items()}
    pool = {
        "latent": (1, 1, c),
        "q.weight": (c, c),
        "q.bias": (c,),
        "kv.weight": (2 * c, c),
        "kv.bias": (2 * c,),
        "proj.weight": (c, c),
        "proj.bias": (c,),
        "norm.weight": (c,),
        "norm.bias": (c,),
        **mlp,
    }
    return shapes | {f"attn_pool.{name}": shape for name, shape in pool.items()}


def language_shapes(text: dict) -> dict[str, tuple[int, ...]]:
    """DeepseekV2ForCausalLM with multi-head attention; layers from `first_k_dense_replace` on are MoE."""
    h, vocab = text["hidden_size"], text["vocab_size"]
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (vocab, h), "model.norm.weight": (h,)}

    def mlp(prefix: str, width: int) -> dict[str, tuple[int, ...]]:
        gate_up = {f"{prefix}.{name}_proj.weight": (width, h) for name in ("gate", "up")}
        return gate_up | {f"{prefix}.down_proj.weight": (h, width)}

    for i in range(text["num_hidden_layers"]):
        layer = f"model.layers.{i}"
        shapes |= {f"{layer}.self_attn.{p}_proj.weight": (h, h) for p in "qkvo"}
        shapes |= {f"{layer}.input_layernorm.weight": (h,), f"{layer}.post_attention_layernorm.weight": (h,)}
        if i < text["first_k_dense_replace"]:
            shapes |= mlp(f"{layer}.mlp", text["intermediate_size"])
            continue
        shapes[f"{layer}.mlp.gate.weight"] = (text["n_routed_experts"], h)
        for e in range(text["n_routed_experts"]):
            shapes |= mlp(f"{layer}.mlp.experts.{e}", text["moe_intermediate_size"])
        shapes |= mlp(f"{layer}.mlp.shared_experts", text["moe_intermediate_size"] * text["n_shared_experts"])
    shapes["lm_head.weight"] = (vocab, h)
    return shapes


def released_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """Every weight of the released layout with its shape."""
    projector, text = config["projector_config"], config["language_config"]
    folded = projector["input_dim"] * projector["downsample_ratio"] ** 2
    n = projector["n_embed"]
    return {
        **{f"vision.{name}": shape for name, shape in vision_shapes().items()},
        "projector.layers.0.weight": (n, folded),
        "projector.layers.0.bias": (n,),
        "projector.layers.2.weight": (n, n),
        "projector.layers.2.bias": (n,),
        "image_newline": (n,),
        "view_seperator": (n,),  # sic, as released
        **{f"language.{name}": shape for name, shape in language_shapes(text).items()},
    }


def random_weights(shapes: dict[str, tuple[int, ...]]) -> dict:
    """Seeded bf16 weights: matrices and embeddings ~ N(0, 0.02), norms 1, biases 0."""
    import torch

    generator = torch.Generator().manual_seed(0)
    weights = {}
    for name, shape in sorted(shapes.items()):
        leaf = name.rsplit(".", 1)[-1]
        if leaf == "weight" and "norm" in name:
            tensor = torch.ones(shape)
        elif leaf == "bias":
            tensor = torch.zeros(shape)
        else:
            tensor = torch.randn(shape, generator=generator) * INIT_STD
        weights[name] = tensor.to(torch.bfloat16)
    return weights


def build(out: Path) -> None:
    from safetensors.torch import save_file
    from tokenizers import processors

    tokenizer = build_tokenizer(SPECIALS, eos=EOS, pad=PAD, bos=BOS)
    ids = token_ids(tokenizer, SPECIALS)
    # the released tokenizer (LlamaTokenizerFast, add_bos_token) starts every text with the BOS
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, ids[BOS])]
    )
    config = released_config(len(tokenizer), ids)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "processor_config.json").write_text(json.dumps(processor_config(), indent=2) + "\n")
    generation = {"bos_token_id": ids[BOS], "eos_token_id": ids[EOS], "pad_token_id": ids[PAD]}
    (out / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n")
    save_file(random_weights(released_shapes(config)), out / "model.safetensors", metadata={"format": "pt"})
    tokenizer.save_pretrained(out)

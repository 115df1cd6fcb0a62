"""Tiny LLaVA-1.5 in llava-hf format (`llava`): CLIP ViT at 28 px (4 image tokens), Llama text model."""

from __future__ import annotations

from pathlib import Path

from model_adapters.tiny import rename_weights, save, seeded
from model_adapters.tiny.qwen2_vl import TEXT_HEADS, TEXT_HIDDEN, TEXT_KV_HEADS
from model_adapters.tiny.tokenizer import build_tokenizer, token_ids

SPECIALS = ["<unk>", "<s>", "</s>", "<image>"]


def build_llava(out: Path, image_size: int, extra_tokens: tuple[str, ...] = (), **config_extra) -> None:
    from transformers import CLIPImageProcessor, LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor

    # adds <s> like llava-hf's Llama tokenizer (ms-swift's llava1_5_hf template starts with it)
    tokenizer = build_tokenizer(
        SPECIALS, eos="</s>", pad="<unk>", bos="<s>", named={"image_token": "<image>"}, add_bos=True
    )
    tokenizer.add_tokens(list(extra_tokens))  # ordinary (not special) tokens, e.g. Yi's "###"
    ids = token_ids(tokenizer, SPECIALS)
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=14,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    config = LlavaConfig(
        vision_config=dict(
            model_type="clip_vision_model",
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=image_size,
            patch_size=14,
            projection_dim=32,
        ),
        text_config=dict(
            model_type="llama",
            vocab_size=len(tokenizer),
            hidden_size=TEXT_HIDDEN,
            intermediate_size=2 * TEXT_HIDDEN,
            num_hidden_layers=2,
            num_attention_heads=TEXT_HEADS,
            num_key_value_heads=TEXT_KV_HEADS,
            max_position_embeddings=4096,
            bos_token_id=ids["<s>"],
            eos_token_id=ids["</s>"],
            pad_token_id=ids["<unk>"],
        ),
        image_token_id=ids["<image>"],
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
        **config_extra,
    )
    seeded(0)
    save(LlavaForConditionalGeneration(config).eval(), processor, out)
    # transformers 5 saves the CLIP tower as `vision_tower.embeddings...`; llava-hf checkpoints on the
    # hub (and vLLM's loader) have `vision_tower.vision_model.embeddings...`, which transformers loads too.
    rename_weights(out, {"vision_tower.": "vision_tower.vision_model."})


def build(out: Path) -> None:
    build_llava(out, image_size=28)

"""Tiny DeepSeek-VL 7B-style checkpoint (`deepseek_vl_hybrid`): SigLIP at 56 px plus a SAM
high-resolution branch at 64 px (the real one reads 1024 px)."""

from __future__ import annotations

from pathlib import Path

from model_adapters.tiny import save, seeded
from model_adapters.tiny.deepseek_vl import IMAGE, text_config, tokenizer_and_ids, vision_config

HIGH_RES = 64


def build(out: Path) -> None:
    from transformers import (
        DeepseekVLHybridConfig,
        DeepseekVLHybridForConditionalGeneration,
        DeepseekVLHybridImageProcessor,
        DeepseekVLHybridProcessor,
    )

    tokenizer, ids = tokenizer_and_ids()
    image_processor = DeepseekVLHybridImageProcessor(
        size={"height": IMAGE, "width": IMAGE}, high_res_size={"height": HIGH_RES, "width": HIGH_RES}
    )
    processor = DeepseekVLHybridProcessor(
        image_processor=image_processor, tokenizer=tokenizer, num_image_tokens=(IMAGE // 14) ** 2
    )
    config = DeepseekVLHybridConfig(
        text_config=text_config(tokenizer, ids),
        vision_config=vision_config(),
        high_res_vision_config=dict(
            model_type="sam_vision_model",
            hidden_size=32,
            output_channels=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=HIGH_RES,
            patch_size=16,
            window_size=2,
            global_attn_indexes=[1],
            mlp_dim=64,
        ),
        image_token_id=ids["<image_placeholder>"],
        tie_word_embeddings=False,
    )
    seeded(0)
    save(DeepseekVLHybridForConditionalGeneration(config).eval(), processor, out)

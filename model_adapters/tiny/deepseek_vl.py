"""Tiny DeepSeek-VL 1.3B-style checkpoint (`deepseek_vl`): SigLIP at 56 px (16 image tokens)."""

from __future__ import annotations

from pathlib import Path

from model_adapters.tiny import save, seeded
from model_adapters.tiny.tokenizer import build_tokenizer, token_ids

SPECIALS = ["<｜end▁of▁sentence｜>", "<｜begin▁of▁sentence｜>", "<image_placeholder>"]
IMAGE = 56


def tokenizer_and_ids():
    tokenizer = build_tokenizer(
        SPECIALS,
        eos="<｜end▁of▁sentence｜>",
        pad="<｜end▁of▁sentence｜>",
        bos="<｜begin▁of▁sentence｜>",
        named={"image_token": "<image_placeholder>"},
        add_bos=True,  # as DeepSeek-VL's Llama tokenizer (ms-swift's deepseek_vl template starts with the BOS)
    )
    return tokenizer, token_ids(tokenizer, SPECIALS)


def text_config(tokenizer, ids) -> dict:
    return dict(
        model_type="llama",
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=ids["<｜begin▁of▁sentence｜>"],
        eos_token_id=ids["<｜end▁of▁sentence｜>"],
        pad_token_id=ids["<｜end▁of▁sentence｜>"],
    )


def vision_config() -> dict:
    return dict(
        model_type="siglip_vision_model",
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=IMAGE,
        patch_size=14,
    )


def build(out: Path) -> None:
    from transformers import (
        DeepseekVLConfig,
        DeepseekVLForConditionalGeneration,
        DeepseekVLImageProcessor,
        DeepseekVLProcessor,
    )

    tokenizer, ids = tokenizer_and_ids()
    processor = DeepseekVLProcessor(
        image_processor=DeepseekVLImageProcessor(size={"height": IMAGE, "width": IMAGE}),
        tokenizer=tokenizer,
        num_image_tokens=(IMAGE // 14) ** 2,
    )
    config = DeepseekVLConfig(
        text_config=text_config(tokenizer, ids),
        vision_config=vision_config(),
        tie_word_embeddings=False,
        image_token_id=ids["<image_placeholder>"],
    )
    seeded(0)
    save(DeepseekVLForConditionalGeneration(config).eval(), processor, out)

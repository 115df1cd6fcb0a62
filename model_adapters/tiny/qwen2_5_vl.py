"""Tiny Qwen2.5-VL (`qwen2_5_vl`): same tokenizer and pixel budget as the tiny Qwen2-VL."""

from __future__ import annotations

from pathlib import Path

from model_adapters.tiny import save, seeded
from model_adapters.tiny.qwen2_vl import TEXT_HIDDEN, qwen_processor, special_ids, text_config


def build(out: Path) -> None:
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor

    processor = qwen_processor(Qwen2_5_VLProcessor)
    config = Qwen2_5_VLConfig(
        text_config=text_config(processor.tokenizer),
        vision_config=dict(
            depth=2,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=TEXT_HIDDEN,
            window_size=56,
            fullatt_block_indexes=[1],
        ),
        **special_ids(processor.tokenizer),
    )
    seeded(0)
    save(Qwen2_5_VLForConditionalGeneration(config).eval(), processor, out)

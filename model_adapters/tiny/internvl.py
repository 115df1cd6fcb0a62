"""Tiny InternVL in the transformers-native format (`internvl`, as InternVL2.5 checkpoints
converted to HF format): Qwen2 text model, 56-px tiles (4 tokens each), up to 4 tiles + thumbnail.
"""

from __future__ import annotations

from pathlib import Path

from model_adapters.tiny import save, seeded
from model_adapters.tiny.qwen2_vl import TEXT_HEADS, TEXT_HIDDEN, TEXT_KV_HEADS
from model_adapters.tiny.tokenizer import build_tokenizer, token_ids

SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<img>",
    "</img>",
    "<IMG_CONTEXT>",
    "<video>",
    "<ref>",
    "</ref>",
    "<box>",
    "</box>",
]
TILE = 56


def build(out: Path) -> None:
    from transformers import GotOcr2ImageProcessor, InternVLConfig, InternVLForConditionalGeneration, InternVLProcessor
    from transformers.models.internvl.video_processing_internvl import InternVLVideoProcessor

    tokenizer = build_tokenizer(
        SPECIALS,
        eos="<|im_end|>",
        pad="<|endoftext|>",
        named={
            "start_image_token": "<img>",
            "end_image_token": "</img>",
            "context_image_token": "<IMG_CONTEXT>",
            "video_token": "<video>",
        },
    )
    ids = token_ids(tokenizer, SPECIALS)
    image_seq_length = (TILE // 14) ** 2 // 4
    size = {"height": TILE, "width": TILE}
    processor = InternVLProcessor(
        image_processor=GotOcr2ImageProcessor(size=size, crop_to_patches=True, min_patches=1, max_patches=4),
        video_processor=InternVLVideoProcessor(size=size),
        tokenizer=tokenizer,
        image_seq_length=image_seq_length,
    )
    config = InternVLConfig(
        vision_config=dict(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            image_size=[TILE, TILE],
            patch_size=[14, 14],
        ),
        text_config=dict(
            model_type="qwen2",
            vocab_size=len(tokenizer),
            hidden_size=TEXT_HIDDEN,
            intermediate_size=2 * TEXT_HIDDEN,
            num_hidden_layers=2,
            num_attention_heads=TEXT_HEADS,
            num_key_value_heads=TEXT_KV_HEADS,
            max_position_embeddings=4096,
            eos_token_id=ids["<|im_end|>"],
            pad_token_id=ids["<|endoftext|>"],
            bos_token_id=None,
        ),
        image_token_id=ids["<IMG_CONTEXT>"],
        image_seq_length=image_seq_length,
        downsample_ratio=0.5,
        tie_word_embeddings=False,
    )  # tied random embeddings degenerate into repeating one token
    seeded(0)
    save(InternVLForConditionalGeneration(config).eval(), processor, out)

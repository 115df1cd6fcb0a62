"""Tiny Qwen2-VL (`qwen2_vl`): 2-layer text model, 2-block ViT, images capped at 112x112 px."""

from __future__ import annotations

from pathlib import Path

from model_adapters.tiny import save, seeded
from model_adapters.tiny.tokenizer import build_tokenizer, token_ids

QWEN_SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
]
# The released checkpoints' chat template (Qwen/Qwen2-VL-7B-Instruct, chat_template.json), so that a
# served tiny checkpoint behaves as a served release: no newline between image and question, which
# ms-swift's `qwen2_vl` template (the family's prompt) has.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture "
    "{{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video "
    "{{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Few pixels keep the vision tower cheap: 56x56..112x112 -> 4..16 merged image tokens.
MIN_PIXELS, MAX_PIXELS = 56 * 56, 112 * 112
# Attention heads of 32 dims: the smallest vLLM's CPU attention kernels accept (backend=vllm tests).
TEXT_HIDDEN, TEXT_HEADS, TEXT_KV_HEADS = 64, 2, 1


def qwen_processor(processor_cls):
    from transformers import Qwen2VLImageProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    tokenizer = build_tokenizer(
        QWEN_SPECIALS,
        eos="<|im_end|>",
        pad="<|endoftext|>",
        named={"image_token": "<|image_pad|>", "video_token": "<|video_pad|>"},
        chat_template=CHAT_TEMPLATE,
    )
    size = {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS}
    return processor_cls(
        image_processor=Qwen2VLImageProcessor(size=size),
        video_processor=Qwen2VLVideoProcessor(size=size),
        tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE,
    )


def text_config(tokenizer) -> dict:
    ids = token_ids(tokenizer, QWEN_SPECIALS)
    return dict(
        vocab_size=len(tokenizer),
        hidden_size=TEXT_HIDDEN,
        intermediate_size=2 * TEXT_HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=TEXT_HEADS,
        num_key_value_heads=TEXT_KV_HEADS,
        max_position_embeddings=4096,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [4, 6, 6]},
        bos_token_id=None,
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )


def special_ids(tokenizer) -> dict:
    ids = token_ids(tokenizer, QWEN_SPECIALS)
    return dict(
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )


def build(out: Path) -> None:
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor

    processor = qwen_processor(Qwen2VLProcessor)
    config = Qwen2VLConfig(
        text_config=text_config(processor.tokenizer),
        vision_config=dict(depth=2, embed_dim=32, hidden_size=TEXT_HIDDEN, num_heads=2, mlp_ratio=2),
        **special_ids(processor.tokenizer),
    )
    seeded(0)
    save(Qwen2VLForConditionalGeneration(config).eval(), processor, out)

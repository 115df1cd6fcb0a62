"""Qwen2.5-VL (Qwen/Qwen2.5-VL-3B-Instruct): native in transformers.

Prompt: identical to Qwen2-VL (ChatML, `<|vision_start|><|image_pad|><|vision_end|>`;
ms-swift template `qwen2_5_vl`).

Native boxes: JSON `{"bbox_2d": [x1, y1, x2, y2], "label": "..."}` in absolute pixels of the
*smart-resized* model input (docs/PROTOCOL.md §6; peers.md §2.2 citing QwenLM/Qwen3-VL#1721,
#991 and om-ai-lab/VLM-R1#6; resize rule `smart_resize` in qwen-vl-utils, as in transformers'
Qwen2VLImageProcessor, against which it is tested). The codec maps them back with the
loaded image processor's own min/max pixels, so a checkpoint or `processor_kwargs` that changes
the pixel budget changes the mapping with it. Images are resized as for Qwen2-VL (qwen2_vl.py).
"""

from __future__ import annotations

from typing import Any

from model_adapters.box_codecs import BoxCodec, ResizedPixelJsonCodec
from model_adapters.family import Family, chatml
from model_adapters.qwen2_vl import QwenImages


class Qwen25VL(QwenImages, Family):
    backends = ("hf", "vllm")
    name = "qwen2_5_vl"
    native_model_types = ("qwen2_5_vl",)
    image_placeholder = "<|vision_start|><|image_pad|><|vision_end|>"

    def chat(self, system: str | None, user: str) -> str:
        return chatml(system, user)

    def box_codec(self, processor: Any = None) -> BoxCodec:
        factor, low, high = self.pixel_budget(processor)
        return ResizedPixelJsonCodec(factor=factor, min_pixels=low, max_pixels=high)

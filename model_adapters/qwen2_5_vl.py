"""Qwen2.5-VL (Qwen/Qwen2.5-VL-3B-Instruct): native in transformers.

Prompt: identical to Qwen2-VL (ChatML, `<|vision_start|><|image_pad|><|vision_end|>`;
ms-swift template `qwen2_5_vl`).

Native boxes: JSON `{"bbox_2d": [x1, y1, x2, y2], "label": "..."}` in absolute pixels of the
*smart-resized* model input (shared/PROTOCOL.md §6; peers.md §2.2 citing QwenLM/Qwen3-VL#1721,
#991 and om-ai-lab/VLM-R1#6; resize rule `smart_resize` in qwen-vl-utils, as in transformers'
Qwen2VLImageProcessor, against which it is tested). The codec maps them back with the
loaded image processor's own min/max pixels, so a checkpoint or `processor_kwargs` that changes
the pixel budget changes the mapping with it.
"""
from __future__ import annotations

from dataclasses import dataclass

from model_adapters.base import ADAPTERS, Capabilities
from model_adapters.box_codecs import BoxCodec, ResizedPixelJsonCodec
from model_adapters.hf_backend import HFChatAdapter, chatml

# Defaults of the released checkpoints' preprocessor_config.json.
MIN_PIXELS, MAX_PIXELS, PATCH, MERGE = 56 * 56, 28 * 28 * 16384, 14, 2


@ADAPTERS.register("qwen2_5_vl")
@dataclass
class Qwen25VLAdapter(HFChatAdapter):
    capabilities = Capabilities(batch_safe=True, backends=("hf", "vllm"))
    family = "qwen2_5_vl"
    native_model_types = ("qwen2_5_vl",)
    image_placeholder = "<|vision_start|><|image_pad|><|vision_end|>"

    def chat(self, system: str | None, user: str) -> str:
        return chatml(system, user)

    def pixel_budget(self) -> tuple[int, int, int]:
        """(factor, min_pixels, max_pixels) of the image processor in use."""
        configured = dict(self.settings.get("processor_kwargs") or {})
        low, high = configured.get("min_pixels", MIN_PIXELS), configured.get("max_pixels", MAX_PIXELS)
        factor = PATCH * MERGE
        image_processor = getattr(self._processor, "image_processor", None)
        if image_processor is not None:
            size = getattr(image_processor, "size", None) or {}
            low = size.get("shortest_edge", getattr(image_processor, "min_pixels", None) or low)
            high = size.get("longest_edge", getattr(image_processor, "max_pixels", None) or high)
            factor = image_processor.patch_size * image_processor.merge_size
        return int(factor), int(low), int(high)

    def box_codec(self) -> BoxCodec:
        factor, low, high = self.pixel_budget()
        return ResizedPixelJsonCodec(factor=factor, min_pixels=low, max_pixels=high)

"""Qwen2-VL (Qwen/Qwen2-VL-2B-Instruct, Qwen/Qwen2-VL-7B-Instruct): native in transformers.

Prompt: ChatML with the SARChat system prompt; the data's `<image>` tag becomes
`<|vision_start|><|image_pad|><|vision_end|>` (ms-swift template `qwen2_vl`,
swift/llm/template/template/qwen.py), so the user turn is `<vision>\\n{question}`.

Native boxes (`box_format: native`): `<|object_ref_start|>label<|object_ref_end|>
<|box_start|>(x1,y1),(x2,y2)<|box_end|>`, integers in [0, 1000) of the image (docs/PROTOCOL.md §6;
shared/reference/peers.md §2.2, which cites QwenLM/Qwen3-VL#1721 and #991). Responses are decoded
with special tokens skipped, which leaves `(x1,y1),(x2,y2)` for the codec; question boxes are
written the same way, wrapped in the box tokens.

Images (both Qwen families): ms-swift resizes with qwen-vl-utils' `fetch_image` (PIL bicubic to
the `smart_resize` size) before the processor, whose own resize is then a no-op. transformers 5's
default (torchvision) processor resizes differently (up to one grey level), so `prepare_image`
does the PIL resize first, for backend=hf and backend=vllm alike.
"""

from __future__ import annotations

from typing import Any

from model_adapters.box_codecs import NormalizedBoxCodec, smart_resize
from model_adapters.family import Family, chatml
from model_adapters.hf_images import to_8bit

# Defaults of the released checkpoints' preprocessor_config.json (and of qwen-vl-utils).
MIN_PIXELS, MAX_PIXELS, PATCH, MERGE = 56 * 56, 28 * 28 * 16384, 14, 2

QWEN2_VL_BOXES = NormalizedBoxCodec(
    name="qwen2_vl_pairs_per_mille",
    scale=1000,
    max_value=999,
    syntax="pairs",
    encode_wrapper=("<|box_start|>", "<|box_end|>"),
    strip_tokens=("<|box_start|>", "<|box_end|>", "<|object_ref_start|>", "<|object_ref_end|>"),
)


class QwenImages:
    """Pixel budget and resize shared by Qwen2-VL and Qwen2.5-VL."""

    def pixel_budget(self, processor: Any = None) -> tuple[int, int, int]:
        """(factor, min_pixels, max_pixels) of the image processor in use (else as configured)."""
        configured = dict(self.settings.processor_kwargs or {})
        low, high = configured.get("min_pixels", MIN_PIXELS), configured.get("max_pixels", MAX_PIXELS)
        factor = PATCH * MERGE
        image_processor = getattr(processor, "image_processor", None)
        if image_processor is not None:
            size = getattr(image_processor, "size", None) or {}
            low = size.get("shortest_edge", getattr(image_processor, "min_pixels", None) or low)
            high = size.get("longest_edge", getattr(image_processor, "max_pixels", None) or high)
            factor = image_processor.patch_size * image_processor.merge_size
        return int(factor), int(low), int(high)

    def prepare_image(self, image: Any, processor: Any = None) -> Any:
        from PIL import Image

        factor, low, high = self.pixel_budget(processor)
        height, width = smart_resize(image.height, image.width, factor, low, high)
        return image.resize((width, height), Image.BICUBIC)  # a no-op copy at the same size

    def pixels(self, image: Any, processor: Any = None) -> Any:
        """A grey image is resized before its conversion to RGB: bicubic resampling works band by
        band, so this gives exactly the bytes of resizing the RGB copy, with a third of the work."""
        image = to_8bit(image)
        if image.mode == "L":
            return self.prepare_image(image, processor).convert("RGB")
        return super().pixels(image, processor)

    def prompt_fingerprint(self):
        return {**super().prompt_fingerprint(), "image_resize": "PIL bicubic to smart_resize (qwen-vl-utils)"}


class Qwen2VL(QwenImages, Family):
    backends = ("hf", "vllm")
    name = "qwen2_vl"
    native_model_types = ("qwen2_vl",)
    image_placeholder = "<|vision_start|><|image_pad|><|vision_end|>"
    native_codec = QWEN2_VL_BOXES

    def chat(self, system: str | None, user: str) -> str:
        return chatml(system, user)

"""Qwen2-VL (Qwen/Qwen2-VL-2B-Instruct, Qwen/Qwen2-VL-7B-Instruct): native in transformers.

Prompt: ChatML with the SARChat system prompt; the data's `<image>` tag becomes
`<|vision_start|><|image_pad|><|vision_end|>` (ms-swift template `qwen2_vl`,
swift/llm/template/template/qwen.py), so the user turn is `<vision>\\n{question}`.

Native boxes (`box_format: native`): `<|object_ref_start|>label<|object_ref_end|>
<|box_start|>(x1,y1),(x2,y2)<|box_end|>`, integers in [0, 1000) of the image (shared/PROTOCOL.md §6;
shared/reference/peers.md §2.2, which cites QwenLM/Qwen3-VL#1721 and #991). Responses are decoded
with special tokens skipped, which leaves `(x1,y1),(x2,y2)` for the codec; question boxes are
written the same way, wrapped in the box tokens.
"""
from __future__ import annotations

from dataclasses import dataclass

from model_adapters.base import ADAPTERS, Capabilities
from model_adapters.box_codecs import NormalizedBoxCodec
from model_adapters.hf_backend import HFChatAdapter, chatml

QWEN2_VL_BOXES = NormalizedBoxCodec(
    name="qwen2_vl_pairs_per_mille", scale=1000, max_value=999, syntax="pairs",
    encode_wrapper=("<|box_start|>", "<|box_end|>"),
    strip_tokens=("<|box_start|>", "<|box_end|>", "<|object_ref_start|>", "<|object_ref_end|>"))


@ADAPTERS.register("qwen2_vl")
@dataclass
class Qwen2VLAdapter(HFChatAdapter):
    capabilities = Capabilities(batch_safe=True, backends=("hf", "vllm"))
    family = "qwen2_vl"
    native_model_types = ("qwen2_vl",)
    image_placeholder = "<|vision_start|><|image_pad|><|vision_end|>"
    native_codec = QWEN2_VL_BOXES

    def chat(self, system: str | None, user: str) -> str:
        return chatml(system, user)

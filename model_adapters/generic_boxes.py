"""The box codec for families that document no grounding output format (DeepSeek-VL,
mPLUG-Owl3, Phi-3.5-Vision, GLM-Edge-V): an explicit, documented choice, not a convention
of those models.

Decoding reads every `[x1, y1, x2, y2]` (or list `[[...], [...]]`) as normalised to the image:
fractions when all four numbers are <= 1 (the LLaVA/mPLUG-Owl style, X-PLUG/mPLUG-Owl#199),
otherwise per-mille (the 0-1000 grid of Qwen2-VL, InternVL and CogVLM/CogAgent). Absolute pixels are
never guessed (on images <= 1000 px they are indistinguishable from per-mille). Question boxes
are written as per-mille integers `[x1, y1, x2, y2]`.
"""

from __future__ import annotations

from model_adapters.box_codecs import NormalizedBoxCodec

GENERIC_BOXES = NormalizedBoxCodec(
    name="generic_brackets_fraction_or_per_mille", scale=1000, syntax="brackets", fractions_when_at_most_1=True
)

"""Tiny Yi-VL: the tiny LLaVA at a larger 56-px input (16 image tokens) with Yi-VL's LayerNorm
projector, saved like BUAADreamer/Yi-VL-6B-hf (llava-hf layout, `is_yi_vl_derived_model: true`),
and Yi's `###` turn-end as one ordinary token; the Yi-VL adapter pads images to a square before
this processor."""

from __future__ import annotations

from pathlib import Path

from model_adapters.tiny.llava import build_llava


def build(out: Path) -> None:
    from model_adapters.yi_vl_model import yi_vl_projector

    with yi_vl_projector():
        build_llava(out, image_size=56, extra_tokens=("###",), is_yi_vl_derived_model=True)

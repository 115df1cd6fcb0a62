"""Tiny Yi-VL-style LLaVA: like the tiny LLaVA-1.5 at a larger 56-px input (16 image tokens);
the Yi-VL adapter pads images to a square before this processor, as Yi-VL does."""
from __future__ import annotations

from pathlib import Path

from model_adapters.tiny.llava import build_llava


def build(out: Path) -> None:
    build_llava(out, image_size=56)

"""Yi-VL's projector for transformers' LLaVA (needs torch; imported when a Yi-VL model loads).

Yi-VL's projector is `mlp2x_gelu_Norm` (01-ai/Yi VL/llava/model/multimodal_projector/builder.py):
Linear, LayerNorm, GELU, Linear, LayerNorm. Plain LLaVA has Linear, GELU, Linear, so transformers'
`LlavaForConditionalGeneration` cannot load a Yi-VL conversion: its `linear_2` is a LayerNorm
(1-D weight) and `linear_3`/`linear_4` are unknown. The llava-hf conversion
(BUAADreamer/Yi-VL-6B-hf, made for LLaMA-Factory) names the four layers `linear_1`..`linear_4` and
flags itself with `is_yi_vl_derived_model: true` in config.json.

The model stays transformers' own `LlavaForConditionalGeneration` (so its checkpoint-layout
conversions apply unchanged); only the projector class it instantiates is swapped while it is
built, as LLaMA-Factory does, but restored afterwards.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch
from transformers.activations import ACT2FN

_SWAP_LOCK = threading.RLock()


class YiVLProjector(torch.nn.Module):
    def __init__(self, config) -> None:
        super().__init__()
        vision, text = config.vision_config.hidden_size, config.text_config.hidden_size
        self.linear_1 = torch.nn.Linear(vision, text, bias=True)
        self.linear_2 = torch.nn.LayerNorm(text)
        self.act = ACT2FN[config.projector_hidden_act]
        self.linear_3 = torch.nn.Linear(text, text, bias=True)
        self.linear_4 = torch.nn.LayerNorm(text)

    def forward(self, image_features: torch.Tensor) -> torch.Tensor:
        hidden = self.act(self.linear_2(self.linear_1(image_features)))
        return self.linear_4(self.linear_3(hidden))


@contextmanager
def yi_vl_projector():
    """LLaVA models constructed inside this block get Yi-VL's projector."""
    from transformers.models.llava import modeling_llava

    with _SWAP_LOCK:
        original = modeling_llava.LlavaMultiModalProjector
        modeling_llava.LlavaMultiModalProjector = YiVLProjector
        try:
            yield
        finally:
            modeling_llava.LlavaMultiModalProjector = original

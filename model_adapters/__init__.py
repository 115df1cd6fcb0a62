"""Model adapters: one module per model family (list-in/list-out generation).

Importing this package registers every adapter in `model_adapters.base.ADAPTERS`. Family
modules import torch/transformers only when a model is loaded, so this stays fast and works
without them.
"""
from model_adapters import oracle, openai_api  # noqa: F401  (register "oracle", "openai")
from model_adapters import (  # noqa: F401  (register the transformers-backed families)
    deepseek_vl,
    deepseek_vl2,
    glm_edge_v,
    internvl2_5,
    llava1_5,
    mplug_owl3,
    phi3_5_vision,
    qwen2_5_vl,
    qwen2_vl,
    yi_vl,
)
from model_adapters.base import ADAPTERS, Capabilities, GenerationRequest, InferenceFailure, ModelAdapter

__all__ = ["ADAPTERS", "Capabilities", "GenerationRequest", "InferenceFailure", "ModelAdapter"]

"""Model adapters: one module per model family (list-in/list-out generation).

Importing this package registers every adapter in `model_adapters.base.ADAPTERS`.
"""
from model_adapters import oracle  # noqa: F401  (registers "oracle")
from model_adapters.base import ADAPTERS, Capabilities, GenerationRequest, ModelAdapter

__all__ = ["ADAPTERS", "Capabilities", "GenerationRequest", "ModelAdapter"]

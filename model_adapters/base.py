"""The model adapter interface: a batch of requests in, one response string per request out.

Adapters are looked up by name in ``ADAPTERS`` (a typed registry, no name-substring dispatch).
A backend (oracle, hf, vllm, openai) decides how generation runs; an adapter owns everything
family-specific: prompt/chat template, image handling, box codec.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from sarbench.registry import Registry


@dataclass(frozen=True)
class GenerationRequest:
    """One sample as the model sees it.

    ``prompt`` is the user text with any leading ``<image>`` tag removed; ``image`` is a loaded
    PIL image (None when the adapter declares it needs no pixels, e.g. the oracle).
    ``reference`` is the benchmark answer; only the oracle adapter may read it.
    """

    sample_id: str
    subset: str
    prompt: str
    image_path: str
    image: Any = None
    max_new_tokens: int = 2048
    reference: str | None = None


@dataclass(frozen=True)
class Capabilities:
    batch_safe: bool = True  # batched greedy output equals one-at-a-time output
    backends: tuple[str, ...] = ("hf",)
    needs_image: bool = True


@dataclass
class ModelAdapter(ABC):
    """Subclasses declare ``capabilities`` and implement ``generate``."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)

    capabilities = Capabilities()

    @abstractmethod
    def generate(self, requests: list[GenerationRequest]) -> list[str]:
        """Return one response per request, in order. Raise only for whole-batch failures."""

    def fingerprint(self) -> dict[str, Any]:
        """What, if changed, makes earlier predictions invalid (used by resume)."""
        return {"adapter": type(self).__name__, "name": self.name, "settings": self.settings}

    def close(self) -> None:
        """Free model resources (GPU memory, worker processes)."""


ADAPTERS: Registry[type[ModelAdapter]] = Registry("model adapter")

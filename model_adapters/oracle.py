"""The oracle: answers every sample with its reference (proves the plumbing: 100 everywhere)."""
from __future__ import annotations

import time
from dataclasses import dataclass

from model_adapters.base import ADAPTERS, Capabilities, GenerationRequest, ModelAdapter


@ADAPTERS.register("oracle")
@dataclass
class OracleAdapter(ModelAdapter):
    capabilities = Capabilities(batch_safe=True, backends=("oracle",), needs_image=True)

    def generate(self, requests: list[GenerationRequest]) -> list[str]:
        delay = float(self.settings.get("delay_s", 0.0))
        if delay:
            time.sleep(delay)
        return [r.reference or "" for r in requests]

"""`backend=oracle` (`model=oracle`): answers every sample with its reference (proves the
plumbing: 100 everywhere)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from model_adapters.base import Capabilities, GenerationRequest, ModelAdapter
from model_adapters.errors import AdapterError
from model_adapters.settings import OracleSettings


@dataclass
class OracleBackend(ModelAdapter):
    capabilities = Capabilities(batch_safe=True, needs_image=True)

    @classmethod
    def create(cls, settings: OracleSettings, family: Any, backend_settings: dict) -> OracleBackend:
        if family is not None:
            raise AdapterError("backend=oracle answers with the references; it takes no model family")
        return cls(name=settings.name, settings=settings)

    def decodes_images(self) -> bool:
        return bool(self.settings.load_images)

    def generate(self, requests: list[GenerationRequest]) -> list[str]:
        if self.settings.delay_s:
            time.sleep(float(self.settings.delay_s))
        return [r.reference or "" for r in requests]

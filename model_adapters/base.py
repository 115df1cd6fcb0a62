"""The model interface the runner sees: a batch of requests in, one response string per request out.

Each backend (oracle, hf, vllm, openai) implements `ModelAdapter` and is registered in `BACKENDS`
with the packages it needs (checked before it is imported); a backend that runs checkpoints
consumes a family declaration (model_adapters/family.py) for prompts, pixels and boxes.

How to add a backend: one module with a `ModelAdapter` subclass and a `create(settings, family,
backend_settings)` classmethod, one `BACKENDS.register` line in `model_adapters/__init__.py` naming
its packages, a settings class in settings.py if it takes model settings of its own, and
`conf/backend/<name>.yaml`.
"""

from __future__ import annotations

import importlib
import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from model_adapters.errors import AdapterError
from model_adapters.registry import Registry
from model_adapters.settings import ModelSettings


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
class InferenceFailure:
    """Returned in place of a response when one request failed for good (e.g. an API error
    after all retries): the runner records it as a counted inference failure and goes on."""

    message: str
    # True where the cause may pass by itself (connection lost, timeout, HTTP 429/5xx): a resumed
    # run tries such a sample again; False where the same request would fail the same way.
    transient: bool = False


@dataclass(frozen=True)
class Capabilities:
    batch_safe: bool = True  # batched greedy output equals one-at-a-time output
    needs_image: bool = True


@dataclass
class ModelAdapter(ABC):
    """Subclasses declare ``capabilities`` and implement ``generate``."""

    name: str
    settings: Any = None  # the typed model settings (model_adapters/settings.py)
    # Notable things that happened (e.g. "CUDA OOM at batch 16: halved"); saved in the manifest.
    events: list[str] = field(default_factory=list)

    capabilities = Capabilities()

    def batch_order_key(self, request_prompt: str, image_path: str) -> Any:
        """Sort key the runner uses to group similar samples into batches (None: keep order).

        Batching similar-length inputs cuts padding; results do not depend on it because
        batched output must equal one-at-a-time output (tests/test_batch_invariance.py).
        """
        return None

    def preferred_batch_size(self, configured: int) -> int:
        """Samples per `generate` call (the runner's batch, appended to predictions when done).
        An engine that schedules requests itself (vLLM) sets its own: see engine_stream.py."""
        return configured

    @abstractmethod
    def generate(self, requests: list[GenerationRequest]) -> list[str | InferenceFailure]:
        """Return one response (or InferenceFailure) per request, in order.

        Raising fails the whole batch: the runner then retries its requests one by one and
        records the ones that still raise as inference failures.
        """

    def generate_stream(self, batches: Iterator[list[GenerationRequest]]) -> Iterator[list[str | InferenceFailure]]:
        """`generate`'s answers batch by batch, in order; the runner saves each batch's as it comes.
        Engines that schedule requests themselves (vLLM) override it to queue the next batch before
        the current one finishes, so they never drain between batches."""
        for requests in batches:
            yield self.generate(requests) if requests else []

    def preflight(self, requests: list[GenerationRequest]) -> None:  # noqa: B027 - optional hook
        """Check, before the first batch, that the model can answer (e.g. a server is up and serves
        the model); raise AdapterError saying what to change. `requests`: the first pending sample
        of each subset, images not decoded."""

    def to_protocol(self, response: str, request: GenerationRequest) -> str:
        """Rewrite a raw response into protocol form (PROTOCOL §6 box codec for base models).

        The runner scores the returned text and keeps the raw one as `raw_response` when they
        differ. Must never look at `request.reference`.
        """
        return response

    def not_attempted(self) -> dict[str, str]:
        """Subsets this model does not answer, each with why (e.g. a detector names no category).

        The runner leaves them out and records them as `not_attempted` in metrics.json: absent
        from tables with that note, never scored as zeros."""
        return {}

    def decodes_images(self) -> bool:
        """Whether the runner decodes each sample's image for this adapter."""
        return self.capabilities.needs_image

    def fingerprint(self) -> dict[str, Any]:
        """What, if changed, makes earlier predictions invalid (used by resume)."""
        settings = self.settings
        if hasattr(settings, "__dataclass_fields__"):
            import dataclasses

            settings = dataclasses.asdict(settings)
        return {"adapter": type(self).__name__, "name": self.name, "settings": settings}

    def prompt_fingerprint(self) -> dict[str, Any]:
        """How the adapter turns a sample's question into model input (system prompt, chat
        template, image placement). The questions themselves are covered by the data checksum."""
        return {}

    def checkpoint_location(self) -> str | None:
        """Where the weights come from: a local checkpoint folder or a hub id (None: no weights,
        e.g. the oracle or a served model). The runner fingerprints it into the run key."""
        return None

    def checkpoint_revision(self) -> str | None:
        """The hub revision asked for (None: the default branch, or no hub checkpoint)."""
        return getattr(self.settings, "revision", None)

    def close(self) -> None:  # noqa: B027 - an optional hook: most backends hold nothing to free
        """Free model resources (GPU memory, worker processes)."""


@dataclass(frozen=True)
class BackendSpec:
    """A backend: its `ModelAdapter` class as `"module:Class"` (imported only when chosen) and the
    packages it needs, checked first so that a missing one is named with how to install it."""

    name: str
    target: str
    settings: type = ModelSettings  # the model settings it takes (model_adapters/settings.py)
    requires: tuple[str, ...] = ()
    install: str = ""
    # Runs checkpoints in-process: then a family must declare it verified (`Family.backends`).
    runs_checkpoints: bool = False

    def missing(self) -> list[str]:
        return [module for module in self.requires if importlib.util.find_spec(module) is None]

    def load(self) -> type[ModelAdapter]:
        missing = self.missing()
        if missing:
            raise AdapterError(f"backend={self.name} needs {', '.join(missing)}: {self.install}")
        module, attribute = self.target.split(":", 1)
        cls = getattr(importlib.import_module(module), attribute)
        check = getattr(cls, "check_dependencies", None)
        if check is not None:
            check()
        return cls


BACKENDS: Registry[BackendSpec] = Registry("backend")

"""`backend=vllm`: greedy generation through one `vllm.LLM` engine per run.

The family adapter (qwen2_vl.py etc.) still owns everything family-specific: the prompt text
(its chat template and image placeholder), image preparation and the box codec; this module
only replaces transformers' `generate` with the engine. The engine is created on first use and
reused for the whole run. The runner hands it batches of `backend.submit_size` samples as a
stream; engine_stream.py queues each in the engine as it arrives and keeps up to
`backend.chunk_size` requests there, so vLLM schedules across thousands, starts while later
images are still being decoded, and never drains. The requests are rendered for the engine (our
prompt and image, then vLLM's tokenisation and multimodal processing: what `LLM.enqueue` does) on
a background thread a few batches ahead, so the thread driving the engine only queues them and
collects answers. Each batch is appended to the predictions when it is answered (the unit of
resume, as a batch is for HF). vllm is imported only when the engine starts.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from model_adapters.base import GenerationRequest, InferenceFailure, ModelAdapter
from model_adapters.engine_stream import prepared_ahead, stream_through_engine
from model_adapters.errors import AdapterError, ModelLoadError
from model_adapters.family import Family
from model_adapters.hf_backend import checkpoint_config, checkpoint_path, is_native, native_inputs, request_size
from model_adapters.hf_images import PerImage
from model_adapters.settings import CheckpointSettings
from model_adapters.vllm_sampling import check_greedy, checkpoint_sampling, use_hf_instead

# On CPU vLLM reserves gpu_memory_utilization x the NUMA node's RAM, which rarely is free beside
# the runner; a fixed KV cache is used there instead unless configured.
CPU_KV_CACHE_BYTES = 2 * 2**30
# The vLLM API this module is written and tested against (LLM.enqueue, the V1 engine's client).
MIN_VLLM = (0, 32)
# Batches (backend.submit_size requests) rendered ahead of the engine on the preparing thread.
PREPARED_AHEAD = 2


INSTALL = (
    "GPU: pip install 'vllm>=0.32'; CPU: bash scripts/setup_vllm_env.sh, then "
    ".venv-vllm/bin/python -m sarbench ...; or use backend=hf"
)


def check_data_parallel(size: int, tensor_parallel: int) -> None:
    """vLLM's offline engine (`vllm.LLM`) is one data-parallel rank per process, so sarbench runs
    data parallelism as shards: one engine process per rank, each on its own GPUs."""
    if size == 1:
        return
    if on_cpu():
        raise AdapterError(
            f"backend.data_parallel_size={size} needs GPUs (one engine per {tensor_parallel} GPU(s)); "
            "on CPU use backend.data_parallel_size=1"
        )
    raise AdapterError(
        f"backend.data_parallel_size={size}: vLLM's offline engine runs one data-parallel rank per "
        f"process, so run {size} shards, each an engine on {tensor_parallel} GPU(s): "
        f"bash scripts/shard_local.sh {size} {tensor_parallel} backend=vllm "
        f'backend.tensor_parallel_size={tensor_parallel} model=... (README "Scale out")'
    )


@dataclass(frozen=True)
class EngineSettings:
    """`conf/backend/vllm.yaml` (the one source of these values)."""

    name: str
    chunk_size: int
    submit_size: int
    tensor_parallel_size: int
    data_parallel_size: int
    max_model_len: int | None
    limit_mm_per_prompt: dict
    gpu_memory_utilization: float
    kv_cache_memory_bytes: int | None
    enforce_eager: bool
    dtype: str | None
    seed: int
    engine: dict
    sampling: dict


@dataclass
class VLLMBackend(ModelAdapter):
    """One vLLM engine running one family's prompts; see the module docstring. Build with `create`."""

    family: Family | None = None
    engine_settings: EngineSettings | None = None

    @classmethod
    def check_dependencies(cls) -> None:
        check_vllm_version(installed_vllm_version())

    @classmethod
    def create(cls, settings: CheckpointSettings, family: Family | None, backend_settings: dict) -> VLLMBackend:
        from model_adapters.settings import parse_settings

        if family is None:
            raise use_hf_instead(f"{settings.name} has no model family, so no prompt template for vLLM")
        if not family.tokenizer_specials:  # vLLM tokenizes prompts with the tokenizer's specials
            raise use_hf_instead(f"{type(family).__name__} keeps the tokenizer's special tokens out of its prompt")
        engine = parse_settings(EngineSettings, backend_settings, where="backend=vllm")
        check_greedy(settings.generation or {})
        for key in ("chunk_size", "submit_size", "tensor_parallel_size", "data_parallel_size"):
            if int(getattr(engine, key)) < 1:
                raise AdapterError(f"backend.{key} must be >= 1")
        check_data_parallel(int(engine.data_parallel_size), int(engine.tensor_parallel_size))
        return cls(name=settings.name, settings=settings, family=family, engine_settings=engine)

    def __post_init__(self) -> None:
        self._llm: Any = None
        self._processor: Any = None
        self._sampling: dict[tuple[int, int], Any] = {}
        self._checkpoint_sampling: dict[str, Any] = {}
        self._engine_layout = False  # a remote-code layout vLLM implements (Family.vllm_remote_types)
        self._pixels: PerImage | None = None  # the family's pixels of each image, kept for its next samples

    # -- what the runner asks ---------------------------------------------------------------
    def preferred_batch_size(self, configured: int) -> int:
        return int(self.engine_settings.submit_size)

    def batch_order_key(self, request_prompt: str, image_path: str) -> Any:
        """The family's order with the samples of one image next to each other: its pixels are then
        decoded and prepared once for all of them (and they share the prompt prefix that vLLM's
        prefix cache keeps)."""
        return self.family.batch_order_key(request_prompt, image_path, same_image_together=True)

    def to_protocol(self, response: str, request: GenerationRequest) -> str:
        return self.family.to_protocol(response, request_size(request), self._processor)

    def prompt_fingerprint(self) -> dict[str, Any]:
        return self.family.prompt_fingerprint()

    def fingerprint(self) -> dict[str, Any]:
        engine = {"dtype": self.engine_settings.dtype, "max_model_len": self.engine_settings.max_model_len}
        return {**super().fingerprint(), "family": type(self.family).__name__, "engine": engine}

    def checkpoint_location(self) -> str | None:
        return checkpoint_path(self.settings)

    # -- engine -----------------------------------------------------------------------------
    def dtype(self) -> str:
        configured = self.engine_settings.dtype or self.settings.dtype or "auto"
        return str(configured)

    def engine_kwargs(self, path: str) -> dict[str, Any]:
        s = self.engine_settings
        kwargs: dict[str, Any] = {
            "model": path,
            "tokenizer": path,
            "revision": self.settings.revision,
            "dtype": self.dtype(),
            "seed": int(s.seed),
            "tensor_parallel_size": int(s.tensor_parallel_size),
            "gpu_memory_utilization": float(s.gpu_memory_utilization),
            "enforce_eager": bool(s.enforce_eager),
            "limit_mm_per_prompt": dict(s.limit_mm_per_prompt or {}),
            "trust_remote_code": bool(self.settings.trust_remote_code),
        }
        if s.kv_cache_memory_bytes:
            kwargs["kv_cache_memory_bytes"] = int(s.kv_cache_memory_bytes)
        elif on_cpu() and not os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
            kwargs["kv_cache_memory_bytes"] = CPU_KV_CACHE_BYTES
        if s.max_model_len:
            kwargs["max_model_len"] = int(s.max_model_len)
        if self.settings.processor_kwargs:
            kwargs["mm_processor_kwargs"] = dict(self.settings.processor_kwargs)
        kwargs.update(s.engine or {})
        return kwargs

    def check_checkpoint(self, path: str) -> None:
        """Refuse, before the slow engine start, checkpoints vLLM or the family cannot run."""
        from vllm import ModelRegistry

        config = checkpoint_config(path, self.settings.revision)
        native = is_native(config)
        self.family.check_config(config, native)
        self._engine_layout = not native and config.get("model_type") in self.family.vllm_remote_types
        if not native and not self._engine_layout:
            raise use_hf_instead(
                f"{path} is a remote-code layout ({config.get('model_type')}) that vLLM does not "
                f"implement for {self.family.name}, or whose prompt is not verified against it"
            )
        if self._engine_layout:
            self.family.prepare_vllm_config()
        architectures = config.get("architectures") or []
        supported = set(ModelRegistry.get_supported_archs())
        if not any(a in supported for a in architectures):
            raise use_hf_instead(f"vLLM has no implementation of {architectures or config.get('model_type')} ({path})")

    def hf_processor(self, path: str) -> Any:
        """The checkpoint's transformers processor: the family's image preparation and box codecs
        read it (e.g. Qwen2.5-VL's pixel budget), as they do with backend=hf. A layout vLLM
        processes itself has no transformers processor: its tokenizer then."""
        from transformers import AutoProcessor, AutoTokenizer

        if self._engine_layout:
            return AutoTokenizer.from_pretrained(path, revision=self.settings.revision)

        return AutoProcessor.from_pretrained(
            path, revision=self.settings.revision, **dict(self.settings.processor_kwargs or {})
        )

    def load(self) -> Any:
        if self._llm is not None:
            return self._llm
        try:
            path = checkpoint_path(self.settings)
            self.check_checkpoint(path)
            self._processor = self.hf_processor(path)
            self._pixels = PerImage(lambda image: self.family.pixels(image, self._processor))
            self.family.stop_token_ids(self.tokenizer)  # a template stop token the tokenizer lacks: refused now
            self._checkpoint_sampling = checkpoint_sampling(path, self.settings.revision)
        except (ModelLoadError, OSError, ValueError, ImportError) as exc:
            raise ModelLoadError(f"cannot load model {self.name!r}: {exc}") from exc
        # Fork would copy the runner's image-decoding threads mid-work into the engine process.
        os.environ.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")
        from vllm import LLM

        kwargs = self.engine_kwargs(path)
        self._llm = LLM(**kwargs)
        self.events.append(
            f"vLLM engine for {path}: dtype={kwargs['dtype']} "
            f"tensor_parallel_size={kwargs['tensor_parallel_size']} "
            f"chunk_size={self.engine_settings.chunk_size}"
        )
        return self._llm

    @property
    def engine(self) -> Any:
        """The `vllm.LLM` (started on first use): for benchmarks that drive it directly."""
        return self.load()

    @property
    def tokenizer(self) -> Any:
        return getattr(self._processor, "tokenizer", self._processor)

    # -- generation -------------------------------------------------------------------------
    def sampling_params(self, max_new_tokens: int) -> Any:
        minimum = int(self.settings.min_new_tokens or 0)
        key = (max_new_tokens, min(minimum, max_new_tokens))
        if key not in self._sampling:
            from vllm import SamplingParams

            extra = {**self._checkpoint_sampling, **dict(self.engine_settings.sampling or {})}
            stops = self.family.stop_token_ids(self.tokenizer)
            if stops:
                extra["stop_token_ids"] = [*extra.get("stop_token_ids", ()), *stops]
            self._sampling[key] = SamplingParams(
                **{**extra, "temperature": 0.0, "max_tokens": key[0], "min_tokens": key[1], "detokenize": False}
            )  # decoded below exactly as backend=hf decodes
        return self._sampling[key]

    def engine_prompt(self, request: GenerationRequest) -> dict[str, Any]:
        placeholder = self.family.vllm_image_placeholder if self._engine_layout else None
        text, image = native_inputs(self.family, request, self._processor, placeholder, self._pixels)
        return {"prompt": text, "multi_modal_data": {"image": image}}

    def generate(self, requests: list[GenerationRequest]) -> list[str | InferenceFailure]:
        return list(self.generate_stream(iter([requests])))[0]

    def generate_stream(self, batches: Iterator[list[GenerationRequest]]) -> Iterator[list[str | InferenceFailure]]:
        llm = self.load()
        engine, tokenizer = llm.llm_engine, llm.get_tokenizer()
        prepared = prepared_ahead(batches, lambda request: self.render(llm, request), PREPARED_AHEAD)
        answers = stream_through_engine(
            prepared,
            submit=lambda item: self.enqueue(llm, *item),
            collect=lambda block: finished_outputs(engine, block),
            busy=engine.has_unfinished_requests,
            abort=self.abort,
            window=int(self.engine_settings.chunk_size),
        )
        try:
            for batch in answers:
                yield [
                    a if isinstance(a, InferenceFailure) else self.family.strip_stop_text(decode(tokenizer, a))
                    for a in batch
                ]
        finally:
            answers.close()
            prepared.close()

    def abort(self, request_ids: list[str]) -> None:
        """Drop queued requests of a run that stopped early; a dead engine has nothing to drop."""
        try:
            self._llm.llm_engine.abort_request(request_ids)
        except Exception as exc:  # noqa: BLE001 - the stream's own error is the one to report
            self.events.append(f"could not abort {len(request_ids)} queued vLLM requests: {exc!r}")

    def render(self, llm: Any, request: GenerationRequest) -> Any:
        """The request as the engine takes it: what `LLM.enqueue` does before queueing (vLLM's
        tokenisation and multimodal processing of our prompt), run on the preparing thread."""
        try:
            return llm._preprocess_cmpl_one(self.engine_prompt(request))
        except Exception as exc:  # noqa: BLE001 - recorded as this sample's inference failure
            return refused(exc)

    def enqueue(self, llm: Any, request: GenerationRequest, rendered: Any) -> str | InferenceFailure:
        """Queue one rendered request (the rest of `LLM.enqueue`); a request the engine refuses
        (e.g. longer than max_model_len) fails alone."""
        from vllm.v1.engine.exceptions import EngineDeadError

        if isinstance(rendered, InferenceFailure):
            return rendered
        try:
            # Outputs carry the id LLM gives the request (its counter); _add_request returns that
            # id with the engine's random suffix ("12-a1b2c3d4").
            return llm._add_request(rendered, self.sampling_params(request.max_new_tokens)).split("-", 1)[0]
        except EngineDeadError:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded as this sample's inference failure
            return refused(exc)

    def close(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None:
            llm.llm_engine.engine_core.shutdown()
        self._processor = None
        self._pixels = None


def refused(exc: Exception) -> InferenceFailure:
    return InferenceFailure(f"vLLM refused the request: {type(exc).__name__}: {exc}")


def finished_outputs(engine: Any, block: bool) -> dict[str, Any]:
    """Outputs of requests that finished. With `block`: one engine step (waits for it). Without:
    the steps the engine process has already sent, none if none; that reads the queue of vLLM's
    multiprocess client, a private detail, so where it is absent outputs are collected only when
    the stream waits (the same answers, appended later)."""
    ready = getattr(engine.engine_core, "outputs_queue", None)
    steps = 1 if block else (ready.qsize() if hasattr(ready, "qsize") else 0)
    return {o.request_id: o for _ in range(steps) for o in engine.step() if o.finished}


def decode(tokenizer: Any, output: Any) -> str:
    """As backend=hf decodes: special tokens skipped, surrounding whitespace stripped."""
    return tokenizer.decode(list(output.outputs[0].token_ids), skip_special_tokens=True).strip()


def installed_vllm_version() -> str | None:
    for distribution in ("vllm", "vllm-cpu"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def check_vllm_version(version: str | None) -> None:
    """Refuse, before any work, a vLLM older than the API this backend uses: with one, every
    request would fail one by one."""
    numbers = [int(part) for part in (version or "").split(".")[:2] if part.isdigit()]
    if version is not None and len(numbers) == 2 and tuple(numbers) < MIN_VLLM:
        wanted = ".".join(map(str, MIN_VLLM))
        raise AdapterError(
            f"backend=vllm needs vllm >= {wanted} (found {version}): pip install 'vllm>={wanted}', or use backend=hf"
        )


def on_cpu() -> bool:
    from vllm.platforms import current_platform

    return current_platform.is_cpu()

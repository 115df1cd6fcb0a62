"""What greedy decoding means on backend=vllm: the SamplingParams fields a checkpoint's
generation_config.json adds (as transformers' generate() applies them), and the settings vLLM
cannot apply, refused naming backend=hf."""

from __future__ import annotations

from typing import Any

from model_adapters.errors import AdapterError

GREEDY_GENERATION = {"do_sample": False, "num_beams": 1}


def use_hf_instead(reason: str) -> Exception:
    return AdapterError(f"{reason}; run this model with backend=hf")


# generation_config.json fields transformers' greedy generate() applies that SamplingParams lacks.
HF_ONLY_GENERATION = (
    "no_repeat_ngram_size",
    "encoder_repetition_penalty",
    "encoder_no_repeat_ngram_size",
    "bad_words_ids",
    "sequence_bias",
    "suppress_tokens",
    "begin_suppress_tokens",
    "forced_bos_token_id",
    "forced_eos_token_id",
    "exponential_decay_length_penalty",
    "min_length",
    "min_new_tokens",
)


def checkpoint_sampling(path: str, revision: str | None) -> dict[str, Any]:
    """SamplingParams fields from the checkpoint's generation_config.json that change greedy output,
    as backend=hf's generate() applies them (e.g. Qwen's repetition_penalty); refuses the ones
    vLLM cannot apply. (vLLM applies the config's eos ids itself.)"""
    from transformers import GenerationConfig

    try:
        config = GenerationConfig.from_pretrained(path, revision=revision)
    except OSError:  # no generation_config.json: transformers' defaults, as backend=hf
        return {}
    defaults = GenerationConfig()
    unsupported = sorted(
        k for k in HF_ONLY_GENERATION if getattr(config, k, None) not in (None, getattr(defaults, k, None), 0, [])
    )
    if unsupported:
        raise use_hf_instead(
            f"{path}'s generation_config.json sets {', '.join(unsupported)}, which "
            "transformers applies to greedy decoding and vLLM cannot"
        )
    penalty = getattr(config, "repetition_penalty", None)
    return {"repetition_penalty": float(penalty)} if penalty not in (None, 1.0) else {}


def check_greedy(generation: dict[str, Any]) -> None:
    """backend=vllm decodes greedily; other transformers `generate` options have no mapping here."""
    for key, value in generation.items():
        if key in GREEDY_GENERATION and value != GREEDY_GENERATION[key]:
            raise AdapterError(
                f"backend=vllm decodes greedily: model.generation.{key}={value!r} is not supported; use backend=hf"
            )
        if key not in GREEDY_GENERATION:
            raise AdapterError(
                f"model.generation.{key} is a transformers generate() option; with "
                "backend=vllm give SamplingParams fields in backend.sampling instead"
            )

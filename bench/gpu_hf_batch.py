"""GPU benchmark (<= 8 min): backend=hf samples/s at batch 1 vs batch 16 on a random-weight model
of real size, with no download: Qwen2-VL-2B's architecture written out by hand below, the
offline tiny tokenizer (generation restricted to its ids) and Qwen2-VL's real pixel budget
(512-px images -> 324 visual tokens). Fixed-length greedy generation
(min_new_tokens = max_new_tokens), bf16. Prints one JSON object.

    python bench/gpu_hf_batch.py [--samples 64] [--batch1-samples 24] [--tokens 64]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

QWEN2_VL_2B_TEXT = dict(
    vocab_size=151936,
    hidden_size=1536,
    intermediate_size=8960,
    num_hidden_layers=28,
    num_attention_heads=12,
    num_key_value_heads=2,
    max_position_embeddings=32768,
    rms_norm_eps=1e-6,
    tie_word_embeddings=True,
    rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
)
QWEN2_VL_2B_VISION = dict(
    depth=32,
    embed_dim=1280,
    hidden_size=1536,
    num_heads=16,
    mlp_ratio=4,
    patch_size=14,
    spatial_merge_size=2,
    temporal_patch_size=2,
)
QUESTIONS = [
    "[count] Count the ship in this satellite image.",
    "[refer] Identify 4 ship.",
    "What do you observe in this satellite imagery?",
    "[grounding] What objects can you identify in this SAR image and where are they located?",
    "[identify] What can you identify within these coordinates: {<294><358><329><427>}?",
]


def build_checkpoint(out: str) -> dict:
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessor, Qwen2VLProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    from model_adapters.tiny.qwen2_vl import QWEN_SPECIALS, special_ids
    from model_adapters.tiny.tokenizer import build_tokenizer, token_ids

    tokenizer = build_tokenizer(
        QWEN_SPECIALS,
        eos="<|im_end|>",
        pad="<|endoftext|>",
        named={"image_token": "<|image_pad|>", "video_token": "<|video_pad|>"},
    )
    ids = token_ids(tokenizer, QWEN_SPECIALS)
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(), video_processor=Qwen2VLVideoProcessor(), tokenizer=tokenizer
    )
    config = Qwen2VLConfig(
        text_config={
            **QWEN2_VL_2B_TEXT,
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
            "bos_token_id": None,
        },
        vision_config=QWEN2_VL_2B_VISION,
        tie_word_embeddings=True,
        **special_ids(tokenizer),
    )
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen2VLForConditionalGeneration._from_config(config, dtype=torch.bfloat16)
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(out)
    processor.save_pretrained(out)
    del model
    torch.cuda.empty_cache()
    return {"parameters": params, "tokenizer_vocab": len(tokenizer)}


def requests(n: int, tokens: int):
    import numpy as np
    from PIL import Image

    from model_adapters import GenerationRequest

    rng = np.random.default_rng(0)
    return [
        GenerationRequest(
            f"bench/{i}",
            "count",
            QUESTIONS[i % len(QUESTIONS)],
            "",
            Image.fromarray(rng.integers(0, 255, (512, 512), dtype=np.uint8), mode="L"),
            tokens,
        )
        for i in range(n)
    ]


def timed(adapter, reqs, batch: int) -> tuple[list[str], float]:
    import torch

    torch.cuda.synchronize()
    start = time.perf_counter()
    out = []
    for i in range(0, len(reqs), batch):
        out += adapter.generate(reqs[i : i + batch])
    torch.cuda.synchronize()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=64, help="samples at batch 16")
    parser.add_argument("--batch1-samples", type=int, default=24, help="samples at batch 1 (a prefix)")
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()

    import torch
    import transformers
    from omegaconf import OmegaConf

    from model_adapters import build_model

    started = time.perf_counter()
    result = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "model": "Qwen2-VL-2B architecture, random bf16 weights",
        "new_tokens": args.tokens,
        "image": "512x512 (324 visual tokens)",
    }
    with tempfile.TemporaryDirectory(prefix="sarbench-gpu-bench-") as folder:
        result.update(build_checkpoint(folder))
        result["build_s"] = round(time.perf_counter() - started, 1)
        vocab = result["tokenizer_vocab"]
        base = OmegaConf.to_container(
            OmegaConf.load(Path(__file__).resolve().parents[1] / "conf" / "model_base" / "checkpoint.yaml")
        )
        adapter = build_model(
            {
                **base,
                "name": "qwen2vl-2b-random",
                "family": "qwen2_vl",
                "path": folder,
                "min_new_tokens": args.tokens,
                "generation": {
                    "do_sample": False,
                    "num_beams": 1,
                    "suppress_tokens": list(range(vocab, QWEN2_VL_2B_TEXT["vocab_size"])),
                },
            },
            "hf",
        )
        result["load_s"] = round(time.perf_counter() - started - result["build_s"], 1)
        reqs = requests(args.samples, args.tokens)
        timed(adapter, reqs[:16], 16)  # warm-up (kernels, allocator)
        torch.cuda.reset_peak_memory_stats()
        sixteen, t16 = timed(adapter, reqs, 16)
        one, t1 = timed(adapter, reqs[: args.batch1_samples], 1)
        result.update(
            {
                "samples_batch1": len(one),
                "seconds_batch1": round(t1, 2),
                "samples_per_s_batch1": round(len(one) / t1, 2),
                "samples_batch16": len(sixteen),
                "seconds_batch16": round(t16, 2),
                "samples_per_s_batch16": round(len(sixteen) / t16, 2),
                "speedup": round((len(sixteen) / t16) / (len(one) / t1), 2),
                "identical_batch1_vs_batch16": sum(a == b for a, b in zip(one, sixteen)) / len(one),
                "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
                "events": adapter.events,
                "total_s": round(time.perf_counter() - started, 1),
            }
        )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

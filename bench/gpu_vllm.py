"""GPU benchmark (<= 8 min on one H100): samples/s of raw `LLM.generate`, our backend=vllm through
the runner, our backend=hf through the runner at its best batch size, and per-sample
`LLM.generate` calls (the peers' pattern), on a random-weight model of Qwen2-VL-2B's size.

No download: the checkpoint is bench/gpu_hf_batch.py's hand-written Qwen2-VL-2B architecture
with the offline tiny tokenizer (generation restricted to its ids: `allowed_token_ids` for vLLM,
`suppress_tokens` for transformers), saved to a temporary folder; 512-px images (324 visual
tokens), fixed-length greedy output (min = max new tokens), bf16; vLLM's prefix and multimodal
caches off so no pass profits from an earlier one. Prints one JSON object.

Needs a CUDA build of vllm beside torch and transformers in the interpreter that runs it:

    python bench/gpu_vllm.py [--samples 1024] [--per-sample 48] [--hf-samples 128]
                             [--hf-batches 8,16,32,64] [--tokens 64] [--eager]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_vllm import CACHES_OFF, compose, plain, run_ours, sample_requests, timed  # noqa: E402
from gpu_hf_batch import QUESTIONS, QWEN2_VL_2B_TEXT, build_checkpoint  # noqa: E402

COUNT_FILE = "SARChat_classify_count_test.json"
DISTINCT_IMAGES = 64


def write_dataset(root: Path, samples: int) -> Path:
    """`samples` count questions on 512-px random images, in the SARChat test-file layout."""
    import numpy as np
    from PIL import Image

    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(DISTINCT_IMAGES):
        Image.fromarray(rng.integers(0, 255, (512, 512), dtype=np.uint8), mode="L").save(root / "images" / f"{i}.png")
    records = [
        {
            "messages": [
                {"role": "user", "content": "<image>\n" + QUESTIONS[i % len(QUESTIONS)]},
                {"role": "assistant", "content": "There are 1 instances. {<1><2><30><40>}"},
            ],
            "images": [f"images/{i % DISTINCT_IMAGES}.png"],
        }
        for i in range(samples)
    ]
    (root / COUNT_FILE).write_text(json.dumps(records))
    return root


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=1024, help="samples for raw and ours")
    parser.add_argument("--per-sample", type=int, default=48, help="samples for one-at-a-time calls")
    parser.add_argument("--hf-samples", type=int, default=128)
    parser.add_argument("--hf-batches", default="8,16,32,64")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--eager", action="store_true", help="no CUDA graphs / torch.compile (faster start)")
    args = parser.parse_args()

    import torch
    import transformers
    import vllm
    from vllm import SamplingParams

    import sarbench.evaluate

    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="sarbench-gpu-vllm-"))
    result = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "vllm": vllm.__version__,
        "transformers": transformers.__version__,
        "model": "Qwen2-VL-2B architecture, random bf16 weights",
        "new_tokens": args.tokens,
        "image": "512x512 (324 visual tokens)",
    }
    result.update(build_checkpoint(str(folder / "ckpt")))
    vocab = result["tokenizer_vocab"]
    write_dataset(folder / "data", args.samples)
    result["build_s"] = round(time.perf_counter() - started, 1)
    common = (
        "model=qwen2vl-2b",
        f"model.path={folder / 'ckpt'}",
        "model.dtype=bfloat16",
        f"model.min_new_tokens={args.tokens}",
        "data=built",
        f"data.root={folder / 'data'}",
        "task=count",
        f"task.max_new_tokens={args.tokens}",
        "scoring.meteor=false",
        "runner.progress=false",
    )

    # -- vLLM: one engine for raw, ours and per-sample ---------------------------------------
    vllm_overrides = (*common, "backend=vllm", f"backend.enforce_eager={str(args.eager).lower()}", *CACHES_OFF)
    config = compose(*vllm_overrides)
    backend = {**plain(config.backend), "sampling": {"allowed_token_ids": list(range(vocab))}}
    adapter = sarbench.evaluate.build_adapter(plain(config.model), "vllm", backend)
    _, result["vllm_start_s"] = timed(adapter.load)
    llm, tokenizer = adapter.engine, adapter.engine.get_tokenizer()
    requests = sample_requests(config, args.tokens)
    prompts = [adapter.engine_prompt(r) for r in requests]
    params = SamplingParams(
        temperature=0.0, max_tokens=args.tokens, min_tokens=args.tokens, allowed_token_ids=list(range(vocab))
    )
    llm.generate(prompts[:64], params, use_tqdm=False)  # warm-up
    outputs, raw_s = timed(lambda: llm.generate(prompts, params, use_tqdm=False))
    ours_s, ours = run_ours(adapter, vllm_overrides, folder / "ours")
    _, single_s = timed(lambda: [llm.generate([p], params, use_tqdm=False) for p in prompts[: args.per_sample]])
    raw = {
        r.sample_id: tokenizer.decode(list(o.outputs[0].token_ids), skip_special_tokens=True).strip()
        for r, o in zip(requests, outputs)
    }
    adapter.close()
    n = len(prompts)
    result.update(
        {
            "samples": n,
            "raw_s": round(raw_s, 2),
            "raw_samples_per_s": round(n / raw_s, 2),
            "ours_vllm_s": round(ours_s, 2),
            "ours_vllm_samples_per_s": round(n / ours_s, 2),
            "per_sample_samples": args.per_sample,
            "per_sample_s": round(single_s, 2),
            "per_sample_samples_per_s": round(args.per_sample / single_s, 2),
            "ours_vllm_vs_raw": round(raw_s / ours_s, 3),
            "ours_vllm_vs_per_sample": round((n / ours_s) / (args.per_sample / single_s), 1),
            "ours_identical_to_raw": sum(ours[i] == raw[i] for i in raw) / n,
        }
    )
    llm = adapter = None  # free the engine before the transformers part
    torch.cuda.empty_cache()

    # -- transformers: one model, the runner at each batch size -------------------------------
    config = compose(*common, "backend=hf")
    model = {
        **plain(config.model),
        "generation": {
            "do_sample": False,
            "num_beams": 1,
            "suppress_tokens": list(range(vocab, QWEN2_VL_2B_TEXT["vocab_size"])),
        },
    }
    hf = sarbench.evaluate.build_adapter(model, "hf")
    hf_rates = {}
    run_ours(hf, (*common, "backend=hf", "runner.limit=16", "runner.batch_size=16"), folder / "hf-warm-up")
    for batch in (int(b) for b in args.hf_batches.split(",")):
        seconds, _ = run_ours(
            hf,
            (*common, "backend=hf", f"runner.limit={args.hf_samples}", f"runner.batch_size={batch}"),
            folder / f"hf-{batch}",
        )
        hf_rates[batch] = round(args.hf_samples / seconds, 2)
    best = max(hf_rates, key=hf_rates.get)
    result.update(
        {
            "hf_samples": args.hf_samples,
            "hf_samples_per_s_by_batch": hf_rates,
            "hf_best_batch": best,
            "hf_best_samples_per_s": hf_rates[best],
            "ours_vllm_vs_hf_best": round((n / ours_s) / hf_rates[best], 1),
            "peak_gpu_memory_gib_hf": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "events": hf.events,
            "total_s": round(time.perf_counter() - started, 1),
        }
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":  # vLLM starts its engine in child processes
    main()

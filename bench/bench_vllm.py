"""Benchmark: backend=vllm harness overhead on CPU, tiny Qwen2-VL. Run it in .venv-vllm.

One engine (the one our adapter starts), the bundled sample (425 samples, 9 subsets; --copies N
repeats each test file N times), greedy fixed-length output (min_tokens = max_tokens =
--tokens); prefix and multimodal-processor caches off, so no pass profits from an earlier one.
Three ways through it:

- raw: one `LLM.generate` over all prompts, built beforehand (untimed): the ceiling; also timed
  with the prompts built inside (images read from disk), as a complete raw script does;
- ours: `run_from_config` (what `python -m sarbench ... backend=vllm` runs): image decoding, prompt
  rendering, batches of --submit-size samples queued in the engine as their images are ready with
  up to --chunk-size requests in it at once, box codec, each batch's predictions appended and
  fsynced; timed as the runner's generation seconds (scoring excluded);
- ours, images in memory: the same run with the image files decoded beforehand (untimed), as
  raw's are: the harness's own overhead over raw;
- per-sample: `LLM.generate([prompt])` one at a time (the peers' pattern), on the first
  --per-sample prompts.

Checks that ours and raw give the same responses, prints the figures and, with --record,
appends them to bench/RESULTS.md.

    .venv-vllm/bin/python bench/bench_vllm.py [--tokens 32] [--copies 1] [--chunk-size 2048]
                                              [--submit-size 64] [--per-sample 48] [--repeats 2] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
CACHES_OFF = ("+backend.engine.enable_prefix_caching=false", "+backend.engine.mm_processor_cache_gb=0")


def compose(*overrides):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from sarbench.__main__ import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return hydra_compose(config_name="config", overrides=list(overrides))


def plain(group) -> dict:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(group, resolve=True)


def sample_requests(config, tokens: int):
    from model_adapters import GenerationRequest
    from sarbench.evaluate import load_run_data
    from sarbench.images import load_image

    data = load_run_data(plain(config.data), list(config.task.subsets))
    return [
        GenerationRequest(s.id, s.subset, s.prompt, s.image, load_image(s.image), tokens)
        for samples in data.samples.values()
        for s in samples
    ]


def copied_sample(root: Path, copies: int) -> Path:
    """The bundled sample with every test file's records repeated `copies` times."""
    from sarbench.build import sample_data_dir

    source = sample_data_dir()
    root.mkdir(parents=True)
    (root / "images").symlink_to(source / "images")
    for path in source.glob("SARChat_*_test.json"):
        (root / path.name).write_text(json.dumps(json.loads(path.read_text()) * copies))
    return root


def run_ours(adapter, overrides, out: Path) -> tuple[float, dict[str, str]]:
    import sarbench.evaluate

    real_build, real_close = sarbench.evaluate.build_adapter, adapter.close
    sarbench.evaluate.build_adapter, adapter.close = (lambda *args: adapter), (lambda: None)
    try:
        sarbench.evaluate.run_from_config(compose(*overrides, f"out={out}"))
    finally:
        sarbench.evaluate.build_adapter, adapter.close = real_build, real_close
    seconds = json.loads((out / "manifest.json").read_text())["generation_seconds"]
    responses = {}
    for path in (out / "predictions").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            responses[record["id"]] = record.get("raw_response", record["response"])
    return seconds, responses


def run_ours_predecoded(adapter, overrides, out: Path, images: dict) -> float:
    """run_ours with the runner's image decoding replaced by a lookup of images decoded beforehand."""
    import sarbench.images

    real = sarbench.images.load_image
    sarbench.images.load_image = images.__getitem__
    try:
        return run_ours(adapter, overrides, out)[0]
    finally:
        sarbench.images.load_image = real


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=2048, help="backend.chunk_size")
    parser.add_argument("--submit-size", type=int, default=64, help="backend.submit_size")
    parser.add_argument("--per-sample", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=2, help="raw/ours passes (best of)")
    parser.add_argument("--eager", action="store_true", help="backend.enforce_eager=true")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()

    import vllm
    from vllm import SamplingParams

    from sarbench.evaluate import build_adapter

    folder = Path(tempfile.mkdtemp(prefix="sarbench-bench-vllm-"))
    overrides = (
        "model=tiny-qwen2vl",
        f"model.tiny.cache_dir={folder / 'tiny'}",
        f"model.min_new_tokens={args.tokens}",
        "task=all",
        f"task.max_new_tokens={args.tokens}",
        "backend=vllm",
        *CACHES_OFF,
        f"backend.chunk_size={args.chunk_size}",
        f"backend.submit_size={args.submit_size}",
        *(("data=sarchat", f"data.root={copied_sample(folder / 'data', args.copies)}") if args.copies > 1 else ()),
        f"backend.enforce_eager={str(args.eager).lower()}",
        "scoring.meteor=false",
        "runner.progress=false",
    )
    config = compose(*overrides)
    adapter = build_adapter(plain(config.model), "vllm", plain(config.backend))
    _, start_s = timed(adapter.load)
    llm, tokenizer = adapter.engine, adapter.engine.get_tokenizer()
    requests = sample_requests(config, args.tokens)
    prompts = [adapter.engine_prompt(r) for r in requests]
    params = SamplingParams(temperature=0.0, max_tokens=args.tokens, min_tokens=args.tokens)
    llm.generate(prompts[:16], params, use_tqdm=False)  # warm-up

    unloaded = [replace(r, image=None) for r in requests]  # engine_prompt then reads the file
    decoded = {r.image_path: r.image for r in requests}
    raw_s, loading_s, ours_s, in_memory_s = [], [], [], []
    for repeat in range(args.repeats):
        outputs, seconds = timed(lambda: llm.generate(prompts, params, use_tqdm=False))
        raw_s.append(seconds)
        _, seconds = timed(lambda: llm.generate([adapter.engine_prompt(r) for r in unloaded], params, use_tqdm=False))
        loading_s.append(seconds)
        seconds, ours = run_ours(adapter, overrides, folder / f"ours-{repeat}")
        ours_s.append(seconds)
        in_memory_s.append(run_ours_predecoded(adapter, overrides, folder / f"in-memory-{repeat}", decoded))
    raw = {
        r.sample_id: tokenizer.decode(list(o.outputs[0].token_ids), skip_special_tokens=True).strip()
        for r, o in zip(requests, outputs)
    }
    identical = sum(ours[i] == raw[i] for i in raw)
    one_by_one = prompts[: args.per_sample]
    _, single_s = timed(lambda: [llm.generate([p], params, use_tqdm=False) for p in one_by_one])
    adapter.close()

    n = len(prompts)
    raw_rate, ours_rate, single_rate = n / min(raw_s), n / min(ours_s), len(one_by_one) / single_s
    loading_rate, in_memory_rate = n / min(loading_s), n / min(in_memory_s)
    figures = {
        "samples": n,
        "chunk_size": args.chunk_size,
        "submit_size": args.submit_size,
        "new_tokens": args.tokens,
        "engine_start_s": round(start_s, 1),
        "raw_s": [round(s, 2) for s in raw_s],
        "raw_with_loading_s": [round(s, 2) for s in loading_s],
        "ours_s": [round(s, 2) for s in ours_s],
        "ours_images_in_memory_s": [round(s, 2) for s in in_memory_s],
        "ours_images_in_memory_vs_raw": round(in_memory_rate / raw_rate, 3),
        "raw_with_loading_samples_per_s": round(loading_rate, 1),
        "ours_vs_raw_with_loading": round(ours_rate / loading_rate, 3),
        "per_sample_s": round(single_s, 2),
        "raw_samples_per_s": round(raw_rate, 1),
        "ours_samples_per_s": round(ours_rate, 1),
        "per_sample_samples_per_s": round(single_rate, 2),
        "ours_vs_raw": round(ours_rate / raw_rate, 3),
        "ours_vs_per_sample": round(ours_rate / single_rate, 1),
        "identical_to_raw": f"{identical}/{n}",
        "vllm": vllm.__version__,
        "eager": args.eager,
    }
    print(json.dumps(figures, indent=2))
    if args.record:
        row = (
            f"| tiny Qwen2-VL (fp32{', eager' if args.eager else ''}) | {n} | {args.chunk_size} | "
            f"{args.submit_size} | {args.tokens} | "
            f"{raw_rate:.1f} | {loading_rate:.1f} | {ours_rate:.1f} | {single_rate:.2f} | "
            f"{ours_rate / raw_rate:.2f}x | {ours_rate / loading_rate:.2f}x | {in_memory_rate / raw_rate:.2f}x | "
            f"{ours_rate / single_rate:.1f}x | {identical}/{n} |"
        )
        results = Path(__file__).with_name("RESULTS.md")
        results.write_text(results.read_text().rstrip("\n") + "\n" + row + "\n")
        print(f"appended to {results} ({platform.machine()}, {os.cpu_count()} cores)")


if __name__ == "__main__":  # vLLM starts its engine in child processes
    main()

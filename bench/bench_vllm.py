"""Benchmark: backend=vllm harness overhead on CPU, tiny Qwen2-VL. Run it in .venv-vllm.

One engine (the one our adapter starts: the same engine arguments for every pass), the bundled
sample (425 samples, 9 subsets, 40 images; --copies N repeats each test file N times, 8: 3,400
samples; --distinct-images gives every sample its own image file, other bytes with the same pixels,
so no sample reuses another's decoded image),
greedy fixed-length output (min_tokens = max_tokens = --tokens); prefix and multimodal-processor
caches off, so no pass profits from an earlier one. The ways through it, interleaved in each of
--repeats rounds (the box's load changes; best of the rounds is reported, and each round's ratio):

- raw: one `LLM.generate` over all prompts (the same prompt text and prepared image ours sends),
  built beforehand (untimed): the ceiling; also timed with the prompts built inside (images read
  from disk), as a complete raw script does;
- ours, at each of --chunk-sizes (backend.chunk_size; 2048 is the default): `run_from_config`
  (what `python -m sarbench ... backend=vllm` runs): image decoding, prompts, batches of
  --submit-size samples rendered for the engine on a background thread and queued as their
  images are ready with up to chunk-size requests in it, box codec, each batch's predictions
  appended and fsynced; timed as the runner's generation seconds (scoring excluded);
- with --in-memory, ours with the image files read and decoded beforehand (untimed), as raw's
  are: the harness's own overhead over raw;
- per-sample: `LLM.generate([prompt])` one at a time (the peers' pattern), on the first
  --per-sample prompts.

Checks that ours and raw give the same responses, prints the figures (JSON, then one RESULTS.md
row per chunk size, with the load average before and after) and, with --record, adds the rows to
the vLLM table of bench/RESULTS.md.

    .venv-vllm/bin/python bench/bench_vllm.py [--tokens 32] [--copies 8] [--chunk-sizes 425,2048]
        [--submit-size 64] [--per-sample 48] [--repeats 2] [--in-memory] [--distinct-images] [--record]
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


def copied_sample(root: Path, copies: int, distinct: bool = False) -> Path:
    """The bundled sample with every test file's records repeated `copies` times. `distinct`:
    every record gets its own image file, the same PNG with a text chunk naming the record (other
    bytes, the same pixels), so no sample shares decoded pixels with another."""
    from sarbench.build import sample_data_dir

    source = sample_data_dir()
    root.mkdir(parents=True)
    (root / "images").symlink_to(source / "images")
    (root / "distinct").mkdir()
    for path in source.glob("SARChat_*_test.json"):
        records = json.loads(path.read_text()) * copies
        if distinct:
            for i, record in enumerate(records):
                own = f"distinct/{path.stem}-{i}.png"
                (root / own).write_bytes(tagged_png((source / record["images"][0]).read_bytes(), own))
                records[i] = {**record, "images": [own]}
        (root / path.name).write_text(json.dumps(records))
    return root


def tagged_png(data: bytes, text: str) -> bytes:
    """The PNG with a tEXt chunk after its header chunk: other bytes, the same pixels."""
    import struct
    import zlib

    body = b"tEXt" + b"Comment\0" + text.encode()
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    header_end = 8 + 8 + 13 + 4  # signature, then IHDR: length, type, 13 bytes, CRC
    return data[:header_end] + chunk + data[header_end:]


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
    """run_ours with the runner's image reading replaced by a lookup of the (image, file) pairs
    read beforehand."""
    import sarbench.images

    real = sarbench.images.read_image
    sarbench.images.read_image = lambda path, decoded=None: images[path]
    try:
        return run_ours(adapter, overrides, out)[0]
    finally:
        sarbench.images.read_image = real


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--chunk-sizes", default="425,2048", help="backend.chunk_size values (2048: the default)")
    parser.add_argument("--submit-size", type=int, default=64, help="backend.submit_size")
    parser.add_argument("--per-sample", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=2, help="passes of each, interleaved (best of)")
    parser.add_argument("--in-memory", action="store_true", help="also ours with the images read beforehand")
    parser.add_argument("--eager", action="store_true", help="backend.enforce_eager=true")
    parser.add_argument(
        "--distinct-images", action="store_true", help="every sample its own image file (no decoded image shared)"
    )
    parser.add_argument("--record", action="store_true", help="add the figures to bench/RESULTS.md")
    args = parser.parse_args()
    chunks = [int(c) for c in args.chunk_sizes.split(",")]

    import vllm
    from vllm import SamplingParams

    from sarbench.evaluate import build_adapter
    from sarbench.images import read_image

    folder = Path(tempfile.mkdtemp(prefix="sarbench-bench-vllm-"))
    load_before = os.getloadavg()
    common = (
        "model=tiny-qwen2vl",
        f"model.tiny.cache_dir={folder / 'tiny'}",
        f"model.min_new_tokens={args.tokens}",
        "task=all",
        f"task.max_new_tokens={args.tokens}",
        "backend=vllm",
        *CACHES_OFF,
        f"backend.submit_size={args.submit_size}",
        *(
            ("data=sarchat", f"data.root={copied_sample(folder / 'data', args.copies, args.distinct_images)}")
            if args.copies > 1 or args.distinct_images
            else ()
        ),
        f"backend.enforce_eager={str(args.eager).lower()}",
        "scoring.meteor=false",
        "runner.progress=false",
    )
    overrides = {chunk: (*common, f"backend.chunk_size={chunk}") for chunk in chunks}
    config = compose(*overrides[chunks[0]])  # the engine does not depend on the chunk size
    adapter = build_adapter(plain(config.model), "vllm", plain(config.backend))
    _, start_s = timed(adapter.load)
    llm, tokenizer = adapter.engine, adapter.engine.get_tokenizer()
    requests = sample_requests(config, args.tokens)
    prompts = [adapter.engine_prompt(r) for r in requests]
    params = SamplingParams(temperature=0.0, max_tokens=args.tokens, min_tokens=args.tokens)
    llm.generate(prompts[:16], params, use_tqdm=False)  # warm-up

    unloaded = [replace(r, image=None) for r in requests]  # engine_prompt then reads the file
    files = {r.image_path: read_image(r.image_path) for r in requests}
    raw_s, loading_s = [], []
    ours_s, in_memory_s = {c: [] for c in chunks}, {c: [] for c in chunks}
    ours = {}
    for repeat in range(args.repeats):  # interleaved, so a change in the box's load hits all alike
        outputs, seconds = timed(lambda: llm.generate(prompts, params, use_tqdm=False))
        raw_s.append(seconds)
        for chunk in chunks:
            seconds, ours[chunk] = run_ours(adapter, overrides[chunk], folder / f"ours-{chunk}-{repeat}")
            ours_s[chunk].append(seconds)
            if args.in_memory:
                out = folder / f"in-memory-{chunk}-{repeat}"
                in_memory_s[chunk].append(run_ours_predecoded(adapter, overrides[chunk], out, files))
        _, seconds = timed(lambda: llm.generate([adapter.engine_prompt(r) for r in unloaded], params, use_tqdm=False))
        loading_s.append(seconds)
    raw = {
        r.sample_id: tokenizer.decode(list(o.outputs[0].token_ids), skip_special_tokens=True).strip()
        for r, o in zip(requests, outputs)
    }
    one_by_one = prompts[: args.per_sample]
    _, single_s = timed(lambda: [llm.generate([p], params, use_tqdm=False) for p in one_by_one])
    adapter.close()

    n, load = len(prompts), [round(x, 2) for x in (*load_before, *os.getloadavg())]
    raw_rate, single_rate, loading_rate = n / min(raw_s), len(one_by_one) / single_s, n / min(loading_s)
    figures = {
        "samples": n,
        "submit_size": args.submit_size,
        "new_tokens": args.tokens,
        "engine_start_s": round(start_s, 1),
        "raw_s": [round(s, 2) for s in raw_s],
        "raw_samples_per_s": round(raw_rate, 1),
        "raw_with_loading_s": [round(s, 2) for s in loading_s],
        "raw_with_loading_samples_per_s": round(loading_rate, 1),
        "per_sample_s": round(single_s, 2),
        "per_sample_samples_per_s": round(single_rate, 2),
        "load_average_before_after": load,
        "vllm": vllm.__version__,
        "eager": args.eager,
        "distinct_images": args.distinct_images,
        "chunks": {},
    }
    rows = []
    for chunk in chunks:
        ours_rate = n / min(ours_s[chunk])
        identical = sum(ours[chunk][i] == raw[i] for i in raw)
        in_memory = n / min(in_memory_s[chunk]) / raw_rate if args.in_memory else None
        figures["chunks"][chunk] = {
            "ours_s": [round(s, 2) for s in ours_s[chunk]],
            "ours_samples_per_s": round(ours_rate, 1),
            "ours_vs_raw": round(ours_rate / raw_rate, 3),
            "ours_vs_raw_each_pass": [round(r / o, 3) for r, o in zip(raw_s, ours_s[chunk])],
            "ours_images_in_memory_s": [round(s, 2) for s in in_memory_s[chunk]],
            "ours_images_in_memory_vs_raw": None if in_memory is None else round(in_memory, 3),
            "ours_vs_raw_with_loading": round(ours_rate / loading_rate, 3),
            "ours_vs_per_sample": round(ours_rate / single_rate, 1),
            "identical_to_raw": f"{identical}/{n}",
        }
        rows.append(
            f"| tiny Qwen2-VL (fp32{', eager' if args.eager else ''}"
            f"{', every sample its own image file' if args.distinct_images else ''}; "
            f"load {load[0]:.1f}-{load[3]:.1f}) | {n} | "
            f"{chunk} | {args.submit_size} | {args.tokens} | {raw_rate:.1f} | {loading_rate:.1f} | "
            f"{ours_rate:.1f} | {single_rate:.2f} | {ours_rate / raw_rate:.2f}x | {ours_rate / loading_rate:.2f}x | "
            f"{'–' if in_memory is None else f'{in_memory:.2f}x'} | {ours_rate / single_rate:.1f}x | {identical}/{n} |"
        )
    print(json.dumps(figures, indent=2))
    print("\n".join(rows))
    if args.record:
        results = Path(__file__).with_name("RESULTS.md")
        results.write_text(with_rows(results.read_text(), rows))
        print(f"added to the vLLM table of {results} ({platform.machine()}, {os.cpu_count()} cores)")


def with_rows(text: str, rows: list[str]) -> str:
    """RESULTS.md with `rows` added at the end of the vLLM backend table."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| model | samples | chunk | submit |"))
    end = next(i for i in range(header, len(lines) + 1) if i == len(lines) or not lines[i].startswith("|"))
    return "\n".join([*lines[:end], *rows, *lines[end:]]) + "\n"


if __name__ == "__main__":  # vLLM starts its engine in child processes
    main()

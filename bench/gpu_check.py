"""The GPU check (driven by bench/gpu_check.sh, which sets up first): every runnable tiny family on
backend=hf (bf16 on GPU) and on backend=vllm, batch 1 = batch 8, samples/s of HF batched vs our
vLLM backend vs raw `LLM.generate`, and the multi-GPU shard recipe when several GPUs are visible
and the runner has shards (`runner.num_shards`). Writes `gpu_check.json` and `gpu_check.md` (a
summary table) into --out. With --cpu the same code path runs on CPU in float32 on a few samples
(the test suite's dry run, so the script cannot rot).

    python bench/gpu_check.py --out DIR [--cpu] [--limit 8] [--tokens 32]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_vllm import CACHES_OFF, compose, plain, run_ours, sample_requests  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# (model config, family) of every tiny checkpoint; the released-layout InternVL runs on HF after
# `sarbench convert-internvl`.
TINY = (
    "tiny-qwen2vl",
    "tiny-qwen2_5vl",
    "tiny-internvl2_5",
    "tiny-internvl2_5-chat",
    "tiny-llava1_5",
    "tiny-yivl",
    "tiny-deepseekvl",
    "tiny-deepseekvl-hybrid",
    "tiny-deepseek_vl2",
)
# Tiny checkpoints whose only path here is vLLM, with why HF does not run them.
VLLM_ONLY = {
    "tiny-deepseek_vl2": "DeepSeek-VL2's HF path is its remote code for transformers 4 (refused at start)",
}
# Packages a tiny checkpoint's vLLM path needs beyond vllm (vLLM's DeepSeek-VL2 builds its SigLIP with timm).
VLLM_NEEDS = {"tiny-deepseek_vl2": "timm"}
RAW_MODEL = "tiny-qwen2vl"


def hf_overrides(model: str, cache: Path, converted: Path | None, cpu: bool) -> tuple[str, ...]:
    placement = ("model.device=cpu", "model.dtype=float32") if cpu else ("model.device=cuda", "model.dtype=bfloat16")
    if converted is not None:
        return ("model=internvl2_5-1b", f"model.path={converted}", *placement)
    return (f"model={model}", f"model.tiny.cache_dir={cache}", *placement)


def vllm_overrides(model: str, cache: Path, cpu: bool) -> tuple[str, ...]:
    dtype = "float32" if cpu else "bfloat16"
    return (f"model={model}", f"model.tiny.cache_dir={cache}", f"model.dtype={dtype}", "model.device=auto")


def responses(out: Path) -> dict[str, str]:
    found = {}
    for path in (out / "predictions").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            found[record["id"]] = record.get("raw_response", record["response"])
    return found


def check_hf(model: str, common: tuple[str, ...], args, work: Path) -> dict:
    """batch 8 and batch 1 through the runner on one loaded model: identical answers, samples/s."""
    from sarbench.evaluate import build_adapter

    converted = convert_released(work) if model == "tiny-internvl2_5-chat" else None
    overrides = (*hf_overrides(model, work / "tiny", converted, args.cpu), *common, "backend=hf")
    config = compose(*overrides)
    adapter = build_adapter(plain(config.model), "hf")
    try:
        eight_s, eight = run_ours(adapter, (*overrides, "runner.batch_size=8"), work / f"{model}-hf8")
        one_s, one = run_ours(adapter, (*overrides, "runner.batch_size=1"), work / f"{model}-hf1")
    finally:
        adapter.close()
    differing = sorted(i for i in eight if eight[i] != one.get(i))
    return {
        "samples": len(eight),
        "batch8_samples_per_s": round(len(eight) / eight_s, 2),
        "batch1_samples_per_s": round(len(one) / one_s, 2),
        "batch1_equals_batch8": not differing and eight.keys() == one.keys(),
        "differing": differing[:5],
        "batch_safe": adapter.family.batch_safe,
        "answers": eight,
    }


def convert_released(work: Path) -> Path:
    from model_adapters.internvl_chat import convert
    from model_adapters.tiny import ensure_tiny_model

    out = work / "internvl-chat-converted"
    if not (out / "config.json").exists():
        convert(ensure_tiny_model("internvl_chat", work / "tiny"), out)
    return out


def check_vllm(model: str, common: tuple[str, ...], args, work: Path) -> dict:
    """Our backend=vllm through the runner; for RAW_MODEL also one raw `LLM.generate` over the same
    prompts on the same engine (the ceiling) and whether its answers equal ours."""
    from vllm import SamplingParams

    from sarbench.evaluate import build_adapter

    overrides = (
        *vllm_overrides(model, work / "tiny", args.cpu),
        *common,
        "backend=vllm",
        f"backend.enforce_eager={str(args.eager).lower()}",
        *CACHES_OFF,
    )
    config = compose(*overrides)
    adapter = build_adapter(plain(config.model), "vllm", plain(config.backend))
    try:
        started = time.perf_counter()
        adapter.load()
        result = {"engine_start_s": round(time.perf_counter() - started, 1)}
        seconds, ours = run_ours(adapter, overrides, work / f"{model}-vllm")
        result |= {"samples": len(ours), "samples_per_s": round(len(ours) / seconds, 2), "answers": ours}
        if model == RAW_MODEL:
            requests = sample_requests(config, args.tokens)[: len(ours)]
            requests = [r for r in requests if r.sample_id in ours]
            prompts = [adapter.engine_prompt(r) for r in requests]
            params = SamplingParams(temperature=0.0, max_tokens=args.tokens, min_tokens=args.tokens)
            started = time.perf_counter()
            outputs = adapter.engine.generate(prompts, params, use_tqdm=False)
            raw_s = time.perf_counter() - started
            tokenizer = adapter.engine.get_tokenizer()
            raw = {
                r.sample_id: tokenizer.decode(list(o.outputs[0].token_ids), skip_special_tokens=True).strip()
                for r, o in zip(requests, outputs)
            }
            result |= {
                "raw_samples_per_s": round(len(raw) / raw_s, 2),
                "raw_identical_to_ours": sum(raw[i] == ours[i] for i in raw) / max(len(raw), 1),
            }
    finally:
        adapter.close()
    return result


def has_shards() -> bool:
    return "num_shards" in compose("model=oracle").runner


def check_shards(common: tuple[str, ...], args, work: Path, gpus: int) -> dict:
    """The shard recipe (README "Scale out"): one process per GPU, `runner.num_shards=N
    runner.shard=i`, one out folder; its answers must equal one process's."""
    out = work / "shards"
    base = [sys.executable, "-m", "sarbench", *hf_overrides(RAW_MODEL, work / "tiny", None, args.cpu), *common]
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [*base, f"runner.num_shards={gpus}", f"runner.shard={i}", f"out={out}"],
            env={**os.environ, "CUDA_VISIBLE_DEVICES": str(i), "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(gpus)
    ]
    codes = [p.wait() for p in processes]
    seconds = time.perf_counter() - started
    done = responses(out)
    return {
        "shards": gpus,
        "exit_codes": codes,
        "samples": len(done),
        "samples_per_s_wall": round(len(done) / seconds, 2),
        "errors": [p.stderr.read()[-500:] for p, c in zip(processes, codes) if c != 0],
        "answers": done,
    }


def attempt(results: dict, key: str, function, *args) -> None:
    """One check; a failure is recorded (with its traceback's end) and the others go on."""
    try:
        results[key] = function(*args)
    except Exception as exc:  # noqa: BLE001 - the report lists it; the check must finish
        results[key] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-1500:]}


def environment(args) -> dict:
    import torch
    import transformers

    gpus = 0 if args.cpu else torch.cuda.device_count()
    return {
        "mode": "cpu dry run" if args.cpu else "gpu",
        "device": "cpu" if args.cpu else (torch.cuda.get_device_name(0) if gpus else "no CUDA device"),
        "gpus": gpus,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "vllm": vllm_version(),
        "limit_per_subset": args.limit,
        "new_tokens": args.tokens,
    }


def vllm_version() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return None
    from model_adapters.vllm_backend import installed_vllm_version

    return installed_vllm_version()


def run_checks(args) -> dict:
    import torch

    from model_adapters import FAMILIES

    torch.manual_seed(0)
    if args.cpu:
        torch.set_num_threads(1)
    report = {"environment": environment(args), "hf": {}, "vllm": {}, "shards": None}
    common = (
        "task=all",
        f"runner.limit={args.limit}",
        f"task.max_new_tokens={args.tokens}",
        f"model.min_new_tokens={args.tokens}",
        "scoring.meteor=false",
        "runner.progress=false",
    )
    work = Path(tempfile.mkdtemp(prefix="sarbench-gpu-check-"))
    vllm_ok = report["environment"]["vllm"] is not None
    for model in args.models:
        if model in VLLM_ONLY:
            report["hf"][model] = {"skipped": VLLM_ONLY[model]}
        else:
            attempt(report["hf"], model, check_hf, model, common, args, work)
        family = FAMILIES.get(compose(f"model={model}").model.family)
        if "vllm" not in family.backends:
            report["vllm"][model] = {"skipped": f"family {family.name} does not run on vLLM"}
        elif not vllm_ok:
            report["vllm"][model] = {"skipped": "vllm is not importable here"}
        elif model in VLLM_NEEDS and importlib.util.find_spec(VLLM_NEEDS[model]) is None:
            report["vllm"][model] = {"skipped": f"{VLLM_NEEDS[model]} is not importable here"}
        else:
            attempt(report["vllm"], model, check_vllm, model, common, args, work)
    shards = args.shards or report["environment"]["gpus"]
    if shards < 2:
        report["shards"] = {"skipped": f"{shards} GPU(s) visible: the shard recipe needs 2 or more"}
    elif not has_shards():
        report["shards"] = {"skipped": "this sarbench has no runner.num_shards"}
    else:
        attempt(report, "shards", check_shards, common, args, work, shards)
        single = report["hf"].get(RAW_MODEL, {}).get("answers")
        if single is not None and "answers" in report["shards"]:
            report["shards"]["identical_to_one_process"] = report["shards"].pop("answers") == single
    for model, hf in report["hf"].items():
        ours = report["vllm"].get(model, {})
        if "answers" in hf and "answers" in ours:
            same = sum(hf["answers"].get(i) == a for i, a in ours["answers"].items())
            ours["identical_to_hf"] = round(same / max(len(ours["answers"]), 1), 3)
    for entry in [*report["hf"].values(), *report["vllm"].values(), report["shards"]]:
        entry.pop("answers", None)
    return report


def summary(report: dict) -> str:
    env = report["environment"]
    lines = [
        f"# GPU check ({env['mode']}): {env['device']}, {env['gpus']} GPU(s), torch {env['torch']}, "
        f"transformers {env['transformers']}, vllm {env['vllm'] or 'absent'}",
        "",
        f"{env['limit_per_subset']} samples per subset x 9 subsets, {env['new_tokens']} new tokens (fixed length).",
        "",
        "| model | HF batch 8 /s | HF batch 1 /s | batch 1 = batch 8 | vLLM /s | raw LLM.generate /s | vLLM = HF |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for model, hf in report["hf"].items():
        ours = report["vllm"].get(model, {})
        cells = [
            hf.get("batch8_samples_per_s", hf.get("skipped", hf.get("error", ""))[:60]),
            hf.get("batch1_samples_per_s", ""),
            hf.get("batch1_equals_batch8", ""),
            ours.get("samples_per_s", ours.get("skipped", ours.get("error", ""))[:60]),
            ours.get("raw_samples_per_s", ""),
            ours.get("identical_to_hf", ""),
        ]
        lines.append(f"| {model} | " + " | ".join(str(c) for c in cells) + " |")
    shards = report["shards"] or {}
    lines += ["", f"Shards: {json.dumps(shards)[:300]}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cpu", action="store_true", help="dry run on CPU (float32, few samples)")
    parser.add_argument("--limit", type=int, default=None, help="samples per subset (default 8; --cpu: 1)")
    parser.add_argument("--tokens", type=int, default=None, help="new tokens (default 32; --cpu: 4)")
    parser.add_argument("--models", nargs="*", default=list(TINY))
    parser.add_argument("--eager", action="store_true", help="backend.enforce_eager=true (faster vLLM start)")
    parser.add_argument("--shards", type=int, default=0, help="shard processes (default: one per visible GPU)")
    args = parser.parse_args(argv)
    args.limit = args.limit or (1 if args.cpu else 8)
    args.tokens = args.tokens or (4 if args.cpu else 32)
    started = time.perf_counter()
    report = run_checks(args)
    report["total_s"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "gpu_check.md").write_text(summary(report))
    print(summary(report))
    failed = [f"{side}/{m}" for side in ("hf", "vllm") for m, e in report[side].items() if "error" in e]
    unequal = [m for m, e in report["hf"].items() if e.get("batch1_equals_batch8") is False]
    if report["shards"].get("identical_to_one_process") is False or "error" in report["shards"]:
        unequal.append("shards")
    if failed or unequal:
        print(f"FAILED: {failed} errors; batch 1 != batch 8: {unequal}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # vLLM starts its engine in child processes
    sys.exit(main())

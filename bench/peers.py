"""Benchmark: sarbench vs its peers on the same work, on the same machine, in one run.

The tiny random-weight Qwen2-VL (sarbench's offline builder) answers the bundled sample (425
samples, 9 subsets), greedy, the same number of new tokens, through:

- sarbench, backend=hf (batched, runner.batch_size) and backend=vllm;
- lmms-eval 0.7.3, its `qwen2_vl` HF model on a local task (bench/peers/export_samples.py exports
  the sample through sarbench's loader), at each --lmms-batch, and its `vllm` model;
- the VLMEvalKit pattern: one `LLM.generate` per sample (bench/peers/per_sample_vllm.py).

Every system is a subprocess of .venv-peers (bash bench/setup_peers.sh), so torch,
transformers and vLLM are the same build for all. Per system: wall time from process start to
exit, time until its first answer is on disk, peak RSS of its process tree (sampled every 0.1 s
from /proc), samples/s (samples / wall), the speed-up of sarbench with the same backend
(its samples/s / the peer's), and how many answers equal sarbench's with the same backend.
Each system starts with empty compile caches of its own (`cold_caches`), as on a first run.

    python bench/peers.py [--tokens 32] [--limit N] [--sarbench-batch 8] [--lmms-batch 1 8 16]
                          [--systems ...] [--keep DIR] [--record]

--record appends the table to the "sarbench vs peers" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "bench" / "peers"
SECTION = "\n## sarbench vs peers (P13)\n"


@dataclass
class System:
    name: str
    backend: str  # hf or vllm: which sarbench row it is compared with
    command: list[str]
    folder: Path  # where it writes its answers
    results: str  # glob (under the system's folder) of the files its answers are written to
    read: str  # how to read them: sarbench, lmms or lines
    figures: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)


def tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def has_result(folder: Path, pattern: str) -> bool:
    return any(path.stat().st_size > 0 for path in folder.glob(pattern))


def measure(system: System, env: dict, log: Path, ids: list[str]) -> None:
    folder = system.folder
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    first, peak = None, 0
    with log.open("w") as out:
        process = subprocess.Popen(system.command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            if first is None and has_result(folder, system.results):
                first = time.perf_counter() - start
            time.sleep(0.1)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"{system.name} failed (exit {process.returncode}); log {log}:\n{tail}")
    system.figures = {"wall_s": wall, "first_result_s": first if first is not None else wall, "peak_rss": peak}
    system.answers = read_answers(folder, system, ids)
    if not system.answers:  # lmms-eval exits 0 after logging an error
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"{system.name} wrote no answers; log {log}:\n{tail}")


def read_answers(folder: Path, system: System, ids: list[str]) -> dict[str, str]:
    answers = {}
    for path in sorted(folder.glob(system.results)):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if system.read == "lmms":  # doc_id: the row of samples.jsonl
                response = record["filtered_resps"]
                answers[ids[record["doc_id"]]] = response[0] if isinstance(response, list) else response
            else:
                answers[record["id"]] = record.get("raw_response", record["response"])
    return {key: value.strip() for key, value in answers.items()}


def cold_caches(env: dict, folder: Path) -> dict:
    """`env` with empty compile caches of the system's own: vLLM's torch.compile artefacts and
    Inductor's kernels are keyed by model and engine arguments, so a system run after another with
    the same ones would otherwise start ~20 s sooner from the first one's cache."""
    return {**env, "VLLM_CACHE_ROOT": str(folder / "vllm"), "TORCHINDUCTOR_CACHE_DIR": str(folder / "inductor")}


def systems(args, python: str, work: Path, model: Path, pixels: dict) -> list[System]:
    limit = [f"runner.limit={args.limit}"] if args.limit else []
    ours = [python, "-m", "sarbench", "model=tiny-qwen2vl", "task=all", f"task.max_new_tokens={args.tokens}",
            "scoring.meteor=false", "runner.progress=false", "runner.overwrite=true", *limit]  # fmt: skip
    eager = ["backend.enforce_eager=true"] if args.eager else []
    lmms = [python, "-m", "lmms_eval", "--tasks", "sarbench_sample", "--include_path", str(work / "task"),
            "--log_samples", "--verbosity", "WARNING"]  # fmt: skip
    pixel_args = f"max_pixels={pixels['max']},min_pixels={pixels['min']}"
    found = []
    for batch in args.sarbench_batch:
        out = work / f"sarbench-hf-b{batch}"
        command = [*ours, "backend=hf", f"runner.batch_size={batch}", f"out={out}"]
        found.append(System(f"sarbench hf, batch {batch}", "hf", command, out, "predictions/*.jsonl", "sarbench"))
    for batch in args.lmms_batch:
        out = work / f"lmms-hf-b{batch}"
        model_args = f"pretrained={model},device_map=cpu,{pixel_args}"
        command = [*lmms, "--model", "qwen2_vl", "--model_args", model_args, "--batch_size", str(batch),
                   "--device", "cpu", "--output_path", str(out)]  # fmt: skip
        found.append(
            System(f"lmms-eval qwen2_vl (HF), batch {batch}", "hf", command, out, "**/*_samples_*.jsonl", "lmms")
        )
    out = work / "sarbench-vllm"
    found.append(
        System(
            "sarbench vllm",
            "vllm",
            [*ours, "backend=vllm", *eager, f"out={out}"],
            out,
            "predictions/*.jsonl",
            "sarbench",
        )
    )
    out = work / "lmms-vllm"
    model_args = (
        f"model={model},max_new_tokens={args.tokens},kv_cache_memory_bytes={2 << 30},dtype=float32,"
        f"max_pixels={pixels['max']},min_image_pixels=28,enforce_eager={args.eager}"
    )
    command = [*lmms, "--model", "vllm", "--model_args", model_args, "--batch_size", str(args.lmms_vllm_batch),
               "--output_path", str(out)]  # fmt: skip
    found.append(
        System(f"lmms-eval vllm, batch {args.lmms_vllm_batch}", "vllm", command, out, "**/*_samples_*.jsonl", "lmms")
    )
    out = work / "per-sample"
    command = [python, str(PEERS / "per_sample_vllm.py"), str(out / "answers.jsonl"), f"--max-new-tokens={args.tokens}",
               *([f"--limit={args.limit}"] if args.limit else []), *(["--eager"] if args.eager else [])]  # fmt: skip
    found.append(System("VLMEvalKit pattern: LLM.generate per sample", "vllm", command, out, "answers.jsonl", "lines"))
    return [s for s in found if not args.systems or any(key in s.name for key in args.systems)]


def prepare(python: str, work: Path, env: dict, args) -> tuple[Path, dict, list[str]]:
    """Export the sample as the lmms-eval task; build (or find) the tiny checkpoint."""
    limit = [f"--limit={args.limit}"] if args.limit else []
    subprocess.run([python, str(PEERS / "export_samples.py"), str(work / "task"), f"--max-new-tokens={args.tokens}",
                    *limit], check=True, env=env, cwd=ROOT)  # fmt: skip
    model = json.loads((work / "task" / "model.json").read_text())
    ids = [json.loads(line)["id"] for line in (work / "task" / "samples.jsonl").read_text().splitlines()]
    return Path(model["path"]), {"max": model["max_pixels"], "min": model["min_pixels"]}, ids


def table(found: list[System], samples: int) -> list[str]:
    best = {}
    for s in found:
        fastest = best.get(s.backend)
        if s.name.startswith("sarbench") and (fastest is None or s.figures["wall_s"] < fastest.figures["wall_s"]):
            best[s.backend] = s
    rows = [
        "| system | backend | samples | wall s | first result s | peak RSS MiB | samples/s | sarbench speed-up "
        "| answers = sarbench |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in found:
        f, ref = s.figures, best.get(s.backend)
        rate = samples / f["wall_s"]
        ratio = f"{f['wall_s'] / ref.figures['wall_s']:.2f}x" if ref else "–"
        same = f"{sum(s.answers.get(k) == v for k, v in ref.answers.items())}/{len(ref.answers)}" if ref else "–"
        rows.append(
            f"| {s.name} | {s.backend} | {len(s.answers)} | {f['wall_s']:.1f} | {f['first_result_s']:.1f} | "
            f"{f['peak_rss'] / 2**20:.0f} | {rate:.2f} | {ratio} | {same} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv-peers")
    parser.add_argument("--tokens", type=int, default=32, help="max new tokens (greedy, EOS ends earlier)")
    parser.add_argument("--limit", type=int, default=None, help="first N samples of each subset")
    parser.add_argument("--sarbench-batch", type=int, nargs="+", default=[8])
    parser.add_argument("--lmms-batch", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--lmms-vllm-batch", type=int, default=64)
    parser.add_argument("--eager", action="store_true", help="vLLM rows: enforce_eager (no torch.compile)")
    parser.add_argument("--systems", nargs="*", help="run only the systems whose name contains one of these")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()

    python = str(args.venv / "bin" / "python")
    if not Path(python).exists():
        raise SystemExit(f"no {python}: run `bash bench/setup_peers.sh` first")
    work = args.keep or Path(tempfile.mkdtemp(prefix="sarbench-peers-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_CACHE": str(work / "datasets-cache"),
           "WANDB_MODE": "disabled", "TOKENIZERS_PARALLELISM": "false",
           "SARBENCH_TINY_CACHE": str(work / "tiny")}  # fmt: skip  # one fresh build for every system
    model, pixels, ids = prepare(python, work, env, args)
    samples = len(ids)
    found = systems(args, python, work, model, pixels)
    loads = []
    for system in found:
        print(f"running {system.name} ...", file=sys.stderr, flush=True)
        loads.append(os.getloadavg()[0])
        measure(system, cold_caches(env, work / f"caches-{len(loads)}"), work / f"{len(loads)}.log", ids)
    rows = table(found, samples)
    note = (
        f"{samples} samples, up to {args.tokens} new tokens (greedy), {platform.machine()} {os.cpu_count()} cores, "
        f"load average at each start {', '.join(f'{x:.1f}' for x in loads)}; work folder {work}"
    )
    print("\n".join(rows) + "\n\n" + note)
    if args.record:
        results = ROOT / "bench" / "RESULTS.md"
        text = results.read_text()
        if SECTION not in text:
            raise SystemExit(f"{results} has no section {SECTION.strip()!r} to add the table to")
        start = text.index(SECTION) + len(SECTION)
        end = text.find("\n## ", start)
        end = len(text) if end < 0 else end
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        run = f"\n\nRun of {stamp}: {note.split('; work')[0]}.\n\n" + "\n".join(rows) + "\n"
        text = text[:end].rstrip("\n") + run + text[end:]
        results.write_text(text)


if __name__ == "__main__":
    main()

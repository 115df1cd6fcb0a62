"""Export sarbench's bundled sample as a local lmms-eval task (no hub): bench/peers.py runs it.

Writes into OUT:
- samples.jsonl: one line per sample, read by `datasets.load_dataset("json")` through the task:
  the sample's id, subset, question (the user text exactly as sarbench's loader gives it, without
  the `<image>` tag), the resolved image path and the reference answer;
- sarbench_sample.yaml: the lmms-eval task, rendered from sarbench_sample.yaml.in beside this file
  with the absolute path of samples.jsonl and the number of new tokens;
- utils.py: the task's functions (a copy of lmms_task_utils.py beside this file);
- model.json: the tiny Qwen2-VL checkpoint every system loads (built by sarbench's builder if
  absent) and its image processor's pixel budget, which peers must be given (lmms-eval's
  qwen2_vl model otherwise overrides it with its own default of 602,112 pixels).

    python bench/peers/export_samples.py OUT [--max-new-tokens 32] [--limit N]

`--limit N` keeps the first N samples of each subset (as runner.limit does).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
TASK = "sarbench_sample"


def sample_rows(limit: int | None = None) -> list[dict]:
    """The bundled sample through sarbench's own loader, in its subset and id order."""
    from sarbench.build import sample_data_dir
    from sarbench.data import load_dataset

    root = sample_data_dir()
    dataset = load_dataset(root, root)
    if dataset.issues:
        raise SystemExit(f"the bundled sample has malformed records: {dataset.issues[:3]}")
    rows = []
    for subset, samples in dataset.samples.items():
        for sample in samples[:limit]:
            rows.append(
                {
                    "id": sample.id,
                    "subset": subset,
                    "question": sample.prompt,
                    "image": str(Path(sample.image).resolve()),
                    "reference": sample.reference,
                }
            )
    return rows


def export(out: Path, max_new_tokens: int, limit: int | None = None) -> list[dict]:
    rows = sample_rows(limit)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "samples.jsonl"
    data.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    template = (HERE / f"{TASK}.yaml.in").read_text(encoding="utf-8")
    task = template.replace("@DATA_FILE@", json.dumps(str(data))).replace("@MAX_NEW_TOKENS@", str(max_new_tokens))
    (out / f"{TASK}.yaml").write_text(task, encoding="utf-8")
    shutil.copyfile(HERE / "lmms_task_utils.py", out / "utils.py")
    return rows


def tiny_model() -> dict:
    """The checkpoint `model=tiny-qwen2vl` loads, and its image processor's min/max pixels."""
    from model_adapters.tiny import ensure_tiny_model

    path = ensure_tiny_model("qwen2_vl")
    config = json.loads((path / "processor_config.json").read_text())["image_processor"]
    return {
        "path": str(path),
        "min_pixels": config["size"]["shortest_edge"],
        "max_pixels": config["size"]["longest_edge"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    rows = export(args.out, args.max_new_tokens, args.limit)
    (args.out / "model.json").write_text(json.dumps(tiny_model()))
    print(f"{len(rows)} samples -> {args.out / 'samples.jsonl'}; task {TASK} in {args.out}")


if __name__ == "__main__":
    main()

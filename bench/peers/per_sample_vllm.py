"""The VLMEvalKit pattern on vLLM: one `LLM.generate([request])` per sample, batch 1.

VLMEvalKit's Qwen2-VL model with `use_vllm=True` calls `LLM.generate` once per sample from its
inference loop; this script does the same on sarbench's engine settings and prompts (so the only
difference from `backend=vllm` is how requests reach the engine), appending each answer to
OUT as a JSON line as soon as it is made. Run it in .venv-peers (bench/peers.py does).

    python bench/peers/per_sample_vllm.py OUT --max-new-tokens 32 [--limit N] [--eager]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--eager", action="store_true", help="enforce_eager (no torch.compile)")
    args = parser.parse_args()

    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf
    from vllm import SamplingParams

    from model_adapters import GenerationRequest
    from sarbench.__main__ import CONF_DIR
    from sarbench.evaluate import build_adapter, load_run_data
    from sarbench.images import load_image

    overrides = ["model=tiny-qwen2vl", "task=all", "backend=vllm", f"backend.enforce_eager={str(args.eager).lower()}"]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        config = compose(config_name="config", overrides=overrides)
    plain = lambda group: OmegaConf.to_container(group, resolve=True)  # noqa: E731
    adapter = build_adapter(plain(config.model), "vllm", plain(config.backend))
    adapter.load()
    data = load_run_data(plain(config.data), list(config.task.subsets))
    params = SamplingParams(temperature=0.0, max_tokens=args.max_new_tokens)
    tokenizer = adapter.engine.get_tokenizer()
    with args.out.open("w", encoding="utf-8") as out:
        for samples in data.samples.values():
            for s in samples[: args.limit]:
                request = GenerationRequest(s.id, s.subset, s.prompt, s.image, load_image(s.image), args.max_new_tokens)
                output = adapter.engine.generate([adapter.engine_prompt(request)], params, use_tqdm=False)[0]
                text = tokenizer.decode(list(output.outputs[0].token_ids), skip_special_tokens=True).strip()
                out.write(json.dumps({"id": s.id, "response": text}) + "\n")
                out.flush()
    adapter.close()


if __name__ == "__main__":  # vLLM starts its engine in child processes
    main()

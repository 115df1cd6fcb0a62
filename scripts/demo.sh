#!/usr/bin/env bash
# Set up a virtual environment (Python 3.11) and run the demo: a real (tiny, random-weight)
# Qwen2-VL checkpoint, built offline on first use, evaluated on the bundled sample through the
# batched HF backend. Extra arguments are Hydra overrides, e.g. `bash scripts/demo.sh model=oracle`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh hf
# 64 new tokens: random weights only produce filler, so longer answers would only cost time.
.venv/bin/python -m sarbench model=tiny-qwen2vl task=all task.max_new_tokens=64 "$@"

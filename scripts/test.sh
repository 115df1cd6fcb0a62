#!/usr/bin/env bash
# Set up a virtual environment (Python 3.11), run ruff, then the whole CPU test suite; then, when no
# arguments narrow the run, the vLLM tier in its own environment (.venv-vllm, see
# scripts/setup_vllm_env.sh; SARBENCH_VLLM_TIER=0 skips it) and the ms-swift prompt tier (.venv-swift,
# scripts/setup_swift_env.sh; SARBENCH_SWIFT_TIER=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh test,hf  # both set-up scripts take $PYTHON (default python3.11)
# lint and formatting first (seconds, before the minutes of pytest; config in pyproject.toml)
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
if [ $# -eq 0 ] && [ "${SARBENCH_VLLM_TIER:-1}" != 0 ]; then
    bash scripts/setup_vllm_env.sh
    .venv-vllm/bin/python -m pytest tests/test_vllm_backend.py tests/test_internvl_layout.py \
        tests/test_deepseek_vl2_layout.py tests/test_gpu_check.py tests/test_openai_server.py
fi
if [ $# -eq 0 ] && [ "${SARBENCH_SWIFT_TIER:-1}" != 0 ]; then
    bash scripts/setup_swift_env.sh  # ms-swift 4.6 prompt tier (SARBENCH_SWIFT_TIER=0 skips it)
    .venv-swift/bin/python -m pytest tests/test_swift_prompts.py
fi

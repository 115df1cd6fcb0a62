#!/usr/bin/env bash
# Set up a virtual environment (Python 3.11) and run the whole CPU test suite; then, when no
# arguments narrow the run, the vLLM tier in its own environment (.venv-vllm, see
# scripts/setup_vllm_env.sh; SARBENCH_VLLM_TIER=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --upgrade pip
# backend=hf tests (tiny offline models): torch and torchvision as a pair that load together
.venv/bin/pip install -q torch==2.14.1 torchvision==0.29.1
.venv/bin/pip install -q -e ".[test,hf]"
.venv/bin/python -m pytest "$@"
if [ $# -eq 0 ] && [ "${SARBENCH_VLLM_TIER:-1}" != 0 ]; then
    PYTHON="$PYTHON" bash scripts/setup_vllm_env.sh
    .venv-vllm/bin/python -m pytest tests/test_vllm_backend.py
fi

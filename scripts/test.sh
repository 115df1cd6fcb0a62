#!/usr/bin/env bash
# Set up a virtual environment (Python 3.11) and run the whole CPU test suite.
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

#!/usr/bin/env bash
# The main virtual environment: .venv (Python 3.11) with sarbench installed editable with the
# extras given as the first argument, e.g. `hf` (demo) or `test,hf` (tests).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --upgrade pip
# torch and torchvision as a pair that load together (../shared/ENVIRONMENT.md)
.venv/bin/pip install -q torch==2.14.1 torchvision==0.29.1
.venv/bin/pip install -q -e ".[${1:?extras, e.g. hf}]"

